from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "gasworks.payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from gasworks.accounts.roles import extend
        from gasworks.payments import checks, params  # noqa: F401  (registers checks, parameters)
        from gasworks.payments.models import Refund
        from gasworks.system import audit
        from gasworks.web.navigation import Item, register

        extend(
            "cashier",
            "payments.view_payment",
            "payments.add_payment",
            "payments.take_counter_payment",
            "payments.refund_payment",
            "payments.view_refund",
            "payments.view_shift",
            "payments.change_shift",
            "payments.view_iccard",
            "payments.topup_card",
            "payments.manage_card",
        )
        # The station manager approves the refunds above the threshold.
        extend("manager", "payments.approve_refund")
        register(Item(_("Counter"), "payments:counter", "payments.take_counter_payment", icon="cash-coin"))
        register(Item(_("Payments"), "payments:list", "payments.view_payment", icon="receipt"))
        register(Item(_("My shift"), "payments:shift", "payments.view_shift", icon="clock-history"))
        register(Item(_("Pay online"), "payments:my", customer=True, icon="credit-card"))
        # Payments are in the audit log through their ledger entries (no second row on the
        # counter's path); a refund's request, decision and outcome are watched here.
        audit.watch(Refund)
        _wire_generator()


def _wire_generator() -> None:
    """Benchmark payments: paid after each chunk of generated bills, shifts closed at the end
    (after billing's generator: payments comes later in app order)."""
    from gasworks.billing import generate as billing_generate
    from gasworks.customers.management.commands.generate_data import EXTRA_GENERATORS
    from gasworks.payments import generate
    from gasworks.payments.models import Payment

    if generate.pay_bills not in billing_generate.AFTER_BILLS:
        billing_generate.AFTER_BILLS.append(generate.pay_bills)
        billing_generate.AFTER_BILLS_TABLES.append(Payment)
    if generate.open_month_shifts not in billing_generate.BEFORE_MONTH:
        billing_generate.BEFORE_MONTH.append(generate.open_month_shifts)
    if generate.generate not in EXTRA_GENERATORS:
        EXTRA_GENERATORS.append(generate.generate)
