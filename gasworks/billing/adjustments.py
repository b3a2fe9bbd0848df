"""Manual adjustments of an account: a reason always; above a threshold a second person
approves before the entry is posted."""

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from gasworks.billing import ledger
from gasworks.billing.models import Adjustment, AdjustmentStatus, EntryKind
from gasworks.errors import DomainError, InvalidInput, NotAllowed
from gasworks.lib.money import round_money
from gasworks.system import parameters


def request_adjustment(customer, amount, reason: str, by) -> Adjustment:
    try:
        amount = round_money(amount)
    except (TypeError, ValueError):
        raise InvalidInput(
            "invalid_amount", _("Give the amount as a number."), fields={"amount": [_("Not a number.")]}
        ) from None
    if amount == 0:
        raise InvalidInput(
            "zero_amount", _("The amount must not be zero."), fields={"amount": [_("Not zero.")]}
        )
    if not (reason or "").strip():
        raise InvalidInput(
            "reason_required", _("Give a reason for the adjustment."), fields={"reason": [_("Required.")]}
        )
    threshold = Decimal(parameters.get("adjustment_approval_threshold"))
    with transaction.atomic():
        adjustment = Adjustment.objects.create(
            customer=customer, amount=amount, reason=reason.strip(), requested_by=by
        )
        if abs(amount) <= threshold:
            _post(adjustment, by)
    return adjustment


def approve_adjustment(adjustment: Adjustment, by) -> Adjustment:
    with transaction.atomic():
        adjustment = Adjustment.objects.select_for_update().get(pk=adjustment.pk)
        if adjustment.status != AdjustmentStatus.PENDING:
            raise DomainError("adjustment_decided", _("This adjustment is already decided."))
        if by is not None and adjustment.requested_by_id == by.pk:
            raise NotAllowed("second_person_required", _("Another person must approve your own adjustment."))
        adjustment.approved_by = by
        _post(adjustment, by)
    return adjustment


def reject_adjustment(adjustment: Adjustment, by) -> None:
    with transaction.atomic():
        adjustment = Adjustment.objects.select_for_update().get(pk=adjustment.pk)
        if adjustment.status != AdjustmentStatus.PENDING:
            raise DomainError("adjustment_decided", _("This adjustment is already decided."))
        adjustment.status = AdjustmentStatus.REJECTED
        adjustment.approved_by = by
        adjustment.save(update_fields=["status", "approved_by"])


def _post(adjustment: Adjustment, by) -> None:
    adjustment.entry = ledger.post(
        adjustment.customer,
        EntryKind.ADJUSTMENT,
        adjustment.amount,
        reference=adjustment.reason,
        idempotency_key=f"adjustment:{adjustment.pk}",
        by=by,
    )
    adjustment.status = AdjustmentStatus.POSTED
    adjustment.save(update_fields=["entry", "status", "approved_by"])
