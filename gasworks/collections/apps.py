from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionsConfig(AppConfig):
    name = "gasworks.collections"
    label = "collections"
    verbose_name = _("Debt collection")

    def ready(self):
        from gasworks.accounts import roles

        roles.admin_app(self.label)
