"""Move-out and name transfer: the final reading, the final bill, the settlement, all or nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from gasworks.billing import ledger, runs
from gasworks.billing.models import Account, Bill, LedgerEntry, PrepaidCharge
from gasworks.customers.models import Customer, Status
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib import events
from gasworks.metering.models import Reading
from gasworks.payments import services as payments
from gasworks.payments.models import Refund
from gasworks.service.moveout import services
from gasworks.service.moveout.events import AccountMovedOut
from gasworks.service.moveout.models import MoveOut, Settlement
from tests.billing.helpers import local, read
from tests.moveout.helpers import HOLDER, MOVE_DAY, billed_account, order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _move_day():
    with time_machine.travel(MOVE_DAY, tick=False):
        yield


def _nothing_written(customer, readings_before):
    customer.refresh_from_db()
    assert customer.status == Status.ACTIVE
    assert not MoveOut.objects.exists()
    assert Reading.objects.count() == readings_before
    assert not Bill.objects.filter(customer=customer, period="2026-11").exists()


def test_a_move_out_bills_to_the_final_reading_on_the_year_s_prior_use_and_keeps_the_debt(personas):
    customer, meter = billed_account()
    row = services.move_out(customer, order(meter, request_id=77), by=personas["cashier"])
    bill = row.final_bill
    # 100 m³ on top of 300 used this year: 50 × 2.61 + 50 × 2.83 (domain.md's worked example).
    assert (bill.period, bill.volume, bill.total) == ("2026-11", Decimal("100.000"), Decimal("272.00"))
    assert (str(bill.period_start), str(bill.period_end)) == ("2026-11-01", "2026-11-21")
    assert [(ln.tier, ln.volume, ln.amount) for ln in bill.lines.all()] == [
        (1, Decimal("50.000"), Decimal("130.50")),
        (2, Decimal("50.000"), Decimal("141.50")),
    ]
    assert (bill.reading_from, bill.reading_to) == (Decimal("1300.000"), Decimal("1400.000"))
    customer.refresh_from_db()
    assert customer.status == Status.CLOSED
    assert row.balance == ledger.balance(customer) == Decimal("-1055.00")
    assert row.settlement == Settlement.KEEP and row.final_reading.reason == "move_out"
    assert LedgerEntry.objects.filter(idempotency_key=f"bill:{bill.pk}").count() == 1


def test_the_event_carries_the_request_and_the_new_account(django_capture_on_commit_callbacks, personas):
    customer, meter = billed_account()
    seen = []
    events.subscribe(AccountMovedOut, seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            row = services.move_out(
                customer, order(meter, new_holder=HOLDER, request_id=77), by=personas["cashier"]
            )
    finally:
        events.unsubscribe(AccountMovedOut, seen.append)
    assert seen == [
        AccountMovedOut(customer.pk, row.new_customer_id, 77, row.pk, row.final_bill_id, Settlement.KEEP)
    ]


def test_the_monthly_run_neither_bills_the_old_account_again_nor_misses_the_new_one(personas):
    customer, meter = billed_account()
    row = services.move_out(customer, order(meter, new_holder=HOLDER), by=personas["cashier"])
    new = row.new_customer
    # The new holder uses 20 m³ after the final reading (register 1400 -> 1420).
    from gasworks.metering import services as metering

    with time_machine.travel(local(2026, 11, 28), tick=False):
        later = metering.record_reading(meter, "1420", local(2026, 11, 28))
    assert later.customer_id == new.pk and later.consumption == Decimal("20.000")
    with time_machine.travel(local(2026, 12, 2), tick=False):
        runs.execute(runs.start_run("2026-11"))
    assert Bill.objects.filter(customer=customer).count() == 2  # October and the final bill
    first = Bill.objects.get(customer=new, period="2026-11")
    # A fresh tariff year for the new household: 20 m³ in tier 1.
    assert (first.volume, first.total, first.reading_from) == (
        Decimal("20.000"),
        Decimal("52.20"),
        Decimal("1400.000"),
    )


def test_without_a_final_reading_it_is_refused_and_writes_nothing(personas):
    customer, meter = billed_account()
    before = Reading.objects.count()
    empty = services.MoveOutOrder(readings=(services.FinalReading(meter.pk),), new_holder=HOLDER)
    with pytest.raises(InvalidInput) as refused:
        services.move_out(customer, empty, by=personas["cashier"])
    assert refused.value.code == "final_reading_required"
    _nothing_written(customer, before)
    assert not Customer.objects.filter(name=HOLDER.name).exists()


def test_a_flagged_final_reading_must_be_confirmed(personas):
    customer, meter = billed_account()
    before = Reading.objects.count()
    with pytest.raises(DomainError) as refused:  # far backwards: flagged by VEE
        services.move_out(customer, order(meter, value="1000"), by=personas["cashier"])
    assert refused.value.code == "final_reading_flagged"
    _nothing_written(customer, before)
    row = services.move_out(
        customer, order(meter, value="1401", confirm_flagged=True), by=personas["cashier"]
    )
    assert row.final_reading.status in ("accepted", "approved")


def test_an_existing_reading_of_the_day_can_be_the_final_one(personas):
    customer, meter = billed_account()
    today = read(customer, 100, local(2026, 11, 20, 9), meter=meter, value=Decimal("1450"))
    pick = services.MoveOutOrder(readings=(services.FinalReading(meter.pk, reading_id=today.pk),))
    row = services.move_out(customer, pick, by=personas["cashier"])
    assert row.final_reading == today and row.final_bill.volume == Decimal("150.000")


def test_a_reading_of_another_day_cannot_be_picked(personas):
    customer, meter = billed_account()
    old = Reading.objects.get(customer=customer, taken_at=local(2026, 11, 10))
    pick = services.MoveOutOrder(readings=(services.FinalReading(meter.pk, reading_id=old.pk),))
    with pytest.raises(InvalidInput):
        services.move_out(customer, pick, by=personas["cashier"])


def test_a_credit_is_refunded_through_payments(personas):
    customer, meter = billed_account()
    payments.take_counter_payment(customer, "1200", "cash", personas["cashier"])
    row = services.move_out(customer, order(meter, settlement="refund"), by=personas["admin"])
    assert row.balance == Decimal("145.00") and row.settled_amount == Decimal("145.00")
    refund = Refund.objects.get(payment__customer=customer)
    assert (refund.amount, refund.status) == (Decimal("145.00"), "done")
    assert ledger.balance(customer) == 0


def test_a_refund_of_a_debt_is_refused_and_writes_nothing(personas):
    customer, meter = billed_account()
    before = Reading.objects.count()
    with pytest.raises(DomainError) as refused:
        services.move_out(customer, order(meter, settlement="refund"), by=personas["admin"])
    assert refused.value.code == "nothing_to_refund"
    _nothing_written(customer, before)


def test_carrying_the_balance_needs_consent_and_moves_it_in_a_pair(personas):
    customer, meter = billed_account()
    with pytest.raises(InvalidInput) as refused:
        services.move_out(
            customer, order(meter, new_holder=HOLDER, settlement="carry"), by=personas["cashier"]
        )
    assert refused.value.code == "consent_required"
    row = services.move_out(
        customer, order(meter, new_holder=HOLDER, settlement="carry", consent_by="张三 (old holder)"), by=None
    )
    assert ledger.balance(customer) == 0
    assert ledger.balance(row.new_customer) == Decimal("-1055.00")
    assert row.consent_by == "张三 (old holder)" and row.consented_at is not None
    pair = LedgerEntry.objects.filter(
        idempotency_key__in=[f"carry-out:{customer.pk}", f"carry-in:{customer.pk}"]
    )
    assert sorted(e.amount for e in pair) == [Decimal("-1055.00"), Decimal("1055.00")]


def test_a_move_out_cannot_carry(personas):
    customer, meter = billed_account()
    with pytest.raises(InvalidInput):
        services.move_out(customer, order(meter, settlement="carry", consent_by="x"), by=personas["cashier"])


def test_a_failure_late_in_the_flow_rolls_everything_back(personas, monkeypatch):
    customer, meter = billed_account()
    before = Reading.objects.count()
    entries = LedgerEntry.objects.count()

    def broken(*args, **kwargs):
        raise DomainError("boom", "the settlement failed")

    monkeypatch.setattr(services, "_settle", broken)
    with pytest.raises(DomainError):
        services.move_out(customer, order(meter, new_holder=HOLDER), by=personas["cashier"])
    _nothing_written(customer, before)
    assert LedgerEntry.objects.count() == entries
    assert not Customer.objects.filter(name=HOLDER.name).exists()


def test_a_second_move_out_is_a_conflict(personas):
    customer, meter = billed_account()
    services.move_out(customer, order(meter), by=personas["cashier"])
    with pytest.raises(DomainError) as refused:
        services.move_out(customer, order(meter, value="1401"), by=personas["cashier"])
    assert refused.value.code == "account_closed" and refused.value.status == 409


def test_the_preview_prices_the_bill_and_keeps_nothing(personas):
    customer, meter = billed_account()
    before = Reading.objects.count()
    shown = services.preview(customer, order(meter), by=personas["cashier"])
    assert shown.bill["total"] == Decimal("272.00") and shown.balance == Decimal("-1055.00")
    _nothing_written(customer, before)


def test_a_debt_kept_on_the_closed_account_stays_in_arrears(personas):
    customer, meter = billed_account()
    row = services.move_out(customer, order(meter), by=personas["cashier"])
    later = row.final_bill.due_on + timedelta(days=1)
    overdue = {bill_id for _cid, bill_id, *_rest in ledger.overdue_bills(later, ("ids", [customer.pk]))}
    assert row.final_bill_id in overdue


def test_a_prepaid_account_pays_its_final_reading_once(personas, django_capture_on_commit_callbacks):
    customer, meter = billed_account()
    Account.objects.filter(customer=customer).update(prepaid=True)
    with django_capture_on_commit_callbacks(execute=True):
        row = services.move_out(customer, order(meter), by=personas["cashier"])
    assert PrepaidCharge.objects.filter(reading=row.final_reading).count() == 1
    # The bill takes the reading of 10 November (not charged as it came), not the final one.
    assert row.final_bill.volume == Decimal("50.000")


def test_a_credit_the_payments_cannot_carry_is_refused_and_writes_nothing(personas):
    customer, meter = billed_account()
    payments.take_counter_payment(customer, "900", "cash", personas["cashier"])
    ledger.post(customer, "adjustment", Decimal("1200.00"), reference="goodwill")  # not from a payment
    before = Reading.objects.count()
    with pytest.raises(DomainError) as refused:  # 1,045.00 of credit; the payment can refund 900.00
        services.move_out(customer, order(meter, settlement="refund"), by=personas["admin"])
    assert refused.value.code == "refund_exceeds_payments"
    _nothing_written(customer, before)
    assert not Refund.objects.exists()
