"""Arrears computed set-based (SQL window functions) equal the old Python walk, kept here as the
oracle, on random histories: several bills per account (a credit bill now and then), partial
payments, overpayments (credit balances), adjustments and late fees. The same for the snapshot
the page reads, for a past day read from the ledger as it stood, and for late fees posted
set-based (equal to the old one-post-per-bill path, idempotent on a rerun, capped)."""

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gasworks.billing import arrears, ledger
from gasworks.billing.models import Account, Bill, BillStatus, EntryKind, LedgerEntry
from gasworks.lib.db import DecimalSum
from gasworks.lib.money import round_money
from gasworks.system import parameters
from tests.factories import make_customer

pytestmark = pytest.mark.django_db
ZERO = Decimal("0.00")
TODAY = date(2026, 11, 27)


# --- the oracle: the Python walk this replaced, verbatim in substance -------------------------


def oracle_overdue(today, customer_ids=None):
    """[(customer id, bill id, outstanding, days)] by the old per-account walk."""
    accounts = Account.objects.filter(balance__lt=0)
    if customer_ids is not None:
        accounts = accounts.filter(customer_id__in=customer_ids)
    debt = {cid: -bal for cid, bal in accounts.values_list("customer_id", "balance")}
    if not debt:
        return []
    fees = dict(
        LedgerEntry.objects.filter(account__customer_id__in=list(debt), kind=EntryKind.LATE_FEE)
        .values_list("account__customer_id")
        .annotate(s=DecimalSum("amount"))
    )
    remaining = {cid: max(ZERO, d - (-(fees.get(cid) or ZERO))) for cid, d in debt.items()}
    result = []
    bills = Bill.objects.filter(customer_id__in=list(debt), status=BillStatus.ISSUED).order_by(
        "customer_id", "-period"
    )
    for bill in bills:
        left = remaining[bill.customer_id]
        if left <= 0:
            continue
        part = min(left, bill.total)
        remaining[bill.customer_id] = left - part
        if bill.due_on < today and part > 0:
            result.append((bill.customer_id, bill.pk, part, (today - bill.due_on).days))
    return result


def oracle_late_fees(today):
    """The old apply_late_fees: one ledger.post per overdue bill."""
    rate = Decimal(parameters.get("late_fee_rate_per_day"))
    cap_ratio = Decimal(parameters.get("late_fee_cap_ratio"))
    items = oracle_overdue(today)
    charged: defaultdict[int, Decimal] = defaultdict(lambda: ZERO)
    suffix = f":{today.isoformat()}"
    done_today = set()
    keys = LedgerEntry.objects.filter(
        kind=EntryKind.LATE_FEE, account__customer_id__in={i[0] for i in items}
    ).values_list("idempotency_key", "amount")
    for key, amount in keys:
        if key and key.startswith("late_fee:"):
            bill_id = int(key.split(":")[1])
            charged[bill_id] += -amount
            if key.endswith(suffix):
                done_today.add(bill_id)
    posted = 0
    for _cid, bill_id, outstanding, _days in items:
        if bill_id in done_today:
            continue
        bill = Bill.objects.get(pk=bill_id)
        fee = min(round_money(outstanding * rate), round_money(bill.total * cap_ratio) - charged[bill_id])
        if fee <= 0:
            continue
        ledger.post(
            bill.customer,
            EntryKind.LATE_FEE,
            -fee,
            reference=f"Late fee {bill.period} ({today.isoformat()})",
            idempotency_key=f"late_fee:{bill_id}:{today.isoformat()}",
        )
        posted += 1
    return posted


def oracle_buckets(items):
    out = dict.fromkeys(("0-30", "31-60", "61-90", "90+"), ZERO)
    for _cid, _bill, part, days in items:
        out[arrears.bucket_of(days)] += part
    return out


# --- random histories --------------------------------------------------------------------------

money = st.integers(min_value=1, max_value=40_000).map(lambda fen: Decimal(fen).scaleb(-2))
event = st.one_of(
    st.tuples(st.just("bill"), st.integers(min_value=-3_000, max_value=40_000)),
    st.tuples(st.just("pay"), money),
    st.tuples(st.just("fee"), st.integers(min_value=1, max_value=900)),
    st.tuples(st.just("adjust"), st.integers(min_value=-5_000, max_value=5_000)),
)
account = st.tuples(
    st.sampled_from(["residential", "commercial"]),
    st.sampled_from(["朝阳区", "海淀区"]),
    st.lists(event, min_size=1, max_size=9),
)


