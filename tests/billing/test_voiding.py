"""Voiding a bill: its charge is reversed in the ledger, it counts nowhere, once only."""

from decimal import Decimal

import pytest
import time_machine

from gasworks.billing import ledger, runs, voiding
from gasworks.billing.models import Bill, BillStatus, EntryKind, LedgerEntry
from gasworks.billing.verify import verify_ledger
from gasworks.errors import DomainError, InvalidInput
from tests.billing.helpers import beijing, local, read
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_a_void_bill_is_reversed_in_the_ledger_once():
    beijing()
    customer = make_customer()
    read(customer, 100, local(2026, 10, 10))
    with time_machine.travel(local(2026, 11, 2), tick=False):
        runs.execute(runs.start_run("2026-10"))
    bill = Bill.objects.get(customer=customer)
    assert ledger.balance(customer) == Decimal("-261.00")
    with pytest.raises(InvalidInput):
        voiding.void_bill(bill, "  ")
    voiding.void_bill(bill, "read on the wrong meter")
    bill.refresh_from_db()
    assert bill.status == BillStatus.VOID and bill.voided_at is not None
    assert ledger.balance(customer) == Decimal("0.00")
    reversal = LedgerEntry.objects.get(kind=EntryKind.REVERSAL)
    assert reversal.reverses.idempotency_key == f"bill:{bill.pk}" and reversal.amount == Decimal("261.00")
    with pytest.raises(DomainError):
        voiding.void_bill(bill, "again")
    assert LedgerEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 1
    assert verify_ledger()[1] == []
