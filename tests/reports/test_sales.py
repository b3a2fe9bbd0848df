"""The gas sales report: figures exact against sums taken independently from the bills, their
lines and the ledger; the rollup and the live read agree (after a refresh, and after changes made
since); grouping, filters, last year, the API's JSON, xlsx/csv, and who may see it."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone

from gasworks.billing import runs, voiding
from gasworks.billing.models import Bill, BillLine, BillStatus, EntryKind, LedgerEntry
from gasworks.customers import services as customer_services
from gasworks.lib.db import DecimalSum
from gasworks.reports import framework, rollups
from gasworks.reports.models import RollupState
from gasworks.reports.sales import report as sales
from gasworks.reports.sales import store
from gasworks.reports.sales.models import SalesRollup
from tests.billing.helpers import beijing, flat, local, read
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db

REPORT = framework.REPORTS["sales"]


def bill_month(period: str) -> None:
    year, month = int(period[:4]), int(period[5:])
    nxt = local(year + (month == 12), month % 12 + 1, 1)
    with time_machine.travel(nxt, tick=False):
        runs.execute(runs.start_run(period))


@pytest.fixture
def month():
    """A mixed October 2026, with October 2025 before it: every category, three tiers, a void
    bill, a name transfer, a category change and a minimum-charge top-up with meter rent."""
    beijing()  # residential: 2.61 / 2.83 / 4.23 at 350 / 500 m³ a year
    flat("commercial", "3.20", minimum_charge="100", meter_rent="5")
    flat("industrial", "2.90")
    people = {
        "small": make_customer(district="朝阳区"),  # 20 m³, tier 1
        "two": make_customer(district="朝阳区"),  # 400 m³: tiers 1 and 2
        "three": make_customer(district="海淀区"),  # 600 m³: tiers 1, 2 and 3
        "voided": make_customer(district="海淀区"),  # billed, then the bill is voided
        "shop": make_customer(category="commercial", district="海淀区"),  # 10 m³: topped up to 100
        "plant": make_customer(category="industrial", district="丰台区"),
        "seller": make_customer(district="丰台区"),  # transfers to a commercial holder
        "changer": make_customer(district="朝阳区"),  # residential last year, industrial now
    }
    for who, volume in (("small", 18), ("two", 25), ("seller", 30), ("changer", 40), ("shop", 50)):
        read(people[who], volume, local(2025, 10, 15))
    bill_month("2025-10")
    people["buyer"] = customer_services.transfer(
        people["seller"],
        customer_services.CustomerData(
            name="新户主", category="commercial", phone="13900000001", address="-"
        ),
    )
    customer_services.update_account(people["changer"], category="industrial")
    for who, volume in (
        ("small", 20),
        ("two", 400),
        ("three", 600),
        ("voided", 33),
        ("shop", 10),
        ("plant", 1000),
        ("buyer", 45),
        ("changer", 70),
    ):
        read(people[who], volume, local(2026, 10, 15))
    bill_month("2026-10")
    voiding.void_bill(
        Bill.objects.get(customer=people["voided"], period="2026-10"), "read on the wrong meter"
    )
    return people


def run(query: dict):
    params = framework.parse_params(REPORT, {"from": "2026-10", "to": "2026-10", **query})
    return REPORT.run(params)


def run_live(query: dict):
    """The same report with every period summed from the bills (no rollup)."""
    original = rollups.keys_to_read_live
    rollups.keys_to_read_live = lambda name: None
    try:
        return run(query)
    finally:
        rollups.keys_to_read_live = original


def independent(period: str, **where) -> dict:
    """Sums taken straight from the bills, their lines and the ledger, not through the report."""
    bills = Bill.objects.filter(period=period, status=BillStatus.ISSUED, **where)
    ids = list(bills.values_list("pk", flat=True))
    lines = BillLine.objects.filter(bill_id__in=ids)
    charges = LedgerEntry.objects.filter(
        kind=EntryKind.CHARGE, idempotency_key__in=[f"bill:{pk}" for pk in ids]
    ).aggregate(s=DecimalSum("amount"))["s"] or Decimal("0.00")
    return {
        "bills": len(ids),
        "volume": bills.aggregate(s=DecimalSum("volume"))["s"] or Decimal("0.000"),
        "line_volume": lines.aggregate(s=DecimalSum("volume"))["s"] or Decimal("0.000"),
        "amount": bills.aggregate(s=DecimalSum("total"))["s"] or Decimal("0.00"),
        "line_amount": lines.aggregate(s=DecimalSum("amount"))["s"] or Decimal("0.00"),
        "other": (bills.aggregate(s=DecimalSum("minimum_top_up"))["s"] or Decimal(0))
        + (bills.aggregate(s=DecimalSum("meter_rent"))["s"] or Decimal(0)),
        "charges": -charges,
    }


def test_the_totals_equal_the_bills_their_lines_and_the_ledger_to_the_fen(month):
    truth = independent("2026-10")
    assert truth["bills"] == 7  # eight billed (the seller closed), one of them void
    assert truth["amount"] == truth["charges"] == truth["line_amount"] + truth["other"]
    assert truth["volume"] == truth["line_volume"] == Decimal("2145.000")
    total = run({}).total
    assert total["bills"] == truth["bills"] and total["households"] == truth["bills"]
    assert total["volume"] == truth["volume"]
    assert total["amount"] == truth["charges"]
    assert total["other_amount"] == truth["other"] == Decimal("68.00") + Decimal("5.00") * 2
    assert total["average"] == (truth["volume"] / truth["bills"]).quantize(Decimal("0.001"))
    # The void bill's charge was reversed in the ledger, and it counts nowhere in the report.
    void = Bill.objects.get(customer=month["voided"], period="2026-10")
    assert void.status == BillStatus.VOID and void.voided_at is not None
    assert LedgerEntry.objects.filter(reverses__idempotency_key=f"bill:{void.pk}").exists()


def test_the_tiers_and_the_other_items_add_up_to_the_amount(month):
    result = run({"group_by": "tier"})
    rows = {row["tier"]: row for row in result.rows}
    assert list(rows) == ["1", "2", "3", "other"]
    lines = BillLine.objects.filter(bill__period="2026-10", bill__status=BillStatus.ISSUED)
    for tier in (1, 2, 3):
        mine = lines.filter(tier=tier)
        assert rows[str(tier)]["volume"] == mine.aggregate(s=DecimalSum("volume"))["s"]
        assert rows[str(tier)]["amount"] == mine.aggregate(s=DecimalSum("amount"))["s"]
        assert rows[str(tier)]["bills"] == mine.values("bill").distinct().count()
    assert rows["3"]["bills"] == 1 and rows["2"]["bills"] == 2  # "three" and "two"
    assert rows["other"]["volume"] == 0 and rows["other"]["amount"] == Decimal("78.00")
    assert rows["other"]["average"] is None
    assert (
        sum(r["amount"] for r in result.rows) == result.total["amount"] == independent("2026-10")["charges"]
    )
    assert result.total["bills"] == 7  # each bill once, though the rows count 12
    assert sum(r["bills"] for r in result.rows) == 12


def test_category_is_the_one_billed_in_so_last_year_stays_put(month):
    rows = {row["category"]: row for row in run({"group_by": "category"}).rows}
    assert rows["residential"]["bills"] == 3  # small, two, three (voided excluded)
    assert rows["commercial"]["bills"] == 2  # shop and the transfer's new holder
    assert rows["industrial"]["bills"] == 2  # plant and changer (industrial since this year)
    # Last year the seller and the changer were residential: their gas stays there.
    assert rows["residential"]["volume_last_year"] == Decimal("18") + 25 + 30 + 40
    assert rows["industrial"]["volume_last_year"] == 0
    assert rows["industrial"]["volume_change_pct"] is None
    assert rows["commercial"]["volume_last_year"] == Decimal("50.000")
    for category, row in rows.items():
        truth = independent("2026-10", tariff__category=category)
        assert (row["volume"], row["amount"]) == (truth["volume"], truth["charges"])


def test_districts_and_the_filters(month):
    rows = {row["district"]: row for row in run({"group_by": "district"}).rows}
    assert set(rows) == {"朝阳区", "海淀区", "丰台区"}
    for district, row in rows.items():
        truth = independent("2026-10", customer__premises__district=district)
        assert (row["bills"], row["volume"], row["amount"]) == (
            truth["bills"],
            truth["volume"],
            truth["charges"],
        )
    # The transfer's new holder is on the seller's premises: 丰台区 both years.
    assert rows["丰台区"]["volume_last_year"] == Decimal("30.000")
    only = run({"group_by": "district", "category": "residential", "district": "海淀区"})
    assert [(r["district"], r["bills"], r["volume"]) for r in only.rows] == [
        ("海淀区", 1, Decimal("600.000"))
    ]
    tariff = Bill.objects.filter(customer=month["plant"]).get().tariff_id
    assert run({"tariff": str(tariff)}).total["volume"] == Decimal("1070.000")  # plant + changer


def test_period_rows_compare_with_the_same_month_last_year(month):
    result = framework.REPORTS["sales"].run(
        framework.parse_params(REPORT, {"from": "2025-09", "to": "2026-10", "group_by": "period"})
    )
    rows = {row["period"]: row for row in result.rows}
    assert list(rows) == framework.periods_between("2025-09", "2026-10")  # every month, billed or not
    assert rows["2026-09"]["bills"] == 0 and rows["2026-09"]["volume"] == 0
    assert rows["2026-09"]["volume_last_year"] == 0 and rows["2026-09"]["volume_change_pct"] is None
    assert rows["2026-10"]["volume_last_year"] == rows["2025-10"]["volume"] == Decimal("163.000")
    assert rows["2026-10"]["amount_last_year"] == rows["2025-10"]["amount"]
    change = (rows["2026-10"]["volume"] - Decimal(163)) * 100 / Decimal(163)
    assert rows["2026-10"]["volume_change_pct"] == change.quantize(Decimal("0.01"))
    # Over 14 months a row of months shows households per month; the total their average.
    assert result.total["bills"] == 12
    assert result.total["households"] == Decimal(12) / 14
    assert result.chart is not None and result.chart.kind == "line"
    assert result.chart.series == ("volume", "volume_last_year")


def test_billed_volume_for_the_supply_balance(month):
    volumes = sales.billed_volume("2025-10", "2026-10")
    assert volumes[("海淀区", "2026-10")] == Decimal("610.000")  # three + shop; the void bill not
    assert volumes[("丰台区", "2025-10")] == Decimal("30.000")
    assert (
        sum(volumes.values())
        == Bill.objects.filter(status=BillStatus.ISSUED).aggregate(s=DecimalSum("volume"))["s"]
    )
    assert sales.billed_volume("2026-10", "2026-10", district="丰台区") == {
        ("丰台区", "2026-10"): Decimal("1045.000")
    }


QUERIES = [{"group_by": g} for g in ("period", "category", "district", "tier")] + [
    {"group_by": "district", "category": "residential"}
]


def test_the_rollup_and_the_live_read_agree_after_a_refresh_and_after_changes(month):
    start = timezone.now()
    before = [run(q) for q in QUERIES]
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        assert rollups.refresh(["sales"]) == {"sales": 2}
    assert SalesRollup.objects.filter(period="2026-10").exists()
    # Nothing touched since the refresh: the report reads only the rollup.
    read_live = []
    original = store.aggregate
    store.aggregate = lambda periods, filters=None: read_live.append(periods) or original(periods, filters)
    try:
        with time_machine.travel(start + timedelta(hours=3), tick=False):
            after = [run(q) for q in QUERIES]
    finally:
        store.aggregate = original
    assert read_live == [[]] * (2 * len(QUERIES))
    for old, new in zip(before, after, strict=True):
        assert (old.rows, old.total) == (new.rows, new.total)
    # Changes after the refresh, one at a time: a bill voided, a premises' district corrected,
    # a parked account billed by hand. Each is seen at once (that period read live) and, after
    # the next refresh, from the rollup; both equal a read of the bills every time.
    late = make_customer(district="东城区")
    read(late, 12, local(2026, 10, 20))
    changes = [
        lambda: voiding.void_bill(Bill.objects.get(customer=month["two"], period="2026-10"), "duplicate"),
        lambda: customer_services.update_account(month["small"], district="东城区"),
        lambda: runs.bill_chunk(None, late.pk, late.pk, period_key="2026-10", force=True),
    ]
    hours = 4
    for change in changes:
        with time_machine.travel(start + timedelta(hours=hours), tick=False):
            change()
            assert "2026-10" in rollups.keys_to_read_live("sales")
            for query in QUERIES:
                now, live = run(query), run_live(query)
                assert (now.rows, now.total) == (live.rows, live.total), query
        with time_machine.travel(start + timedelta(hours=hours + 2), tick=False):
            rollups.refresh(["sales"])
        with time_machine.travel(start + timedelta(hours=hours + 4), tick=False):
            assert rollups.keys_to_read_live("sales") == set()
            for query in QUERIES:
                now, live = run(query), run_live(query)
                assert (now.rows, now.total) == (live.rows, live.total), query
        hours += 6
    assert run({}).total["bills"] == 7  # one more void, one more bill
    assert SalesRollup.objects.filter(period="2026-10", district="东城区").exists()


def test_a_finished_billing_run_refreshes_the_rollup(django_capture_on_commit_callbacks):
    beijing()
    customer = make_customer(district="朝阳区")
    read(customer, 20, local(2026, 10, 15))
    with django_capture_on_commit_callbacks(execute=True):
        bill_month("2026-10")
    assert RollupState.objects.filter(name="sales").exists()
    rows = sorted(SalesRollup.objects.filter(period="2026-10").values_list("tier", "bills", "volume"))
    assert rows == [(0, 1, Decimal("0.000")), (1, 0, Decimal("20.000"))]


def test_refresh_reports_command(month, capsys):
    call_command("refresh_reports")
    assert "sales: 2 keys rebuilt" in capsys.readouterr().out
    call_command("refresh_reports", "--full")
    assert "sales: 2 keys rebuilt" in capsys.readouterr().out
    assert SalesRollup.objects.filter(period="2025-10").exists()


def viewer():
    user = make_user("cashier")
    user.user_permissions.add(Permission.objects.get(codename="view_sales_report"))
    return user


def test_api_json_and_files(month, client):
    client.force_login(viewer())
    body = client.get("/api/v1/reports/sales/?from=2026-10&to=2026-10&group_by=category").json()
    assert set(body) == {"rows", "total"}
    first = body["rows"][0]
    assert first["category"] == "residential"
    assert set(first) == {
        "category",
        "bills",
        "households",
        "volume",
        "average",
        "amount",
        "other_amount",
        "volume_last_year",
        "amount_last_year",
        "volume_change_pct",
        "amount_change_pct",
    }
    assert isinstance(first["bills"], int) and first["volume"] == "1020.000"
    assert first["amount"] == f"{independent('2026-10', tariff__category='residential')['charges']:.2f}"
    assert body["total"]["category"] is None
    assert client.get("/api/v1/reports/sales/?group_by=channel").status_code == 400
    assert client.get("/api/v1/reports/sales/?category=martian").status_code == 400
    text = client.get("/api/v1/reports/sales/?from=2026-10&to=2026-10&format=csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["period", "bills", "households", "volume"]
    assert rows[1][:4] == ["2026-10", "7", "7", "2145.000"]
    assert rows[-1][0] == "total"
    response = client.get(
        "/reports/sales/?from=2026-10&to=2026-10&format=xlsx", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "售气量"
    assert values[-1][3] == 2145.0


def test_page_drills_down_to_the_bills(month, client):
    client.force_login(make_user("admin"))
    page = client.get("/reports/sales/?from=2026-10&to=2026-10&group_by=district").content.decode()
    assert 'data-testid="report-chart"' in page
    link = "/billing/bills/?status=issued&amp;from=2026-10&amp;to=2026-10&amp;district=%E6%B5%B7%E6%B7%80%E5%8C%BA"
    assert link in page
    listed = client.get(link.replace("&amp;", "&"))
    assert listed.context["page"].paginator.count == 2  # three and shop; the void bill not
    tier = client.get("/billing/bills/?status=issued&from=2026-10&to=2026-10&tier=3").context["page"]
    assert [b.customer_id for b in tier] == [month["three"].pk]
    resident = client.get("/billing/bills/?period=2025-10&category=residential").context["page"]
    assert resident.paginator.count == 4  # the seller and the changer were residential then


def test_customers_and_roles_without_the_permission_are_refused(client):
    client.force_login(make_user("customer"))
    assert client.get("/api/v1/reports/sales/").status_code == 403
    client.force_login(make_user("cashier"))
    assert client.get("/api/v1/reports/sales/").status_code == 403
    assert client.get("/reports/sales/").status_code == 403
