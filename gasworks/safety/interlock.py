"""The supply interlock: one service that supply actions (LPG delivery, IC-card top-up) call
before they act. The safety app owns the rule: an unclosed major hazard blocks supply, unless an
administrator has overridden that hazard (with a reason, audited) — the override lasts until the
hazard is closed or the override is revoked; a new major hazard blocks again."""

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.errors import DomainError, InvalidInput, NotAllowed
from gasworks.system import audit


class SupplyBlocked(DomainError):
    pass


def blocking_hazards(customer):
    """Unclosed major hazards of the customer without a live override, oldest first."""
    from gasworks.safety.models import UNCLOSED_HAZARD_STATUSES, Hazard, HazardLevel, SupplyOverride

    live_override = SupplyOverride.objects.filter(hazard=OuterRef("pk"), revoked_at__isnull=True)
    return (
        Hazard.objects.filter(customer=customer, level=HazardLevel.MAJOR, status__in=UNCLOSED_HAZARD_STATUSES)
        .exclude(Exists(live_override))
        .order_by("raised_at", "pk")
    )


def supply_block_reason(customer) -> str | None:
    """Why supply to the customer is blocked, for any page about them; None when it is not."""
    hazards = list(blocking_hazards(customer)[:5])
    if not hazards:
        return None
    listed = "; ".join(
        _("%(no)s (deadline %(deadline)s): %(what)s")
        % {"no": h.notice_no, "deadline": h.deadline.isoformat(), "what": h.description[:80]}
        for h in hazards
    )
    return _("Open major hazard — supply is blocked until it is closed: %(list)s") % {"list": listed}


def check_supply_allowed(customer) -> None:
    """Raise SupplyBlocked (code "supply_blocked", HTTP 409) when the customer may not be supplied."""
    reason = supply_block_reason(customer)
    if reason:
        raise SupplyBlocked("supply_blocked", reason)


def grant_override(hazard, reason: str, *, by):
    """An administrator lets supply go on despite this major hazard. Audited."""
    from gasworks.safety.models import UNCLOSED_HAZARD_STATUSES, HazardLevel, SupplyOverride

    if not (by and by.has_perm("safety.add_supplyoverride")):
        raise NotAllowed("not_allowed", _("Only an administrator may override the supply interlock."))
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise InvalidInput(
            "reason_required",
            _("Give a reason for the override (at least 5 characters)."),
            {"reason": [_("Give a reason.")]},
        )
    if hazard.level != HazardLevel.MAJOR or hazard.status not in UNCLOSED_HAZARD_STATUSES:
        raise DomainError("nothing_to_override", _("Only an unclosed major hazard blocks supply."))
    try:
        with transaction.atomic():
            override = SupplyOverride.objects.create(
                hazard=hazard, reason=reason, granted_by=by, granted_at=timezone.now()
            )
            audit.record(
                "action",
                hazard,
                None,
                {"override": override.pk, "reason": reason},
                note=f"supply interlock overridden: {reason}",
                actor=by,
            )
    except IntegrityError as exc:
        raise DomainError("override_exists", _("This hazard is already overridden.")) from exc
    return override


def revoke_override(override, *, by):
    if not (by and by.has_perm("safety.delete_supplyoverride")):
        raise NotAllowed("not_allowed", _("Only an administrator may revoke an override."))
    with transaction.atomic():
        if override.revoked_at is None:
            override.revoked_at = timezone.now()
            override.save(update_fields=["revoked_at"])
            audit.record(
                "action", override.hazard, None, {"override": override.pk}, note="override revoked", actor=by
            )
    return override
