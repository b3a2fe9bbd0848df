"""Parameters of the collections ladder: the days overdue of each step, and the least debt a
disconnection is ordered for."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from gasworks.system.parameters import GROUP_LABELS, Spec, register

GROUP_LABELS.setdefault("collections", _("Debt collection"))

register(
    Spec(
        "collections_reminder_days",
        int,
        15,
        _("Send a payment reminder this many days after the due date"),
        "collections",
        Decimal("1"),
    ),
    Spec(
        "collections_final_notice_days",
        int,
        30,
        _("Send a final notice this many days after the due date"),
        "collections",
        Decimal("1"),
    ),
    Spec(
        "collections_disconnection_days",
        int,
        45,
        _("Order a disconnection this many days after the due date"),
        "collections",
        Decimal("1"),
    ),
    Spec(
        "collections_disconnection_min_debt",
        Decimal,
        Decimal("200"),
        _("Order a disconnection only for an overdue debt of at least this amount (CNY)"),
        "collections",
        Decimal("0"),
    ),
)
