"""The arrears report: its totals equal the ledger (the identity: overdue + not yet due + late
fees owed + owed outside bills = the sum of the negative balances), its buckets equal the old
Python walk, the 12-month trend read from the month-end rollup equals the same computed live,
top debtors, late fees charged and collected, drill-down to the filtered arrears page, 403s."""

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from gasworks.billing import arrears, ledger
from gasworks.billing.models import Account, EntryKind, LedgerEntry
from gasworks.reports import rollups
from gasworks.reports.arrears.models import ArrearsDay
from tests.billing.test_arrears_set import build, oracle_buckets, oracle_overdue
from tests.factories import make_user

pytestmark = pytest.mark.django_db
ZERO = Decimal("0.00")
NOW = timezone.make_aware(datetime(2026, 11, 27, 12))

# (category, district, events a month apart from January 2026): bills, partial payments, a
# credit, late fees, adjustments; one account paid up, one in credit.
HISTORY = [
    (
        "residential",
        "朝阳区",
        [("bill", 26_100), ("bill", 30_000), ("pay", Decimal("100.00")), ("bill", 12_000)],
    ),
    (
        "residential",
        "海淀区",
        [("bill", 50_000), ("fee", 250), ("bill", 40_000), ("adjust", -1_500), ("bill", 1_000)],
    ),
    ("commercial", "朝阳区", [("bill", 99_900), ("fee", 500), ("pay", Decimal("1500.00")), ("bill", 20_000)]),
    ("commercial", "海淀区", [("bill", 10_000), ("pay", Decimal("100.00"))]),
    ("residential", "朝阳区", [("bill", 10_000), ("pay", Decimal("150.00"))]),
    ("residential", "朝阳区", [("adjust", -2_000)]),
]


@pytest.fixture
def history():
    with time_machine.travel(NOW, tick=False):
        yield build(HISTORY)


def _api(client, **query):
    client.force_login(make_user("admin"))
    response = client.get("/api/v1/reports/arrears/", query)
    assert response.status_code == 200, response.content
    return response.json()


def _debt() -> Decimal:
    return -sum((b for b in Account.objects.filter(balance__lt=0).values_list("balance", flat=True)), ZERO)


def test_totals_equal_the_ledger_and_the_old_walk(client, history):
    with time_machine.travel(NOW, tick=False):
        body = _api(client, group_by="district")
        expected = oracle_buckets(oracle_overdue(date(2026, 11, 27)))
    total = body["total"]
    assert [Decimal(total[k]) for k in ("days_0_30", "days_31_60", "days_61_90", "days_over_90")] == list(
        expected.values()
    )
    assert Decimal(total["total"]) == sum(expected.values(), ZERO)
    assert Decimal(total["debt"]) == _debt()  # the identity, to the fen
    parts = ("total", "not_due", "late_fees", "other")
    assert Decimal(total["debt"]) == sum((Decimal(total[k]) for k in parts), ZERO)
    assert {r["district"] for r in body["rows"]} == {"朝阳区", "海淀区"}
    # Overdue: the first two accounts; the commercial ones and the fifth are paid up or in
    # credit; the sixth owes an adjustment outside any bill ("other"), nothing overdue.
    assert sum(r["accounts"] for r in body["rows"]) == total["accounts"] == 2
    assert Decimal(total["other"]) == Decimal("35.00")  # 20.00 and the second account's 15.00
    assert Decimal(total["late_fees"]) == Decimal("2.50")  # the one fee still owed (settled last)
    by_category = _api(client, group_by="category", district="朝阳区")
    assert [r["category"] for r in by_category["rows"]] == ["residential"]  # codes
    chaoyang = next(r for r in body["rows"] if r["district"] == "朝阳区")
    assert by_category["total"]["total"] == chaoyang["total"]


def test_the_snapshot_and_a_later_payment_give_the_same_report(client, history):
    with time_machine.travel(NOW, tick=False):
        before = _api(client, group_by="category")
        arrears.refresh()
        assert _api(client, group_by="category") == before
        debtor = Account.objects.filter(balance__lt=0).select_related("customer").order_by("balance").first()
        ledger.post(debtor.customer, EntryKind.PAYMENT, Decimal("200.00"))
        after = _api(client, group_by="category")
        assert Decimal(after["total"]["debt"]) == Decimal(before["total"]["debt"]) - Decimal("200.00")
        assert Decimal(after["total"]["debt"]) == _debt()


def test_the_trend_from_the_rollup_equals_the_trend_computed_live(client, history):
    with time_machine.travel(NOW, tick=False):
        live = _api(client, group_by="month")
        assert len(live["rows"]) == 12 and live["rows"][-1]["period"] == "2026-11"
        done = rollups.refresh(["arrears-day"])
        assert done["arrears-day"] >= 30 and ArrearsDay.objects.exists()
        assert _api(client, group_by="month") == live
        march = next(r for r in live["rows"] if r["period"] == "2026-03")
    assert Decimal(march["total"]) > 0
    fees = {
        r["period"]: (Decimal(r["late_fees_charged"]), Decimal(r["late_fees_collected"]))
        for r in live["rows"]
    }
    # Both fees were charged in February (2.50 + 5.00); the commercial account paid everything
    # in March, its fee too (settled last); the other fee is still owed.
    assert fees["2026-02"] == (Decimal("7.50"), ZERO) and fees["2026-03"] == (ZERO, Decimal("5.00"))


