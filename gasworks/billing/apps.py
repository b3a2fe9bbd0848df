from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "gasworks.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from gasworks.accounts.roles import extend
        from gasworks.billing import params, web_hooks  # noqa: F401  (registers parameters)

        self._wire_audit()
        extend(
            "cashier",
            "billing.view_tariff",
            "billing.view_bill",
            "billing.view_billingrun",
            "billing.view_billreview",
            "billing.view_account",
            "billing.view_ledgerentry",
            "billing.view_adjustment",
            "billing.add_adjustment",
        )
        # The station manager approves the adjustments above the threshold.
        extend("manager", "billing.approve_adjustment")
        web_hooks.install()
        self._wire_portal()
        from gasworks.billing.models import LedgerEntry
        from gasworks.lib import partitions

        # Never detached: an account's balance is the sum of all its entries.
        partitions.register(LedgerEntry, "created_at", detachable=False)

    @staticmethod
    def _wire_portal() -> None:
        from gasworks.billing.portal_panels import PANELS
        from gasworks.web import views

        for panel in PANELS:
            if panel not in views.PORTAL_SECTIONS:
                views.PORTAL_SECTIONS.append(panel)

    @staticmethod
    def _wire_audit() -> None:
        """The ledger is listed in the audit log as the record of money moved; tariffs,
        adjustments and runs are watched (run status moves and review decisions are recorded
        by their services, which update without saving)."""
        from gasworks.billing import auditlog
        from gasworks.billing.models import Adjustment, BillingRun, PriceVersion, Tariff
        from gasworks.system import audit

        auditlog.install()
        for model in (Tariff, PriceVersion, Adjustment, BillingRun):
            audit.watch(model)
