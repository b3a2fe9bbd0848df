from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "gasworks.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from gasworks.notifications import params, wiring  # noqa: F401  (parameters register on import)

        wiring.connect()
        from gasworks.lib import partitions
        from gasworks.notifications.models import Message

        # The outbox grows with the bills (two or three messages a bill a month): partitioned by
        # month like readings, old months detachable (the partitions_keep_months parameter). A
        # message's key is unique per customer within its month by index, across months by the
        # writer (store.py).
        partitions.register(Message, "created_at", detachable=True, local_unique=LOCAL_UNIQUE)


LOCAL_UNIQUE = (("customer_id", "key"),)