def test_a_rollup_row_is_what_the_ledger_said_at_that_month_end(client):
    with time_machine.travel(timezone.make_aware(datetime(2026, 4, 30, 20)), tick=False):
        build(HISTORY)
        at_april_end = oracle_buckets(oracle_overdue(date(2026, 4, 30)))
    with time_machine.travel(NOW, tick=False):
        debtor = Account.objects.filter(balance__lt=0).select_related("customer").first()
        ledger.post(debtor.customer, EntryKind.PAYMENT, Decimal("300.00"))  # recorded after April
        rollups.refresh(["arrears-day"])
        april = next(r for r in _api(client, group_by="month")["rows"] if r["period"] == "2026-04")
    assert [Decimal(april[k]) for k in ("days_0_30", "days_31_60", "days_61_90", "days_over_90")] == list(
        at_april_end.values()
    )


def test_top_debtors_and_the_drill_down_to_the_filtered_arrears_page(client, history):
    with time_machine.travel(NOW, tick=False):
        top = _api(client, group_by="account")
        amounts = [Decimal(r["total"]) for r in top["rows"]]
        assert amounts == sorted(amounts, reverse=True) and len(amounts) == 2
        page = client.get("/reports/arrears/?group_by=district").content.decode()
        assert "/billing/overdue/?district=%E6%9C%9D%E9%98%B3%E5%8C%BA" in page
        listed = client.get("/billing/overdue/", {"district": "海淀区"}).content.decode()
        names = {r["name"] for r in top["rows"] if r["district"] == "海淀区"}
        others = {r["name"] for r in top["rows"] if r["district"] != "海淀区"}
        assert all(n in listed for n in names) and not any(n in listed for n in others)
        assert client.get("/reports/arrears/?format=xlsx&group_by=month").status_code == 200


def test_customers_and_roles_without_the_permission_get_403(client):
    for role in ("customer", "cashier", "filler"):
        client.force_login(make_user(role))
        assert client.get("/api/v1/reports/arrears/").status_code == 403
        assert client.get("/reports/arrears/").status_code == 403
    client.force_login(make_user("admin"))
    assert client.get("/api/v1/reports/arrears/?group_by=tier").status_code == 400


def test_a_reversed_late_fee_no_longer_counts_as_charged_nor_owed(client, history):
    """The 2.50 fee of February, still owed, is reversed in November: November's charged fees
    are net of it (−2.50), nothing is owed, and nothing is said to be collected."""
    with time_machine.travel(NOW, tick=False):
        fee = LedgerEntry.objects.filter(kind=EntryKind.LATE_FEE, amount=Decimal("-2.50")).get()
        ledger.reverse(fee, "charged in error")
        trend = {r["period"]: r for r in _api(client, group_by="month")["rows"]}
        aging = _api(client, group_by="district")
        rollups.refresh(["arrears-day"])
        assert {r["period"]: r for r in _api(client, group_by="month")["rows"]} == trend
    november, february = trend["2026-11"], trend["2026-02"]
    assert Decimal(february["late_fees_charged"]) == Decimal("7.50")  # as charged then
    assert Decimal(november["late_fees_charged"]) == Decimal("-2.50")  # reversed now
    assert Decimal(november["late_fees_collected"]) == ZERO  # reversed, not paid
    assert Decimal(november["late_fees"]) == ZERO
    total = aging["total"]
    assert Decimal(total["late_fees"]) == ZERO
    assert Decimal(total["debt"]) == _debt()  # the identity still holds, to the fen
    assert sum((Decimal(r["late_fees_charged"]) for r in trend.values()), ZERO) == Decimal("5.00")


def test_grouped_and_filtered_totals_from_the_snapshot_equal_the_live_ones(history):
    """Today's totals per category and district (the report's groups, the arrears page's
    filters) come from the snapshot's stored group totals corrected by the accounts read live:
    equal to computing everything live, after payments, a new debtor and a debt paid off."""
    today = date(2026, 11, 27)
    cases = [({}, g) for g in ("", "category", "district", "category,district")] + [
        ({"district": "朝阳区"}, ""),
        ({"category": "commercial"}, "district"),
        ({"district": "无"}, ""),
    ]

    def both():
        snap = ledger.arrears_source(today)
        return [
            (ledger.arrears_totals(today, f, g, ("live",)), ledger.arrears_totals(today, f, g, snap))
            for f, g in cases
        ]

    with time_machine.travel(NOW, tick=False):
        arrears.refresh()
        assert ledger.arrears_source(today) == ("snapshot", set())
        for live, stored in both():
            assert stored == live
        debtors = list(Account.objects.filter(balance__lt=0).select_related("customer").order_by("pk"))
        ledger.post(debtors[0].customer, EntryKind.PAYMENT, Decimal("10.00"))
        ledger.post(debtors[-1].customer, EntryKind.PAYMENT, -debtors[-1].balance)  # paid off
        newcomer = Account.objects.filter(balance__gte=0).select_related("customer").first()
        ledger.post(newcomer.customer, EntryKind.ADJUSTMENT, Decimal("-7.77"))
        source = ledger.arrears_source(today)
        assert source[0] == "snapshot" and len(source[1]) == 3
        for (live, stored), case in zip(both(), cases, strict=True):
            assert stored == live, case
