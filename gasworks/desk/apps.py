from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    name = "gasworks.desk"
    label = "desk"
    verbose_name = _("Service desk")

    def ready(self):
        from gasworks.accounts import roles

        roles.admin_app(self.label)
