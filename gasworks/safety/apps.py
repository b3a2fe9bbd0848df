from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SafetyConfig(AppConfig):
    name = "gasworks.safety"
    label = "safety"
    verbose_name = _("Safety")

    def ready(self) -> None:
        from gasworks.safety import (
            params,  # noqa: F401  (registers the parameters)
            wiring,
        )

        wiring.connect()
