from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArrangementsConfig(AppConfig):
    name = "gasworks.arrangements"
    label = "arrangements"
    verbose_name = _("Payment arrangements")

    def ready(self):
        from gasworks.accounts import roles

        roles.admin_app(self.label)
