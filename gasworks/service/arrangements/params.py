"""Parameters of payment arrangements (registered on import, from wiring.connect)."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from gasworks.system.parameters import Spec, register

register(
    Spec(
        "arrangement_min_instalments",
        int,
        1,
        _("Payment arrangements: fewest instalments"),
        "billing",
        Decimal(1),
    ),
    Spec(
        "arrangement_max_instalments",
        int,
        12,
        _("Payment arrangements: most instalments"),
        "billing",
        Decimal(1),
    ),
    Spec(
        "arrangement_grace_days",
        int,
        7,
        _("Payment arrangements: days after a missed instalment before the arrangement ends"),
        "billing",
        Decimal(0),
    ),
    Spec(
        "arrangement_reminder_days",
        int,
        3,
        _("Payment arrangements: days before an instalment is due that the customer is reminded"),
        "billing",
        Decimal(0),
    ),
)
