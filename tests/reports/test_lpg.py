"""The LPG report against a month built through the cylinders services: fills by day, filler,
station and size (with fills at 23:30 and 00:30 local time), refused fills by reason (recorded by
the filling service), deliveries, deposits held equal to the ledger's deposit entries, empties
owed and cylinders due; live and from the rollup; who may see it."""

import datetime
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from gasworks.billing.models import LedgerEntry
from gasworks.cylinders import deposits, orders, services
from gasworks.cylinders.models import Cylinder, Filling, FillRefusal, Station
from gasworks.errors import DomainError
from gasworks.lib.dates import start_of_day
from gasworks.lib.db import DecimalSum
from gasworks.reports import rollups
from gasworks.reports.framework import REPORTS, parse_params
from gasworks.reports.models import RollupState
from tests.cylinders.helpers import ensure_price
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db
LOCAL = ZoneInfo("Asia/Shanghai")
TODAY = datetime.datetime(2026, 4, 5, 12, 0, tzinfo=LOCAL)


def at(day: str, hhmm: str = "10:00") -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=LOCAL)


def clock(when):
    return time_machine.travel(when, tick=False)


def cylinder(code, model="YSP35.5", tare="15.000", made="2025-01-01", owner=None, **kw):
    data = services.CylinderData(
        code=code,
        model=model,
        tare_kg=Decimal(tare),
        manufactured_on=datetime.date.fromisoformat(made),
        **kw,
    )
    return services.register_cylinder(data, owner=owner)


@pytest.fixture
def month(db):
    f1, f2 = make_user("filler"), make_user("filler")
    worker = make_user("dispatcher")
    with clock(at("2026-03-01")):
        home = services.home_station()
        other = Station.objects.create(code="S02", name="二站")
        for n in range(1, 5):
            cylinder(f"C{n:03d}")
        cylinder("C005", model="YSP118", tare="48.000")
        cylinder("C006", owner=other)
        cylinder("C007", made="2020-01-01", next_inspection_on=datetime.date(2026, 3, 1))
        cylinder("C008")
        services.scrap("C008")
        for n in (9, 10, 11):
            cylinder(f"C{n:03d}")
        # An older civil cylinder at its scrap age (15 years) in March: due for inspection and scrap.
        cylinder("C012", made="2011-03-15", standard="GB5842-1996")
    ensure_price("110")

    def fill(code, gross, by, when):
        with clock(when):
            return services.record_filling(code, Decimal(gross), by=by)

    fill("C010", "29.000", f1, at("2026-02-28", "23:30"))  # the day before the range
    fill("C001", "29.500", f1, at("2026-03-03"))  # 14.500
    fill("C002", "29.250", f2, at("2026-03-03", "23:30"))  # 14.250, at 23:30 local
    fill("C003", "29.000", f1, at("2026-03-04", "00:30"))  # 14.000, 3 March in UTC
    fill("C005", "97.500", f2, at("2026-03-10"))  # 49.500
    fill("C011", "29.400", f2, at("2026-03-15", "09:00"))  # 14.400
    with pytest.raises(DomainError) as refused:
        fill("C004", "29.600", f1, at("2026-03-07"))  # overfill: 14.600 > 14.5 (C004 is empty then)
    assert refused.value.code == "overfill"
    fill("C004", "28.123", f1, at("2026-03-31", "23:30"))  # 13.123, the range's last minutes
    fill("C009", "29.000", f1, at("2026-04-01", "00:10"))  # after the range (UTC: 31 March)
    for code, gross, by, when, reason in (
        ("C001", "29.000", f1, at("2026-03-05"), "wrong_status"),  # already full
        ("C006", "29.000", f1, at("2026-03-05"), "not_owned"),
        ("C007", "29.000", f2, at("2026-03-06"), "inspection_overdue"),
        ("C008", "29.000", f2, at("2026-03-06"), "cylinder_scrapped"),
        ("C012", "29.000", f1, at("2026-04-02"), "past_scrap_date"),  # after the range
    ):
        with pytest.raises(DomainError) as refused:
            fill(code, gross, by, when)
        assert refused.value.code == reason

    k, l_, m = make_customer(), make_customer(), make_customer()

    def deliver(customer, codes, when, take_deposits=True):
        with clock(when):
            order = orders.place_order(customer, "YSP35.5", len(codes), "phone")
            orders.assign(order, worker, "京A·1")
            orders.load(order, codes)
            return orders.deliver(order, take_deposits=take_deposits)

    deliver(k, ["C001", "C002"], at("2026-03-12"))  # 220.00, deposits 200.00
    deliver(l_, ["C003"], at("2026-03-20", "23:30"))  # 110.00, deposit 100.00
    deliver(m, ["C011"], at("2026-03-16"), take_deposits=False)  # 110.00, no deposit: an empty owed
    with clock(at("2026-03-25")):
        deposits.return_for_good(k, ["C001"], "return-k-1")  # one deposit back: 100.00
    deliver(m, ["C009"], at("2026-04-01", "00:20"))  # after the range: a deposit of 100.00
    return {"filler": f1, "customers": (k, l_, m), "home": home}


