from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from gasworks.billing import ledger, runs
from gasworks.billing.models import Bill, BillingRun, BillReview, LedgerEntry, RunStatus
from gasworks.billing.verify import verify_ledger
from gasworks.errors import InvalidInput
from tests.billing.helpers import beijing, flat, local, read
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(local(2026, 11, 5), tick=False):
        yield


def bill_of(customer, period="2026-10"):
    return Bill.objects.get(customer=customer, period=period)


def run(period="2026-10"):
    return runs.execute(runs.start_run(period))


def test_it_bills_the_worked_example_272():
    beijing()
    c = make_customer()
    read(c, 300, local(2026, 5, 10))
    run("2026-05")
    read(c, 100, local(2026, 10, 10))
    run()
    bill = bill_of(c)
    assert bill.total == Decimal("272.00")
    assert [(ln.tier, ln.volume, ln.amount) for ln in bill.lines.order_by("pk")] == [
        (1, Decimal("50.000"), Decimal("130.50")),
        (2, Decimal("50.000"), Decimal("141.50")),
    ]
    assert ledger.balance(c) == Decimal("-783.00") - Decimal("272.00")
    assert LedgerEntry.objects.filter(idempotency_key=f"bill:{bill.pk}").get().amount == Decimal("-272.00")


def test_it_raises_quotas_for_a_large_household():
    beijing()
    big = make_customer(household_size=6)  # base 4, +25 % per person: quotas ×1.5 → 525 / 750
    small = make_customer(household_size=3)
    for c in (big, small):
        read(c, 500, local(2026, 10, 10))
    run()
    assert bill_of(big).total == Decimal("500") * Decimal("2.61")
    assert bill_of(small).total == Decimal("350") * Decimal("2.61") + Decimal("150") * Decimal("2.83")


def test_it_splits_a_price_change_inside_the_period_by_days():
    beijing()
    from gasworks.billing.tariffs import create_tariff

    create_tariff(
        "北京居民",
        "residential",
        date(2026, 10, 17),
        [
            {"up_to": "350", "price": "3.00"},
            {"up_to": "500", "price": "3.50"},
            {"up_to": None, "price": "5.00"},
        ],
    )
    c = make_customer()
    read(c, 31, local(2026, 10, 30))
    run()
    lines = list(bill_of(c).lines.order_by("pk"))
    # 16 days at the old price, 15 at the new: 16 m³ and 15 m³.
    assert [(ln.volume, ln.unit_price, ln.amount) for ln in lines] == [
        (Decimal("16.000"), Decimal("2.6100"), Decimal("41.76")),
        (Decimal("15.000"), Decimal("3.0000"), Decimal("45.00")),
    ]
    assert bill_of(c).total == Decimal("86.76")


def test_it_restarts_prior_use_at_a_tariff_year_boundary_inside_the_period():
    tariff = beijing()
    tariff.year_start_month, tariff.year_start_day = 10, 17  # a heating-season year
    tariff.save()
    c = make_customer()
    read(c, 400, local(2026, 9, 10))
    run("2026-09")
    read(c, 31, local(2026, 10, 30))
    run()
    lines = list(bill_of(c).lines.order_by("pk"))
    # Before 17 October (16 m³) the old year's 400 m³ puts it in tier 2; after, tier 1 again.
    assert [(ln.tier, ln.volume, ln.tariff_year) for ln in lines] == [
        (2, Decimal("16.000"), date(2025, 10, 17)),
        (1, Decimal("15.000"), date(2026, 10, 17)),
    ]


def test_it_charges_a_flat_tariff_up_to_the_minimum_and_adds_meter_rent():
    flat(minimum_charge="50", meter_rent="5")
    shop = make_customer(category="commercial", gas_use="process")
    busy = make_customer(category="commercial", gas_use="process")
    read(shop, 10, local(2026, 10, 3))
    read(busy, 100, local(2026, 10, 3))
    run()
    small = bill_of(shop)
    assert (small.minimum_top_up, small.meter_rent, small.total) == (
        Decimal("23.70"),
        Decimal("5.00"),
        Decimal("55.00"),
    )
    assert bill_of(busy).total == Decimal("263.00") + Decimal("5.00")


def test_it_bills_each_account_once_when_rerun():
    beijing()
    customers = [make_customer() for _ in range(5)]
    for c in customers:
        read(c, 20, local(2026, 10, 3))
    first = run()
    assert (first.status, first.bills_created, first.accounts_total) == (RunStatus.DONE, 5, 5)
    second = run()
    assert second.pk != first.pk and second.bills_created == 0
    assert Bill.objects.count() == 5
    assert LedgerEntry.objects.count() == 5
    call_command("billing_run", "2026-10", "--no-progress")
    assert Bill.objects.count() == 5


