from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "gasworks.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from gasworks.accounts.roles import extend
        from gasworks.billing import ledger, params, web_hooks  # noqa: F401  (registers parameters)
        from gasworks.customers.balance import register_provider

        register_provider(ledger.balance, ledger.entries)
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
        web_hooks.install()
        self._wire_payments()
        self._wire_metering()

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

    @staticmethod
    def _wire_metering() -> None:
        """Prepaid accounts are charged as their readings arrive (billing reads metering)."""
        from gasworks.billing import prepaid
        from gasworks.metering import events

        if prepaid.charge_arrived not in events.ARRIVAL_LISTENERS:
            events.ARRIVAL_LISTENERS.append(prepaid.charge_arrived)

    @staticmethod
    def _wire_payments() -> None:
        """Payments posts to billing's ledger; billing tells the counter what is due and how
        much gas an IC-card top-up buys (billing knows the tariffs)."""
        from gasworks.billing import due, topup
        from gasworks.payments import cards, services

        if due.due_lines not in services.DUE_PROVIDERS:
            services.DUE_PROVIDERS.append(due.due_lines)
        cards.VOLUME_FOR_AMOUNT = topup.volume_for_amount
