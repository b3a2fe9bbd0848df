"""Voiding a bill: a bill issued in error is not deleted (its number was seen, its charge posted)
but marked void, and its charge is reversed through the ledger in the same transaction, so the
account owes it no more. A void bill counts nowhere: not in arrears, not as prior use for the
tiers, not in sales. `voided_at` records when, for summaries that find what changed since."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.billing import ledger
from gasworks.billing.models import Bill, BillStatus, EntryKind, LedgerEntry
from gasworks.errors import DomainError, InvalidInput
from gasworks.system import audit


def void_bill(bill: Bill, reason: str, by=None) -> Bill:
    """Void an issued bill and reverse its charge (the ledger entry keyed ``bill:<id>``; a bill
    of 0.00 posted none). A second void is refused."""
    if not (reason or "").strip():
        raise InvalidInput("reason_required", _("Give a reason for voiding the bill."))
    with transaction.atomic():
        bill = Bill.objects.select_for_update().get(pk=bill.pk)
        if bill.status != BillStatus.ISSUED:
            raise DomainError("bill_not_issued", _("This bill is already void."))
        charge = LedgerEntry.objects.filter(idempotency_key=f"bill:{bill.pk}", kind=EntryKind.CHARGE).first()
        if charge is not None:
            ledger.reverse(
                charge, _("Bill %(id)s voided: %(reason)s") % {"id": bill.pk, "reason": reason}, by
            )
        now = timezone.now()
        Bill.objects.filter(pk=bill.pk).update(status=BillStatus.VOID, voided_at=now)
        audit.record(
            "update",
            bill,
            {"status": BillStatus.ISSUED.value},
            {"status": BillStatus.VOID.value},
            note=reason.strip(),
            actor=by,
        )
        bill.status, bill.voided_at = BillStatus.VOID, now
    return bill
