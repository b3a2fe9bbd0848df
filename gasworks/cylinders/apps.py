from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CylindersConfig(AppConfig):
    name = "gasworks.cylinders"
    label = "cylinders"
    verbose_name = _("LPG cylinders")

    def ready(self):
        from gasworks.accounts.roles import extend
        from gasworks.cylinders import rules  # noqa: F401  (registers the parameters)
        from gasworks.cylinders.models import (
            CylinderInspection,
            CylinderReturn,
            LpgOrder,
            LpgPrice,
            Station,
        )
        from gasworks.system import audit
        from gasworks.web import navigation
        from gasworks.web.navigation import Item

        extend("filler", "cylinders.view_cylinder", "cylinders.fill_cylinder")
        extend(
            "dispatcher",
            "cylinders.view_cylinder",
            "cylinders.view_lpgorder",
            "cylinders.add_lpgorder",
            "cylinders.dispatch_lpgorder",
            "cylinders.view_lpgprice",
            "cylinders.view_cylinderreturn",
            "cylinders.add_cylinderreturn",
        )
        # The cashier takes cylinders back for good at the counter and hands the deposit back.
        extend("cashier", "cylinders.view_cylinderreturn", "cylinders.add_cylinderreturn")
        navigation.register(
            Item(_("Filling"), "cylinders:fill", "cylinders.fill_cylinder", icon="speedometer")
        )
        navigation.register(
            Item(_("Cylinders"), "cylinders:list", "cylinders.view_cylinder", icon="fuel-pump")
        )
        navigation.register(
            Item(_("LPG orders"), "cylinders:orders", "cylinders.view_lpgorder", icon="truck")
        )
        navigation.register(
            Item(
                _("Cylinder inspection"),
                "cylinders:due",
                "cylinders.inspect_cylinder",
                icon="clipboard-check",
            )
        )
        navigation.register(Item(_("LPG orders"), "cylinders:my-orders", customer=True, icon="fire"))
        for model in (Station, LpgPrice, LpgOrder, CylinderInspection, CylinderReturn):
            audit.watch(model)

        from gasworks.customers.management.commands.seed_demo import EXTRA_SEEDERS
        from gasworks.cylinders.demo import seed

        if seed not in EXTRA_SEEDERS:
            EXTRA_SEEDERS.append(seed)

        from gasworks.cylinders.views import customer_section
        from gasworks.web.views import CUSTOMER_SECTIONS

        if customer_section not in CUSTOMER_SECTIONS:
            CUSTOMER_SECTIONS.append(customer_section)
