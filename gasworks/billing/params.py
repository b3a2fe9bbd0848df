"""Billing parameters beyond the foundation's (late fees, due days, household rule)."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from gasworks.system.parameters import Spec, register

register(
    Spec(
        "billing_chunk_stall_seconds",
        int,
        300,
        _(
            "A running billing run whose chunks made no progress for this many seconds has its "
            "unfinished chunks sent again (a worker died holding one)"
        ),
        "billing",
        Decimal("10"),
    ),
    Spec(
        "bill_review_factor",
        Decimal,
        Decimal("5"),
        _("Park a bill for review when its volume exceeds this many times the account's average"),
        "billing",
        Decimal("1"),
    ),
    Spec(
        "bill_review_min_bills",
        int,
        3,
        _("Bills of history needed before the plausibility check applies"),
        "billing",
        Decimal("1"),
    ),
    Spec(
        "adjustment_approval_threshold",
        Decimal,
        Decimal("200"),
        _("Adjustments above this amount (CNY) need a second person's approval"),
        "billing",
        Decimal("0"),
    ),
)
