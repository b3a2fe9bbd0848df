from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "gasworks.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from gasworks.notifications import params, wiring  # noqa: F401  (parameters register on import)

        wiring.connect()
