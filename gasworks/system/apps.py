from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SystemConfig(AppConfig):
    name = "gasworks.system"
    label = "system"
    verbose_name = _("System")

    def ready(self) -> None:
        from gasworks.lib import db  # noqa: F401 - registers field__any and SQLite's exact sum
        from gasworks.system import audit

        audit.connect_default_models()
