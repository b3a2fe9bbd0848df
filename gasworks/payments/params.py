"""Parameters of the payments app (station settings page, group "payments")."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from gasworks.system.parameters import Spec, register

register(
    Spec(
        "refund_approval_threshold",
        Decimal,
        Decimal("500"),
        _("Refunds above this amount need a supervisor's approval"),
        "payments",
        Decimal("0"),
    ),
    Spec(
        "payment_order_expiry_minutes",
        int,
        30,
        _("Minutes an unpaid online order stays open"),
        "payments",
        Decimal("1"),
    ),
    Spec(
        "refund_reconcile_after_minutes",
        int,
        5,
        _("Minutes after which reconciliation asks the gateway about a refund still processing"),
        "payments",
        Decimal("1"),
    ),
    Spec(
        "counter_max_amount",
        Decimal,
        Decimal("100000"),
        _("Largest single counter payment"),
        "payments",
        Decimal("1"),
    ),
)
