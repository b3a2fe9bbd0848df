"""The safety report against a month built by hand through the safety services: coverage,
nobody-home visits and follow-ups, hazards by level with closure days and overdue ones, and
emergencies with dispatch and arrival times, including visits and calls around local midnight;
the same figures read live and from the rollup; the percentile rule; who may see it."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from gasworks.reports import rollups
from gasworks.reports.framework import REPORTS, parse_params
from gasworks.reports.models import RollupState
from gasworks.reports.safety.percentiles import percentile, percentile_of_counts
from gasworks.safety.models import Crew, Hazard, InspectionTask, TaskKind, TaskStatus
from gasworks.safety.services import checklists, emergencies, hazards, inspections
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db
LOCAL = ZoneInfo("Asia/Shanghai")
TODAY = datetime.datetime(2026, 4, 5, 12, 0, tzinfo=LOCAL)


def at(day: str, hhmm: str = "10:00") -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=LOCAL)


def D(day: str) -> datetime.date:
    return datetime.date.fromisoformat(day)


class Clock:
    def __call__(self, when):
        return time_machine.travel(when, tick=False)


clock = Clock()


def _done(task, inspector, template):
    results = [inspections.ResultInput(item.code, "pass") for item in template.items.all()]
    return inspections.complete(
        task, results, by=inspector, confirmed_by_name="户主", customer_confirmed=True
    )


@pytest.fixture
def month(db):
    """March 2026, in two districts. Expected figures are worked out by hand in the test."""
    template = checklists.ensure_standard()
    inspector = make_user("inspector")
    dispatcher = make_user("dispatcher")
    east = {"district": "东区"}
    a, b, c, d, e, g, h = (make_customer(**east) for _ in range(7))
    f = make_customer(category="commercial", district="西区")

    def plan(customer, due):
        with clock(at("2026-02-20")):
            return inspections.create_task(customer, D(due), inspector=inspector, kind=TaskKind.ROUTINE)

    ta, tb, tc, td, _te = (
        plan(x, due)
        for x, due in (
            (a, "2026-03-10"),
            (b, "2026-03-05"),
            (c, "2026-03-08"),
            (d, "2026-03-20"),
            (e, "2026-03-25"),
        )
    )
    tf, tg, th = plan(f, "2026-04-02"), plan(g, "2026-02-28"), plan(h, "2026-02-28")
    with clock(at("2026-03-10", "23:30")):  # A: on its due day, at 23:30 local: in time
        _done(ta, inspector, template)
    with clock(at("2026-03-04")):  # B: nobody home, then its follow-up done before the due day ends
        follow = inspections.nobody_home(tb, "away", by=inspector)
    with clock(at("2026-03-05", "09:00")):
        _done(follow, inspector, template)
    with clock(at("2026-03-09", "00:30")):  # C: half an hour after its due day (UTC: still the 8th)
        _done(tc, inspector, template)
    with clock(at("2026-03-01")):
        inspections.cancel(td, "moved away", by=inspector)  # D: cancelled, not due
    # E stays open: due and not covered.
    with clock(at("2026-03-31", "23:30")):  # F: done on the range's last day (not due in it)
        _done(tf, inspector, template)
    with clock(at("2026-03-01", "00:30")):  # G: done on the first day, local time
        _done(tg, inspector, template)
    with clock(at("2026-02-28", "23:30")):  # H: done the day before the range
        _done(th, inspector, template)

    def raise_(customer, level, when, deadline=None):
        with clock(when):
            return hazards.raise_hazard(customer, level, "leak", by=inspector, deadline=deadline)

    def close(hazard, when):
        with clock(when - datetime.timedelta(minutes=1)):
            hazards.rectify(hazard, "fixed", by=inspector)
        with clock(when):
            hazards.close(hazard, "sound", by=inspector)

    h1 = raise_(a, "ordinary", at("2026-03-02"))
    close(h1, at("2026-03-06"))  # 4 days
    h2 = raise_(b, "key", at("2026-03-03", "23:30"))
    close(h2, at("2026-03-04", "00:30"))  # 1 local day (0 in UTC)
    h3 = raise_(f, "major", at("2026-03-10"))
    close(h3, at("2026-03-20"))  # 10 days
    raise_(c, "ordinary", at("2026-03-15"))  # open, deadline in April: not overdue
    raise_(e, "major", at("2026-03-01"))  # open past its deadline (4 March): overdue
    h6 = raise_(g, "key", at("2026-02-10"), D("2026-02-25"))
    with clock(at("2026-03-01")):
        hazards.rectify(h6, "fixed", by=inspector)  # waits for our re-inspection: not overdue
    h7 = raise_(h, "ordinary", at("2026-02-01"), D("2026-03-03"))
    close(h7, at("2026-04-02"))  # closed after the range: overdue on 31 March, not closed in it

    crew_x, crew_y = Crew.objects.create(name="X队"), Crew.objects.create(name="Y队")

    def call(priority, when, crew=None, dispatch=None, arrive=None, cancel=False, customer=None):
        with clock(when):
            case = emergencies.report(
                address="路1号", description="smell", priority=priority, by=dispatcher, customer=customer
            )
        if dispatch is not None:
            with clock(when + datetime.timedelta(minutes=dispatch)):
                case = emergencies.dispatch(case, crew, by=dispatcher)
        if arrive is not None:
            with clock(when + datetime.timedelta(minutes=arrive)):
                case = emergencies.arrive(case, by=dispatcher)
        if cancel:
            with clock(when + datetime.timedelta(minutes=1)):
                emergencies.cancel(case, "false alarm", by=dispatcher)
        return case

    call("critical", at("2026-03-02"), crew_x, 5, 25, customer=a)
    call("high", at("2026-03-12", "23:30"), crew_y, 10, 40, customer=f)
    call("high", at("2026-03-20"), crew_x, 15)
    call("normal", at("2026-03-25"), cancel=True)
    call("low", at("2026-04-01", "00:10"), crew_x, 3, 9)  # 31 March in UTC: outside the range
    return {"inspector": inspector, "dispatcher": dispatcher, "a": a, "template": template}


def run(**query):
    report = REPORTS["safety"]
    base = {"from": "2026-03-01", "to": "2026-03-31"}
    with clock(TODAY):
        return report.run(parse_params(report, {**base, **query}))


TOTAL = {
    "inspections_due": 4,
    "inspections_covered": 2,
    "coverage_pct": Decimal("50.00"),
    "inspections_done": 5,
    "nobody_home": 1,
    "nobody_home_pct": Decimal("16.67"),
    "follow_ups": 1,
    "follow_ups_done": 1,
    "hazards_raised": 5,
    "hazards_closed": 3,
    "closure_days_p50": Decimal("4.00"),
    "closure_days_p90": Decimal("8.80"),
    "hazards_overdue": 2,
    "emergencies": 4,
    "dispatch_minutes_mean": Decimal("10.00"),
    "dispatch_minutes_p90": Decimal("14.00"),
    "arrival_minutes_mean": Decimal("32.50"),
    "arrival_minutes_p90": Decimal("38.50"),
}


def test_the_month_adds_up_to_the_figures_worked_by_hand(month):
    result = run()
    assert result.total == TOTAL
    # The month row says the same as the total.
    assert [r["month"] for r in result.rows] == ["2026-03"]
    assert {k: result.rows[0][k] for k in TOTAL} == TOTAL
    # And independent counts from the tables agree with the hand figures.
    assert InspectionTask.objects.filter(status=TaskStatus.NOBODY_HOME).count() == 1
    assert Hazard.objects.filter(closed_at__isnull=False).count() == 4  # h7 closed in April


def test_the_rollup_gives_the_same_figures_and_stays_exact_after_new_rows(month):
    live = {g: run(group_by=g) for g in ("month", "district", "level", "crew", "priority")}
    with clock(TODAY):
        rollups.refresh(["safety"])
    for group, result in live.items():
        again = run(group_by=group)
        assert again.rows == result.rows and again.total == result.total, group
    # Rows recorded after the refresh are read live beside the rollup: the figures equal those
    # computed from the base tables alone.
    later = TODAY + datetime.timedelta(hours=1)
    with clock(later):
        hazards.raise_hazard(month["a"], "key", "another", by=month["inspector"])
        open_task = InspectionTask.objects.get(status=TaskStatus.ASSIGNED, kind=TaskKind.ROUTINE)
        _done(open_task, month["inspector"], month["template"])
    wide = {"to": "2026-04-05"}
    with_rollup = {g: run(group_by=g, **wide) for g in ("month", "district", "level")}
    assert with_rollup["month"].total["hazards_raised"] == 6
    assert with_rollup["month"].total["inspections_done"] == 6  # five in March, E on 5 April
    RollupState.objects.all().delete()
    for group, result in with_rollup.items():
        again = run(group_by=group, **wide)
        assert again.rows == result.rows and again.total == result.total, group
    # A hazard alone on a day the rollup already holds is read live too.
    # (More than the refresh's margin after the last visit, so only the hazard touches the day.)
    with clock(later + datetime.timedelta(hours=2)):
        rollups.refresh(["safety"])
    with clock(later + datetime.timedelta(hours=3)):
        hazards.raise_hazard(month["a"], "ordinary", "a third", by=month["inspector"])
    assert run(**wide).total["hazards_raised"] == 7


def test_groupings_split_the_figures_that_apply(month):
    level = {r["level"]: r for r in run(group_by="level").rows}
    assert {
        k: (r["hazards_raised"], r["hazards_closed"], r["hazards_overdue"]) for k, r in level.items()
    } == {
        "ordinary": (2, 1, 1),
        "key": (1, 1, 0),
        "major": (2, 1, 1),
    }
    assert "inspections_due" not in level["key"] and "emergencies" not in level["key"]
    crews = {r["crew"]: r for r in run(group_by="crew").rows}
    assert {k: r["emergencies"] for k, r in crews.items()} == {"X队": 2, "Y队": 1, "": 1}
    assert crews["X队"]["dispatch_minutes_mean"] == Decimal("10.00")
    districts = {r["district"]: r for r in run(group_by="district").rows}
    assert districts["东区"]["inspections_due"] == 4 and districts["东区"]["coverage_pct"] == Decimal("50.00")
    assert districts["西区"]["inspections_done"] == 1 and districts["西区"]["hazards_closed"] == 1
    # A filter narrows the figures it speaks about and blanks the others.
    only_major = run(level="major").total
    assert only_major["hazards_raised"] == 2 and "inspections_due" not in only_major
    assert run(district="西区").total["emergencies"] == 1
    assert run(priority="high").total["arrival_minutes_mean"] == Decimal("40.00")


def test_the_percentile_rule_is_linear_between_closest_ranks():
    # percentile_cont's rule: position (n − 1)·q, interpolated; not the nearest rank.
    assert percentile([1, 4, 10], "0.9") == Decimal("8.8")
    assert percentile([10, 1, 4], "0.5") == Decimal("4")
    assert percentile([1, 2, 3, 4], "0.5") == Decimal("2.5")
    assert percentile([7], "0.9") == Decimal("7")
    assert percentile([], "0.5") is None
    assert percentile_of_counts({1: 1, 4: 1, 10: 1}, "0.9") == Decimal("8.8")
    assert percentile_of_counts({2: 3, 5: 1}, "0.9") == percentile([2, 2, 2, 5], "0.9") == Decimal("4.1")


def test_api_and_page_for_the_roles_that_hold_it_and_403_for_others(client, month):
    for role in ("inspector", "dispatcher"):
        client.force_login(month[role])
        with clock(TODAY):
            body = client.get("/api/v1/reports/safety/?from=2026-03-01&to=2026-03-31").json()
            page = client.get("/reports/safety/?from=2026-03-01&to=2026-03-31&group_by=level")
        assert body["total"]["closure_days_p90"] == "8.80" and body["rows"][0]["month"] == "2026-03"
        assert page.status_code == 200 and "/safety/hazards/?" in page.content.decode()
    for role in ("customer", "cashier", "filler", "meter_reader"):
        client.force_login(make_user(role))
        assert client.get("/api/v1/reports/safety/").status_code == 403
        assert client.get("/reports/safety/").status_code == 403


def test_drill_downs_open_the_filtered_lists(client, month):
    client.force_login(make_user("admin"))
    with clock(TODAY):
        hazards_page = client.get("/safety/hazards/?status=all&level=major&from=2026-03-01&to=2026-03-31")
        tasks_page = client.get("/safety/inspections/?scope=all&district=西区&from=2026-03-01&to=2026-04-30")
        board = client.get("/safety/emergencies/?from=2026-03-01&to=2026-03-31&crew=X队")
    assert hazards_page.context["page"].paginator.count == 2
    assert [t.customer.premises.district for t in tasks_page.context["page"]] == ["西区"]
    assert len(board.context["matching"]) == 2