def _at(month_index: int, day: int = 2):
    first = date(2026, 1, 1)
    month = first.replace(year=2026 + (month_index // 12), month=month_index % 12 + 1)
    return timezone.make_aware(datetime(month.year, month.month, day, 10))


def build(accounts, first_month: int = 0) -> list[int]:
    """One customer per account; events one month apart from January 2026 (or ``first_month``
    months later; bills issued on the 1st, due on the 16th)."""
    ids = []
    for category, district, events in accounts:
        customer = make_customer(category=category, district=district)
        ids.append(customer.pk)
        bills = []
        for month, (kind, value) in enumerate(events, start=first_month):
            at = _at(month)
            if kind == "bill":
                total = Decimal(value).scaleb(-2)
                issued = at.date().replace(day=1)
                bill = Bill.objects.create(
                    customer=customer,
                    period=f"{issued.year}-{issued.month:02d}",
                    period_start=issued,
                    period_end=issued + timedelta(days=28),
                    volume=Decimal("1.000"),
                    total=total,
                    issued_on=issued,
                    due_on=issued + timedelta(days=15),
                    created_at=at,
                )
                bills.append(bill)
                if total:
                    ledger.post(customer, EntryKind.CHARGE, -total, idempotency_key=f"bill:{bill.pk}", at=at)
            elif kind == "pay":
                ledger.post(customer, EntryKind.PAYMENT, value, at=at)
            elif kind == "fee" and bills:
                bill = bills[value % len(bills)]
                key = f"late_fee:{bill.pk}:{at.date().isoformat()}"
                ledger.post(
                    customer, EntryKind.LATE_FEE, -Decimal(value).scaleb(-2), idempotency_key=key, at=at
                )
            elif kind == "adjust" and value:
                ledger.post(customer, EntryKind.ADJUSTMENT, Decimal(value).scaleb(-2), at=at)
    return ids


def _debt() -> Decimal:
    return -sum((b for b in Account.objects.filter(balance__lt=0).values_list("balance", flat=True)), ZERO)


def _rows_oracle(items, today):
    per: dict[int, list] = {}
    for cid, _bill, part, days in items:
        row = per.setdefault(cid, [ZERO, 0])
        row[0] += part
        row[1] = max(row[1], days)
    return sorted(((cid, v[0], v[1]) for cid, v in per.items()), key=lambda r: (-r[2], -r[1], r[0]))


PROPERTY = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# Used up on the newest bill: an older credit bill must not bring the walk back to the oldest.
EXHAUSTED = [
    ("residential", "朝阳区", [("bill", 10_000), ("bill", -5_000), ("bill", 10_000), ("pay", Decimal(50))])
]


@PROPERTY
@given(accounts=st.lists(account, min_size=1, max_size=5), age_on=st.integers(min_value=0, max_value=400))
@example(accounts=EXHAUSTED, age_on=300)
def test_set_based_arrears_equal_the_python_walk(accounts, age_on):
    with (
        time_machine.travel(timezone.make_aware(datetime(2026, 11, 27, 12)), tick=False),
        transaction.atomic(),
    ):
        build(accounts)
        for today in (TODAY, date(2026, 1, 1) + timedelta(days=age_on)):
            expected = oracle_overdue(today)
            got = [(b.customer_id, b.bill_id, b.outstanding, b.days) for b in arrears.overdue_bills(today)]
            assert sorted(got) == sorted(expected)
            total = arrears.totals(today)[0]
            assert arrears.aging(today) == oracle_buckets(expected)
            assert total["overdue"] == sum((i[2] for i in expected), ZERO)
            assert total["accounts"] == len({i[0] for i in expected})
            # The identity the report relies on: every account in debt splits its debt into
            # overdue + not yet due + late fees owed + owed outside bills, to the fen.
            assert total["debt"] == _debt()
            assert total["debtors"] == Account.objects.filter(balance__lt=0).count()
            page = arrears.overdue_accounts(today, limit=100)
            assert [(r["customer_id"], r["overdue"], r["days"]) for r in page] == _rows_oracle(
                expected, today
            )
        # The snapshot the page reads, then a payment after it: read live for that account.
        arrears.refresh(TODAY)
        assert arrears.totals(TODAY) == arrears.totals(TODAY, source=("live",))
        debtor = Account.objects.filter(balance__lt=0).select_related("customer").first()
        if debtor is not None:
            ledger.post(debtor.customer, EntryKind.PAYMENT, Decimal("1.00"))
        source = ledger.arrears_source(TODAY)
        assert source[0] == "snapshot"
        assert arrears.totals(TODAY) == arrears.totals(TODAY, source=("live",))
        assert arrears.totals(TODAY, {"district": "朝阳区"}, "category") == arrears.totals(
            TODAY, {"district": "朝阳区"}, "category", source=("live",)
        )
        expected = oracle_overdue(TODAY)
        page = arrears.overdue_accounts(TODAY, limit=100)
        assert [(r["customer_id"], r["overdue"], r["days"]) for r in page] == _rows_oracle(expected, TODAY)
        transaction.set_rollback(True)


@PROPERTY
@given(accounts=st.lists(account, min_size=1, max_size=4), later=st.lists(account, min_size=1, max_size=2))
def test_a_past_day_reads_the_ledger_as_it_stood(accounts, later):
    """The report's as_of: what the old walk said on that day, whatever was recorded after."""
    with transaction.atomic():
        with time_machine.travel(timezone.make_aware(datetime(2026, 12, 31, 12)), tick=False):
            build(accounts)
            then = date(2026, 12, 31)
            expected = arrears.totals(then)
            assert expected[0]["overdue"] == sum((i[2] for i in oracle_overdue(then)), ZERO)
        with time_machine.travel(timezone.make_aware(datetime(2027, 1, 20, 12)), tick=False):
            ledger_customers = list(Account.objects.select_related("customer")[:2])
            for acc in ledger_customers:
                ledger.post(acc.customer, EntryKind.PAYMENT, Decimal("10.00"))
            build(later, first_month=12)
            history = ledger.arrears_source(then, history=True)
            assert history[0] == "history"
            assert arrears.totals(then, source=history) == expected
        transaction.set_rollback(True)


@PROPERTY
@given(accounts=st.lists(account, min_size=1, max_size=5), cap=st.sampled_from(["1", "0.002", "0"]))
def test_late_fees_set_based_equal_the_old_path_idempotent_and_capped(accounts, cap):
    from gasworks.system.models import Parameter

    with (
        time_machine.travel(timezone.make_aware(datetime(2026, 11, 27, 12)), tick=False),
        transaction.atomic(),
    ):
        Parameter.objects.update_or_create(key="late_fee_cap_ratio", defaults={"value": cap})
        parameters.forget()
        build(accounts)

        def fees():
            return sorted(
                LedgerEntry.objects.filter(kind=EntryKind.LATE_FEE, created_at__date__gte=TODAY).values_list(
                    "account__customer_id", "idempotency_key", "amount", "reference"
                )
            )

        with transaction.atomic():
            old = [oracle_late_fees(TODAY), oracle_late_fees(TODAY + timedelta(days=1))]
            old_fees = fees()
            transaction.set_rollback(True)
        new = [
            arrears.apply_late_fees(TODAY, chunk=2),
            arrears.apply_late_fees(TODAY + timedelta(days=1), chunk=2),
        ]
        assert new == old and fees() == old_fees
        assert arrears.apply_late_fees(TODAY, chunk=2) == 0  # a rerun charges nothing twice
        assert fees() == old_fees
        from gasworks.billing.verify import verify_ledger

        assert verify_ledger()[1] == []
        transaction.set_rollback(True)
    parameters.forget()


@pytest.mark.django_db(transaction=True)
def test_the_page_reads_live_only_the_accounts_the_snapshot_did_not_see():
    """Entries recorded just before a rebuild (the daily late fees, a billing run) are in the
    snapshot: on PostgreSQL its transaction snapshot says so, and they are not read live; an
    entry recorded after it is."""
    from django.db import connection

    with time_machine.travel(timezone.make_aware(datetime(2026, 11, 27, 12)), tick=True):
        ids = build(EXHAUSTED * 3)
        # Committed a moment before the rebuild, within its margin: the snapshot holds it.
        ledger.post(Account.objects.get(customer_id=ids[1]).customer, EntryKind.PAYMENT, Decimal("2.00"))
        arrears.refresh(TODAY)
        source = ledger.arrears_source(TODAY)
        assert source[0] == "snapshot"
        if connection.vendor == "postgresql":
            assert source[1] == set()
        customer = Account.objects.get(customer_id=ids[0]).customer
        ledger.post(customer, EntryKind.PAYMENT, Decimal("1.00"))
        assert ids[0] in ledger.arrears_source(TODAY)[1]
