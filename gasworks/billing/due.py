"""What a customer owes, line by line, for the counter and the portal. Payments settle the
oldest bills first and late fees last, so the debt sits on late fees first, then on the newest
bills (the same rule as gasworks.billing.arrears)."""

from decimal import Decimal

from django.utils.translation import gettext as _

from gasworks.billing import ledger
from gasworks.billing.models import Bill, BillStatus, EntryKind, LedgerEntry
from gasworks.lib.db import DecimalSum

ZERO = Decimal("0.00")


def due_lines(customer) -> list[dict]:
    """[{"label", "amount", "due_on", "bill_id"}] summing to what the customer owes."""
    debt = -ledger.balance(customer)
    if debt <= 0:
        return []
    fees_total = -(
        LedgerEntry.objects.filter(account__customer_id=customer.pk, kind=EntryKind.LATE_FEE).aggregate(
            s=DecimalSum("amount")
        )["s"]
        or ZERO
    )
    lines: list[dict] = []
    fees = min(debt, max(fees_total, ZERO))
    left = debt - fees
    bills = Bill.objects.filter(customer_id=customer.pk, status=BillStatus.ISSUED).order_by("-period")
    for bill in bills:
        if left <= 0:
            break
        part = min(left, bill.total)
        left -= part
        lines.append(
            {
                "label": _("Gas bill %(period)s") % {"period": bill.period},
                "amount": part,
                "due_on": bill.due_on,
                "bill_id": bill.pk,
            }
        )
    lines.reverse()  # oldest first, as they are settled
    if fees > 0:
        lines.append({"label": _("Late fees"), "amount": fees, "due_on": None, "bill_id": None})
    if left > 0:
        lines.append({"label": _("Other charges"), "amount": left, "due_on": None, "bill_id": None})
    return lines


def bill_outstanding(bill: Bill) -> Decimal:
    """The unpaid part of one bill (zero when paid)."""
    for line in due_lines(bill.customer):
        if line["bill_id"] == bill.pk:
            return line["amount"]
    return ZERO
