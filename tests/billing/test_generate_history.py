"""generate_data --months: a year (here three months) of readings, bills through the billing
run, payments on every channel through the ledger, arrears, closed shifts; and a ledger that
verify_ledger accepts, in time order per account."""

import io
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum

from gasworks.billing import generate as billing_generate
from gasworks.billing.generate import month_keys
from gasworks.billing.models import Account, Bill, BillingRun, LedgerEntry
from gasworks.billing.verify import verify_ledger
from gasworks.customers.management.commands import generate_data
from gasworks.metering import demo
from gasworks.payments import generate as payments_generate
from gasworks.payments.models import Payment, Shift

pytestmark = pytest.mark.django_db

CUSTOMERS, MONTHS = 120, 3


@pytest.fixture
def history(monkeypatch):
    # Meters and readings, then bills and payments (the safety history is tested by safety).
    monkeypatch.setattr(
        generate_data,
        "EXTRA_GENERATORS",
        [demo.generate, billing_generate.generate, payments_generate.generate],
    )
    out = io.StringIO()
    call_command("generate_data", customers=CUSTOMERS, months=MONTHS, no_progress=True, stdout=out)
    return out.getvalue()


def test_every_month_is_billed_by_a_finished_run_and_paid_mostly(history):
    from django.utils import timezone

    periods = month_keys(timezone.localdate(), MONTHS)
    assert sorted(BillingRun.objects.values_list("period", flat=True)) == periods
    assert set(BillingRun.objects.values_list("status", flat=True)) == {"done"}
    per_period = Counter(Bill.objects.values_list("period", flat=True))
    assert all(per_period[p] >= CUSTOMERS * 0.95 for p in periods), per_period  # a few parked for review
    paid = Payment.objects.count()
    assert Bill.objects.count() * 0.7 < paid < Bill.objects.count()
    channels = set(Payment.objects.values_list("method", "gateway").distinct())
    assert channels >= {
        ("cash", ""),
        ("card", ""),
        ("bank", "bank"),
        ("online", "alipay"),
        ("online", "wechat"),
    }
    assert Account.objects.filter(balance__lt=0).exists()  # arrears
    assert "payments:" in history and "billing:" in history


def test_the_ledger_verifies_and_runs_in_time_order_per_account(history):
    checked, problems = verify_ledger()
    assert checked >= CUSTOMERS and problems == []
    last: dict[int, object] = {}
    for account_id, at in LedgerEntry.objects.order_by("account_id", "pk").values_list(
        "account_id", "created_at"
    ):
        assert last.get(account_id) is None or last[account_id] <= at
        last[account_id] = at


def test_each_payment_is_in_the_ledger_at_its_time_and_each_bill_charged(history):
    entries = {
        key: (amount, at)
        for key, amount, at in LedgerEntry.objects.values_list("idempotency_key", "amount", "created_at")
    }
    for pk, amount, paid_at in Payment.objects.values_list("pk", "amount", "paid_at"):
        assert entries[f"payment:{pk}"] == (amount, paid_at)
    for pk, total in Bill.objects.values_list("pk", "total"):
        assert entries[f"bill:{pk}"][0] == -total


def test_counter_payments_sit_in_closed_shifts_whose_totals_add_up(history):
    counter = Payment.objects.filter(method__in=["cash", "card"]).exclude(gateway="bank")
    assert counter.exists() and not counter.filter(shift__isnull=True).exists()
    for shift in Shift.objects.filter(payments__isnull=False).distinct():
        total = shift.payments.aggregate(s=Sum("amount"))["s"]
        assert shift.status == "closed" and Decimal(shift.totals["total"]) == total


def test_readings_are_recorded_near_when_they_were_taken_not_at_generation(history):
    # The report rollups find changes by recorded time: a year recorded "now" would be read live.
    import datetime as dt

    from gasworks.metering.models import Reading

    pairs = list(Reading.objects.values_list("taken_at", "created_at"))
    assert pairs
    for taken, recorded in pairs:
        assert taken < recorded <= taken + dt.timedelta(hours=20)


def test_late_fees_are_charged_on_overdue_bills_and_late_payers_pay_them(history):
    import datetime as dt

    from gasworks.billing.generate import FEE_DAY

    fees = list(
        LedgerEntry.objects.filter(kind="late_fee").values_list(
            "idempotency_key", "amount", "account__customer_id"
        )
    )
    assert fees, "no late fee generated"
    bills = {
        pk: (cid, period, total, due, issued)
        for pk, cid, period, total, due, issued in Bill.objects.values_list(
            "pk", "customer_id", "period", "total", "due_on", "issued_on"
        )
    }
    covered = 0
    for key, amount, customer_id in fees:
        _kind, bill_id, day = key.split(":")
        cid, period, total, due, _issued = bills[int(bill_id)]
        # The daily job's key and rule: charged on the month's fee day on a bill overdue then.
        assert cid == customer_id and amount < 0 and due < dt.date.fromisoformat(day)
        # ... FEE_DAY days after a month's bills were issued (on the 1st).
        assert (dt.date.fromisoformat(day) - dt.timedelta(days=FEE_DAY)).day == 1
        paid = Payment.objects.filter(customer_id=cid, order_no__contains=f"G{period.replace('-', '')}")
        covered += paid.filter(amount=total - amount).count()
    assert covered, "no late payer paid a fee with the bill"
