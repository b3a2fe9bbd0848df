from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SystemConfig(AppConfig):
    name = "gasworks.system"
    label = "system"
    verbose_name = _("System")

    def ready(self) -> None:
        from gasworks.system import audit

        audit.connect_default_models()