def run(**query):
    report = REPORTS["lpg"]
    with clock(TODAY):
        return report.run(parse_params(report, {"from": "2026-03-01", "to": "2026-03-31", **query}))


TOTAL = {
    "fills": 6,
    "kg_filled": Decimal("119.773"),
    "refused": 5,
    "deliveries": 3,
    "cylinders_delivered": 4,
    "sales": Decimal("440.00"),
    "empties_back": 0,
    "deposits_taken": Decimal("300.00"),
    "deposits_refunded": Decimal("100.00"),
    "due_inspection": 2,
    "due_scrap": 1,
    "deposits_held": Decimal("200.00"),
    "empties_owed": 1,  # M: two held, one deposit (taken on 1 April)
}


def test_the_month_adds_up(month):
    result = run()
    assert result.total == TOTAL
    days = {r["day"].isoformat(): r for r in result.rows if r["fills"] or r["refused"] or r["deliveries"]}
    assert {d: (r["fills"], r["kg_filled"]) for d, r in days.items() if r["fills"]} == {
        "2026-03-03": (2, Decimal("28.750")),
        "2026-03-04": (1, Decimal("14.000")),
        "2026-03-10": (1, Decimal("49.500")),
        "2026-03-15": (1, Decimal("14.400")),
        "2026-03-31": (1, Decimal("13.123")),
    }
    assert len(result.rows) == 31  # every day of the range, for the chart
    # Independent sums from the base tables and the ledger.
    low, high = start_of_day(datetime.date(2026, 3, 1)), start_of_day(datetime.date(2026, 4, 1))
    fills = Filling.objects.filter(filled_at__gte=low, filled_at__lt=high)
    assert (fills.count(), fills.aggregate(kg=DecimalSum("net_kg"))["kg"]) == (6, Decimal("119.773"))
    ledger = LedgerEntry.objects.filter(kind="deposit", created_at__lt=high).aggregate(m=DecimalSum("amount"))
    assert -ledger["m"] == result.total["deposits_held"]
    owed = sum(orders.customer_cylinders(c)["empties_owed"] for c in month["customers"])
    assert owed == result.total["empties_owed"]


def test_refusals_are_recorded_by_the_filling_service_and_counted_by_reason(month):
    assert FillRefusal.objects.count() == 6
    by_reason = {r["reason"]: r["refused"] for r in run(group_by="reason").rows}
    assert by_reason == {
        "wrong_status": 1,
        "not_owned": 1,
        "inspection_overdue": 1,
        "cylinder_scrapped": 1,
        "overfill": 1,
    }
    # A refused fill wrote nothing of a fill: the cylinder is as it was.
    assert Cylinder.objects.get(code="C008").status == "scrapped"
    assert not Filling.objects.filter(cylinder__code__in=["C006", "C007", "C008"]).exists()


