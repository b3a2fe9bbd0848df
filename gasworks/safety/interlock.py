"""The supply interlock: one service that supply actions (LPG delivery, IC-card top-up) call
before they act. The safety app owns the rule (an open major hazard blocks supply)."""

from django.utils.translation import gettext as _

from gasworks.errors import DomainError


class SupplyBlocked(DomainError):
    pass


def check_supply_allowed(customer) -> None:
    """Raise SupplyBlocked (code "supply_blocked", HTTP 409) when the customer may not be supplied."""
    # The safety issue fills in the hazard rule here; until then nothing blocks supply.
    reasons: list[str] = []
    if reasons:
        raise SupplyBlocked("supply_blocked", _("Supply is blocked: %(why)s") % {"why": "; ".join(reasons)})
