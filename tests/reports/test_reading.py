"""The meter reading report (抄表): its figures against counts taken independently from the
readings and meters, for a January of mixed activity (accepted, estimated, flagged then approved,
flagged then rejected, awaiting review, three VEE rules, a replaced meter, readings at 23:30 and
00:30 local time); the rollup, live and mixed paths equal; a meter reader sees only their routes;
customers get 403."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from gasworks.metering import services
from gasworks.metering.models import Meter, Reading, ReadingRoute, ReadingStatus, RouteStop
from gasworks.reports import rollups
from gasworks.reports.framework import REPORTS, parse_params
from gasworks.reports.models import RollupState
from gasworks.reports.reading import store
from gasworks.reports.reading.models import MeterLastRead
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db

TZ = timezone.get_default_timezone()
TODAY = dt.date(2026, 2, 10)
REAL = {ReadingStatus.ACCEPTED, ReadingStatus.FLAGGED, ReadingStatus.APPROVED}


def local(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def d(month: int, day: int, year: int = 2026) -> dt.date:
    return dt.date(year, month, day)


class World:
    """What the scenario made, by name."""


def _meter(district: str, installed: dt.date, serial: str, initial="90") -> Meter:
    customer = make_customer(district=district)
    with time_machine.travel(local(installed, 8), tick=False):
        return services.install_meter(
            serial, customer.premises, installed_on=installed, initial_reading=Decimal(initial)
        )


def _read(meter: Meter, value, when: dt.datetime) -> Reading:
    with time_machine.travel(when, tick=False):
        return services.record_reading(meter, Decimal(str(value)), when)


def _route(name: str, reader, meters) -> ReadingRoute:
    from gasworks.metering import routes

    with time_machine.travel(local(d(1, 1, 2026), 7), tick=False):
        return routes.create_route(name, reader, [m.pk for m in meters])


@pytest.fixture
def world():
    w = World()
    w.r1, w.r2 = make_user("meter_reader"), make_user("meter_reader")
    w.admin = make_user("admin")
    dec1, oct1, sep1 = d(12, 1, 2025), d(10, 1, 2025), d(9, 1, 2025)
    w.a1 = _meter("朝阳区", dec1, "A1")
    w.a2 = _meter("朝阳区", oct1, "A2")
    w.a3 = _meter("朝阳区", sep1, "A3")
    w.old = _meter("海淀区", dec1, "OLD")
    w.b1, w.b2, w.b3 = (_meter("海淀区", dec1, s) for s in ("B1", "B2", "B3"))
    w.c1 = _meter("朝阳区", dec1, "C1")
    w.route_a = _route("A 册", w.r1, [w.a1, w.a2, w.a3, w.old])
    w.route_b = _route("B 册", w.r2, [w.b1, w.b2, w.b3])
    # December: the month before.
    for m in (w.a1, w.old, w.b1, w.b2, w.b3, w.c1):
        _read(m, 100, local(d(12, 20, 2025)))
    for month, value in ((10, 110), (11, 120), (12, 130)):
        _read(w.a3, value, local(d(month, 1, 2025)))
    # January.
    _read(w.a1, 110, local(d(1, 5)))
    _read(w.a1, 125, local(d(1, 20)))  # a second reading: the meter counts once
    w.gap = _read(w.a2, 150, local(d(1, 8)))  # 99 days after install: flagged "gap"
    with time_machine.travel(local(d(1, 9)), tick=False):
        services.approve(w.gap, by=w.admin)
    with time_machine.travel(local(d(1, 15)), tick=False):
        w.estimate = services.estimate_reading(w.a3, local(d(1, 15)))
    _read(w.old, 105, local(d(1, 3)))
    with time_machine.travel(local(d(1, 12), 12), tick=False):
        w.new = services.replace_meter(w.old, Decimal("108"), "NEW", d(1, 12), by=w.admin)
    _read(w.new, 12, local(d(1, 31), 23, 30))  # 23:30 local: still January
    _read(w.a3, 160, local(d(2, 1), 0, 30))  # 00:30 local on 1 February (31 January in UTC)
    w.reverse = _read(w.b1, 90, local(d(1, 10)))  # backwards: flagged "reverse", a tamper alert
    with time_machine.travel(local(d(1, 11)), tick=False):
        services.reject(w.reverse, by=w.admin)
    _read(w.b1, 110, local(d(1, 22)))
    with time_machine.travel(local(d(1, 25)), tick=False):
        services.close_alert(w.reverse.alerts.get(), by=w.admin)
    _read(w.b3, 100, local(d(1, 15)))  # no use since December: zero use
    _read(w.c1, 120, local(d(1, 7)))
    w.duplicate = _read(w.c1, 120, local(d(1, 7), 10, 5))  # "duplicate", left for review
    assert w.gap.flags == ["gap"] and w.reverse.flags == ["reverse"] and w.duplicate.flags == ["duplicate"]
    return w


def run(query: dict, user=None, today=TODAY):
    report = REPORTS["reading"]
    with time_machine.travel(local(today, 12), tick=False):
        params = parse_params(report, query)
        if user is not None:
            params = report.scope(user, params)
        return report.run(params)


def rows_by(result, key):
    return {row[key]: row for row in result.rows}


# ---------------------------------------------------------------- independent counts


def route_of(meter_id: int) -> int:
    return min(RouteStop.objects.filter(meter_id=meter_id).values_list("route_id", flat=True), default=0)


def expected(start: dt.date, end: dt.date, key) -> dict:
    """Due, read and readings per group straight from the meters and readings, by the report's
    stated definition, one meter and one month at a time."""
    out: dict = defaultdict(lambda: defaultdict(int))
    readings = list(Reading.objects.all())
    month = start.replace(day=1)
    while month <= end:
        nxt = (month + dt.timedelta(days=32)).replace(day=1)
        a, b = max(start, month), min(end, nxt - dt.timedelta(days=1))
        for meter in Meter.objects.select_related("premises"):
            if meter.installed_on > b or (meter.removed_on and meter.removed_on < a):
                continue
            days = sorted(
                timezone.localtime(r.taken_at, TZ).date()
                for r in readings
                if r.meter_id == meter.pk and r.status in REAL
            )
            if any(month <= day < a for day in days):
                continue
            group = key(meter)
            out[group]["due"] += 1
            out[group]["read"] += any(a <= day <= b for day in days)
        month = nxt
    for r in readings:
        if start <= timezone.localtime(r.taken_at, TZ).date() <= end:
            group = key(r.meter)
            out[group]["readings"] += 1
            out[group]["estimated"] += r.status == ReadingStatus.ESTIMATED
            out[group]["flagged"] += bool(r.flags)
            out[group]["awaiting"] += r.status == ReadingStatus.FLAGGED
    return {k: dict(v) for k, v in out.items()}


FIGURES = ("due", "read", "readings", "estimated", "flagged", "awaiting")


def figures(result, key) -> dict:
    return {row[key]: {f: row[f] for f in FIGURES} for row in result.rows}


# ---------------------------------------------------------------- tests


def test_january_by_route_equals_counts_taken_from_the_readings(world):
    result = run({"from": "2026-01-01", "to": "2026-01-31", "group_by": "route"}, world.admin)
    a, b = world.route_a.pk, world.route_b.pk
    got = rows_by(result, "route")
    # Worked by hand: route A's four meters are due, the estimate-only meter is not read.
    assert {k: (r["due"], r["read"], r["readings"]) for k, r in got.items()} == {
        a: (4, 3, 6),
        b: (3, 2, 3),
        0: (2, 2, 3),
    }
    assert got[a]["completion_pct"] == Decimal("75.00") and got[a]["estimated"] == 1
    assert (got[b]["flagged"], got[b]["alerts_opened"], got[b]["alerts_closed"]) == (1, 1, 1)
    assert (got[0]["flagged"], got[0]["awaiting"]) == (1, 1)
    expect = expected(d(1, 1), d(1, 31), lambda m: route_of(m.pk))
    assert figures(result, "route") == expect
    assert (
        result.total["due"] == 9
        and result.total["read"] == 7
        and result.total["completion_pct"] == Decimal("77.78")
    )
    assert result.total["flagged_pct"] == Decimal("25.00")  # 3 of 12 readings


@pytest.mark.parametrize(
    ("start", "end"), [(d(1, 10), d(1, 31)), (d(1, 13), d(2, 10)), (d(12, 15, 2025), d(2, 5))]
)
def test_part_months_and_several_months_by_district_and_reader(world, start, end):
    for group, key in (
        ("district", lambda m: m.premises.district),
        (
            "reader",
            lambda m: (
                ReadingRoute.objects.filter(pk=route_of(m.pk)).values_list("reader_id", flat=True).first()
                or 0
            ),
        ),
    ):
        result = run({"from": start.isoformat(), "to": end.isoformat(), "group_by": group}, world.admin)
        assert figures(result, group) == {
            k: v for k, v in expected(start, end, key).items() if any(v.values())
        }


def test_a_meter_read_and_removed_before_the_period_is_not_due(world):
    got = rows_by(run({"from": "2026-01-13", "to": "2026-01-31"}, world.admin), "route")
    assert (got[world.route_a.pk]["due"], got[world.route_a.pk]["read"]) == (1, 0)  # only A3
    got = rows_by(run({"from": "2026-01-10", "to": "2026-01-31"}, world.admin), "route")
    assert got[world.route_a.pk]["due"] == 1  # OLD read on the 3rd: no longer due on the 10th


def test_flags_by_rule_with_labels_in_the_users_language(world, client):
    result = run({"from": "2026-01-01", "to": "2026-01-31", "group_by": "rule"}, world.admin)
    got = rows_by(result, "rule")
    assert {k: (r["flags"], r["awaiting"], r["approved"], r["rejected"]) for k, r in got.items()} == {
        "gap": (1, 0, 1, 0),
        "reverse": (1, 0, 0, 1),
        "duplicate": (1, 1, 0, 0),
    }
    assert got["gap"]["share_pct"] == Decimal("8.33") and result.chart.kind == "pie"
    client.force_login(world.admin)
    page = client.get(
        "/reports/reading/?from=2026-01-01&to=2026-01-31&group_by=rule", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    from django.utils import translation

    with translation.override("zh-hans"):
        from gasworks.metering.vee import RULE_LABELS

        assert (
            str(RULE_LABELS["reverse"]) in page
            and str(RULE_LABELS["reverse"]) != "Reverse (register went backwards)"
        )
    assert "group_by=flagged" in page and "rule=gap" in page  # drill: the rule's readings
    body = client.get("/api/v1/reports/reading/?from=2026-01-01&to=2026-01-31&group_by=rule").json()
    assert {r["rule"] for r in body["rows"]} == {"gap", "reverse", "duplicate"}  # codes in JSON


def test_rollup_live_and_mixed_paths_agree(world):
    query = {"from": "2026-01-01", "to": "2026-01-31"}
    groupings = ("route", "reader", "district", "rule")

    def all_of():
        return {g: run({**query, "group_by": g}, world.admin) for g in groupings}

    def same(x, y):
        for g in groupings:
            assert x[g].rows == y[g].rows and x[g].total == y[g].total, g

    live = all_of()
    assert not RollupState.objects.exists()
    with time_machine.travel(local(TODAY, 3), tick=False):
        assert rollups.refresh(["reading_day", "reading_meter_day", "reading_last"])["reading_day"] > 0
    with time_machine.travel(local(TODAY + dt.timedelta(days=1), 3), tick=False):
        # Nothing changed: every key from the rollup, none live.
        assert rollups.keys_to_read_live("reading_day") == set()
    same(all_of(), live)
    # After the refresh: a review (recorded by its audit entry), a reading taken in January but
    # recorded in February, and a new tamper alert.
    later = local(TODAY + dt.timedelta(days=1), 9)
    with time_machine.travel(later, tick=False):
        services.approve(world.duplicate, by=world.admin)
        services.record_reading(world.b2, Decimal("130"), local(d(1, 30)))
        services.record_reading(world.b3, Decimal("80"), local(d(1, 31)))  # reverse: alert
        # Before A1's first January reading (the 5th): now the first is on the 2nd, and the 5th
        # (rolled up as a first read) must be rebuilt too.
        services.record_reading(world.a1, Decimal("108"), local(d(1, 2)))
    mixed = {g: run({**query, "group_by": g}, world.admin, TODAY + dt.timedelta(days=1)) for g in groupings}
    states = list(RollupState.objects.all())
    RollupState.objects.all().delete()
    fresh = {g: run({**query, "group_by": g}, world.admin, TODAY + dt.timedelta(days=1)) for g in groupings}
    RollupState.objects.bulk_create(states)
    same(mixed, fresh)
    assert rows_by(mixed["route"], "route")[world.route_b.pk]["read"] == 3  # B2 read late
    assert rows_by(mixed["rule"], "rule")["duplicate"]["approved"] == 1
    assert figures(mixed["route"], "route") == expected(d(1, 1), d(1, 31), lambda m: route_of(m.pk))
    with time_machine.travel(later + dt.timedelta(hours=2), tick=False):
        rollups.refresh(["reading_day", "reading_meter_day", "reading_last"])
    same(
        {g: run({**query, "group_by": g}, world.admin, TODAY + dt.timedelta(days=1)) for g in groupings},
        fresh,
    )


def test_lists_unread_silent_zero_use_and_flagged(world):
    query = {"from": "2026-01-01", "to": "2026-01-31"}
    unread = run({**query, "group_by": "unread"}, world.admin)
    assert {(r["meter"], r["month"]) for r in unread.rows} == {("A3", "2026-01"), ("B2", "2026-01")}
    silent = run({**query, "group_by": "silent", "days": "30"}, world.admin)
    # As of 10 February, no real reading since 11 January (OLD is removed, A3 read on 1 Feb).
    assert {r["meter"] for r in silent.rows} == {"A2", "B2", "C1"}
    assert rows_by(silent, "meter")["B2"]["quiet_days"] == 52
    with time_machine.travel(local(TODAY, 3), tick=False):
        rollups.refresh(["reading_last"])
    assert MeterLastRead.objects.filter(active=True).count() == 8
    assert run({**query, "group_by": "silent", "days": "30"}, world.admin).rows == silent.rows
    zero = run({**query, "group_by": "zero_use"}, world.admin)
    assert [(r["meter"], r["readings"]) for r in zero.rows] == [("B3", 1)]
    flagged = run({**query, "group_by": "flagged", "rule": "reverse"}, world.admin)
    assert [(r["meter"], r["rules"], r["status"]) for r in flagged.rows] == [("B1", "reverse", "rejected")]
    assert len(run({**query, "group_by": "flagged"}, world.admin).rows) == 3


def test_drill_from_a_route_lists_its_unread_meters(world, client):
    client.force_login(world.admin)
    page = client.get("/reports/reading/?from=2026-01-01&to=2026-01-31&group_by=route").content.decode()
    link = f"group_by=unread&amp;route={world.route_b.pk}"
    assert link in page
    listed = client.get(
        f"/api/v1/reports/reading/?from=2026-01-01&to=2026-01-31&group_by=unread&route={world.route_b.pk}"
    ).json()
    assert [r["meter"] for r in listed["rows"]] == ["B2"]


def test_a_meter_reader_sees_only_their_routes_and_customers_get_403(world, client):
    client.force_login(world.r1)
    body = client.get("/api/v1/reports/reading/?from=2026-01-01&to=2026-01-31&group_by=route").json()
    assert [r["route"] for r in body["rows"]] == [world.route_a.pk]
    other = f"/api/v1/reports/reading/?from=2026-01-01&to=2026-01-31&route={world.route_b.pk}"
    assert client.get(other).json()["rows"] == []
    listed = client.get("/api/v1/reports/reading/?from=2026-01-01&to=2026-01-31&group_by=unread").json()
    assert [r["meter"] for r in listed["rows"]] == ["A3"]
    assert client.get("/reports/reading/?from=2026-01-01&to=2026-01-31").status_code == 200
    client.force_login(make_user("customer"))
    assert client.get("/api/v1/reports/reading/").status_code == 403
    assert client.get("/reports/reading/").status_code in (302, 403)
    client.force_login(make_user("filler"))
    assert client.get("/api/v1/reports/reading/").status_code == 403


def test_bad_parameters_are_400(world, client):
    client.force_login(world.admin)
    for bad in ("group_by=meter", "days=7", "rule=martian", "route=x", "from=2026-02-30"):
        assert client.get(f"/api/v1/reports/reading/?{bad}").status_code == 400, bad


def test_touched_sees_review_by_its_audit_time(world):
    since = local(TODAY, 0)
    assert store.touched_reading_days(since) == set()
    with time_machine.travel(local(TODAY, 9), tick=False):
        services.approve(world.duplicate, by=world.admin)
    assert d(1, 7) in store.touched_reading_days(since)
    assert store.touched_meters(since) == {world.c1.pk}


def test_the_page_and_the_excel_file_in_chinese(world, client):
    import io

    import openpyxl

    client.force_login(world.admin)
    url = "/reports/reading/?from=2026-01-01&to=2026-01-31&group_by=route"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "抄表率" in page and "（不在抄表册中）" in page and "A 册" in page
    for english in ("Meters due", "Completion", "not on a route", "Tamper alerts"):
        assert english not in page
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(url + "&format=xlsx", HTTP_ACCEPT_LANGUAGE="zh-hans").content)
    )
    values = [list(r) for r in book.active.iter_rows(values_only=True)]
    assert values[0][0] == "抄表" and values[-2][:4] == ["（不在抄表册中）", 2, 2, 100.0]


def test_the_full_refresh_of_last_reads_equals_the_per_meter_rebuild(world):
    # rebuild_all (one grouped INSERT ... SELECT) and the per-meter path used by incremental
    # refreshes must write the same rows: the removed meter, the unread one, the estimate.

    def rows():
        return sorted(MeterLastRead.objects.values_list("meter_id", "active", "quiet_since"))

    with time_machine.travel(local(d(1, 31)), tick=False):
        services.estimate_reading(w_a1 := world.a1, local(d(1, 31)))  # newest, not a real reading
    assert w_a1.readings.order_by("-taken_at").first().status == ReadingStatus.ESTIMATED
    with time_machine.travel(local(TODAY, 3), tick=False):
        assert store.rebuild_all_last_reads() == Meter.objects.count()
        full = rows()
        store.rebuild_last_reads(store.all_meter_ids())
    assert full == rows() and len(full) == Meter.objects.count()