def test_it_skips_flagged_readings_and_inactive_accounts_and_other_months():
    beijing()
    c1, c2, c3 = make_customer(), make_customer(), make_customer()
    read(c1, 20, local(2026, 10, 3), status="flagged")
    read(c2, 20, local(2026, 9, 30, 23))  # 30 Sept 23:00 local: September
    read(c3, 20, local(2026, 10, 31, 23))  # 31 Oct 23:00 local (15:00 UTC): October
    run()
    assert list(Bill.objects.values_list("customer_id", flat=True)) == [c3.pk]


@pytest.mark.parametrize("point", ["bills", "lines", "ledger", "chunk_done"])
@pytest.mark.parametrize("crash_at_chunk", [1, 2])
def test_it_resumes_after_a_crash_with_the_same_totals(monkeypatch, point, crash_at_chunk):
    beijing()
    flat()
    monkeypatch.setattr(runs, "CHUNK_SPAN", 3)
    customers = [make_customer(category="commercial" if i % 3 == 0 else "residential") for i in range(10)]
    for i, c in enumerate(customers):
        read(c, 30 + 45 * i, local(2026, 10, 3))
    from django.db import transaction

    # The uninterrupted figures, computed and rolled back.
    with transaction.atomic():
        run()
        expected = dict(Bill.objects.values_list("customer_id", "total"))
        expected_balances = {c.pk: ledger.balance(c) for c in customers}
        transaction.set_rollback(True)
    assert not Bill.objects.exists()

    calls = {"n": 0}

    def crash(name):
        if name == point:
            calls["n"] += 1
            if calls["n"] == crash_at_chunk:
                raise RuntimeError("power cut")

    monkeypatch.setattr(runs, "stage", crash)
    with pytest.raises(RuntimeError):
        run()
    failed = BillingRun.objects.get()
    assert failed.status == RunStatus.FAILED and "power cut" in failed.error
    monkeypatch.setattr(runs, "stage", lambda name: None)
    resumed = run()
    assert resumed.pk == failed.pk and resumed.status == RunStatus.DONE
    assert dict(Bill.objects.values_list("customer_id", "total")) == expected
    assert {c.pk: ledger.balance(c) for c in customers} == expected_balances
    assert Bill.objects.count() == LedgerEntry.objects.count() == 10
    assert verify_ledger()[1] == []


def test_it_keeps_the_balance_right_when_a_payment_lands_during_a_run(monkeypatch):
    beijing()
    monkeypatch.setattr(runs, "CHUNK_SPAN", 1)
    a, b = make_customer(), make_customer()
    read(a, 10, local(2026, 10, 3))
    read(b, 10, local(2026, 10, 3))
    paid = []

    def pay_between_chunks(lo, hi):
        if not paid:
            paid.append(ledger.post(b, "payment", Decimal("100.00"), idempotency_key="pay-1"))

    runs.execute(runs.start_run("2026-10"), on_chunk=pay_between_chunks)
    assert ledger.balance(b) == Decimal("100.00") - Decimal("26.10")
    assert bill_of(b).previous_balance == Decimal("100.00")
    assert verify_ledger()[1] == []


def test_it_parks_an_implausible_bill_for_review():
    beijing()
    c = make_customer()
    for month in (6, 7, 8):
        read(c, 10, local(2026, month, 3))
        run(f"2026-{month:02d}")
    read(c, 200, local(2026, 10, 3))
    result = run()
    assert (result.bills_created, result.parked) == (0, 1)
    review = BillReview.objects.get()
    assert (review.customer_id, review.volume, review.average_volume) == (
        c.pk,
        Decimal("200.000"),
        Decimal("10.000"),
    )
    assert not Bill.objects.filter(period="2026-10").exists()
    runs.bill_after_review(review)
    assert bill_of(c).volume == Decimal("200.000")
    review.refresh_from_db()
    assert review.status == "billed"


def test_it_cancels_a_run_between_chunks(monkeypatch):
    beijing()
    monkeypatch.setattr(runs, "CHUNK_SPAN", 1)
    for _ in range(3):
        read(make_customer(), 10, local(2026, 10, 3))
    the_run = runs.start_run("2026-10")
    result = runs.execute(the_run, on_chunk=lambda lo, hi: runs.cancel_run(the_run))
    assert result.status == RunStatus.CANCELLED
    assert Bill.objects.count() == 1


@pytest.mark.parametrize("period", ["2026-13", "abc", "", "2026-1", "2027-01"])
def test_it_refuses_a_bad_period_and_writes_nothing(period):
    with pytest.raises(InvalidInput) as caught:
        runs.start_run(period)
    assert caught.value.code in {"unknown_period", "period_in_future"}
    assert not BillingRun.objects.exists()