def test_groupings(month):
    fillers = {r["filler"]: (r["fills"], r["kg_filled"], r["refused"]) for r in run(group_by="filler").rows}
    f1 = month["filler"].username
    assert fillers[f1] == (3, Decimal("41.623"), 3)
    assert sum(v[0] for v in fillers.values()) == 6
    sizes = {r["size"]: r for r in run(group_by="size").rows}
    assert (sizes["YSP35.5"]["fills"], sizes["YSP35.5"]["kg_filled"]) == (5, Decimal("70.273"))
    assert sizes["YSP35.5"]["deliveries"] == 3 and sizes["YSP118"]["fills"] == 1
    stations = {r["station"]: r for r in run(group_by="station").rows}
    assert stations["S01"]["fills"] == 6 and stations["S01"]["due_inspection"] == 2
    assert "deliveries" not in stations["S01"]
    narrowed = run(station="S02").total
    assert narrowed["fills"] == 0 and "deposits_held" not in narrowed


def test_the_rollup_gives_the_same_figures_and_new_rows_are_read_live(month):
    groups = ("day", "filler", "station", "size", "reason")
    live = {g: run(group_by=g) for g in groups}
    with clock(TODAY):
        rollups.refresh(["lpg"])
    for group in groups:
        again = run(group_by=group)
        assert (again.rows, again.total) == (live[group].rows, live[group].total), group
    with clock(TODAY + datetime.timedelta(hours=1)), pytest.raises(DomainError):
        services.record_filling("C006", Decimal("29.000"), by=month["filler"])
    wide = {"to": "2026-04-05"}
    with_rollup = run(group_by="reason", **wide)
    assert {r["reason"]: r["refused"] for r in with_rollup.rows}["not_owned"] == 2
    RollupState.objects.all().delete()
    again = run(group_by="reason", **wide)
    assert (again.rows, again.total) == (with_rollup.rows, with_rollup.total)


def test_api_page_drill_and_403(client, month):
    client.force_login(month["filler"])
    with clock(TODAY):
        body = client.get("/api/v1/reports/lpg/?from=2026-03-01&to=2026-03-31").json()
        page = client.get("/reports/lpg/?from=2026-03-01&to=2026-03-31&group_by=station")
        text = client.get("/api/v1/reports/lpg/?from=2026-03-01&to=2026-03-31&format=csv").content.decode(
            "utf-8-sig"
        )
    assert body["total"]["kg_filled"] == "119.773" and body["total"]["deposits_held"] == "200.00"
    assert "total,6,119.773,5," in text
    assert page.status_code == 200 and "/cylinders/?due_by=2026-03-31" in page.content.decode()
    admin = make_user("admin")
    client.force_login(admin)
    with clock(TODAY):
        due = client.get("/cylinders/?due_by=2026-03-31&station=S01")
        delivered = client.get("/cylinders/orders/?status=delivered&from=2026-03-12&to=2026-03-12")
    assert sorted(c.code for c in due.context["page"]) == ["C007", "C012"]
    assert delivered.context["page"].paginator.count == 1
    for role in ("customer", "cashier", "inspector", "meter_reader"):
        client.force_login(make_user(role))
        assert client.get("/api/v1/reports/lpg/").status_code == 403
        assert client.get("/reports/lpg/").status_code == 403


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_page_writes_its_numbers_as_django_filters_did(client, month, monkeypatch, language):
    """The page's cells come from per-column formatters (gasworks.reports.number_cells): the
    whole page is the same as with floatformat and intcomma per cell, in either language."""
    from django.contrib.humanize.templatetags.humanize import intcomma
    from django.template.defaultfilters import floatformat

    from gasworks.reports import views

    client.force_login(make_user("admin"))
    url = "/reports/lpg/?from=2026-03-01&to=2026-03-31"
    with clock(TODAY):
        fast = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        monkeypatch.setattr(views, "count_cells", lambda: intcomma)
        monkeypatch.setattr(
            views,
            "decimal_cells",
            lambda places, grouped: lambda v: floatformat(v, f"{places}{'g' * grouped}"),
        )
        slow = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    tables = lambda html: re.findall(r"<table.*?</table>", html, re.S)  # noqa: E731
    assert "119.773" in tables(fast)[0] and tables(fast) == tables(slow)
