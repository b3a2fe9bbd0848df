from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_VIEW = ("metering.view_meter", "metering.view_reading", "metering.view_meterevent")


class MeteringConfig(AppConfig):
    name = "gasworks.metering"
    label = "metering"
    verbose_name = _("Metering")

    def ready(self) -> None:
        from gasworks.accounts.roles import extend
        from gasworks.metering import hooks, params, vee  # noqa: F401  (register their parameters)

        extend("meter_reader", *_VIEW, "metering.add_reading", "metering.view_readingroute")
        extend("cashier", *_VIEW)
        extend("inspector", *_VIEW, "metering.view_tamperalert")
        hooks.connect()
        from gasworks.lib import partitions
        from gasworks.metering.models import Reading

        # Old months of readings may be detached (the partitions_keep_months parameter).
        partitions.register(Reading, "taken_at", detachable=True)
        from gasworks.web.navigation import Item, register

        # The customer's self-reading (自报读数) page in the portal.
        register(Item(_("Send a meter reading"), "metering:portal-reading", customer=True, icon="camera"))
