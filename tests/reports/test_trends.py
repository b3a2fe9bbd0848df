"""The dashboard's trend charts: twelve months of a report's figure, computed through the report
frame (params, scope, run) after the page has loaded; trends of unregistered, forbidden or failing
reports are skipped; the landing page itself runs no report."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from gasworks.reports import framework, trends
from gasworks.reports.framework import Column, Report, Result
from gasworks.reports.trends import Trend

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 15)


class Monthly(Report):
    name = "trend-monthly"
    title = _("Reports")
    permission = "reports.view_sales_report"
    period = "month"
    group_by = ("category", "period")
    runs: list = []

    def run(self, params):
        self.runs.append(params)
        rows = [
            {"period": "2026-01", "category": "residential", "volume": Decimal("10.5")},
            {"period": "2026-01", "category": "commercial", "volume": Decimal("2.25")},
            {"period": "2026-11", "category": "residential", "volume": Decimal("7")},
            {"period": "2025-11", "category": "residential", "volume": Decimal("99")},  # 13 months back
        ]
        return Result(
            [Column("period", _("Period"), "period"), Column("volume", _("Volume"), "volume")], rows, {}
        )


class Daily(Report):
    name = "trend-daily"
    title = _("Reports")
    permission = "reports.view_own_collections"
    period = "day"
    group_by = ("day", "channel")

    def scope(self, user, params):
        return params.but(filters={**params.filters, "cashier": str(user.pk)})

    def run(self, params):
        self.seen = params
        rows = [
            {"day": date(2026, 3, 1), "amount": Decimal("1.10"), "cashier": "x"},
            {"day": date(2026, 3, 31), "amount": Decimal("2.20")},
            {"day": date(2026, 4, 2), "amount": Decimal("5.00")},
        ]
        return Result([Column("day", _("Day"), "day"), Column("amount", _("Amount"), "money")], rows, {})


class AsOf(Report):
    name = "trend-asof"
    title = _("Reports")
    permission = "reports.view_arrears_report"
    period = "as_of"
    fail = False

    def run(self, params):
        if self.fail:
            raise RuntimeError("broken")
        return Result([Column("total", _("Total"), "money")], [], {"total": Decimal(params.as_of.month)})


@pytest.fixture
def reports(monkeypatch):
    cache.clear()
    made = [framework.register(r) for r in (Monthly(), Daily(), AsOf())]
    monkeypatch.setattr(
        trends,
        "TRENDS",
        [
            Trend("m", _("Gas sold (m³)"), "trend-monthly", "volume", ("manager",), group_by="period"),
            Trend(
                "d",
                _("My collections"),
                "trend-daily",
                "amount",
                ("cashier", "manager"),
                group_by="day",
                x="day",
            ),
            Trend("a", _("Arrears owed"), "trend-asof", "total", ("manager",), grouping="months"),
            Trend("gone", _("Fills"), "no-such-report", "fills", ("manager",)),
        ],
    )
    yield {r.name: r for r in made}
    for r in made:
        framework.REPORTS.pop(r.name)
    cache.clear()


def _points(trend_key, user):
    trend = next(t for t in trends.TRENDS if t.key == trend_key)
    return dict(trends.points(trend, user, TODAY))


def test_rows_are_summed_per_month_over_the_last_twelve(reports, personas):
    points = _points("m", personas["manager"])
    assert list(points) == [f"2025-{m:02d}" for m in (12,)] + [f"2026-{m:02d}" for m in range(1, 12)]
    assert points["2026-01"] == Decimal("12.75") and points["2026-11"] == Decimal("7")
    assert points["2026-02"] is None and "2025-11" not in points
    params = reports["trend-monthly"].runs[-1]
    assert (params.period_from, params.period_to, params.group_by) == ("2025-12", "2026-11", "period")


def test_days_fold_into_months_and_the_users_scope_applies(reports, personas):
    points = _points("d", personas["cashier"])
    assert points["2026-03"] == Decimal("3.30") and points["2026-04"] == Decimal("5.00")
    seen = reports["trend-daily"].seen
    assert (seen.start, seen.end) == (date(2025, 12, 1), TODAY)
    assert seen.filters["cashier"] == str(personas["cashier"].pk)


def test_as_of_reports_are_run_once_a_month_at_its_end(reports, personas):
    points = _points("a", personas["manager"])
    assert points["2026-02"] == Decimal(2) and points["2026-11"] == Decimal(11)
    assert len(points) == 12


def test_each_role_gets_its_trends_and_unregistered_ones_are_skipped(reports, personas):
    assert [t.key for t in trends.trends_for(personas["manager"])] == ["m", "d", "a"]
    assert [t.key for t in trends.trends_for(personas["cashier"])] == ["d"]
    assert trends.trends_for(personas["filler"]) == []


def test_the_fragment_draws_the_charts_and_skips_a_failing_report(client, reports, personas):
    reports["trend-asof"].fail = True
    client.force_login(personas["manager"])
    page = client.get("/reports/trends/").content.decode()
    assert page.count('data-testid="trend"') == 2  # the failing as-of report is left out
    chart = json.loads(
        page.split('data-trend="m"')[0].rsplit('data-chart="', 1)[1].split('"')[0].replace("&quot;", '"')
    )
    assert chart["x"][0] == "2025-12" and chart["series"][0]["data"][1] == 12.75
    assert "<script>" not in page


def test_the_landing_page_runs_no_report_and_fetches_the_trends_after_load(
    client, reports, personas, monkeypatch, settings
):
    settings.DASHBOARD_TRENDS = True  # off in the suite (tests/conftest.py)

    def refuse(self, params):
        raise AssertionError("the landing page ran a report")

    monkeypatch.setattr(Monthly, "run", refuse)
    client.force_login(personas["manager"])
    home = client.get("/").content.decode()
    assert 'hx-get="/reports/trends/"' in home and 'hx-trigger="load"' in home
    assert "reports/trend_chart.js" in home
    client.force_login(personas["filler"])  # no trend for this role: no placeholder, no script
    home = client.get("/").content.decode()
    assert "/reports/trends/" not in home and "trend_chart.js" not in home


def test_the_points_are_cached_per_user(reports, personas):
    Monthly.runs = []
    trend = trends.TRENDS[0]
    trends.chart_for(trend, personas["manager"], TODAY)
    trends.chart_for(trend, personas["manager"], TODAY)
    assert len(Monthly.runs) == 1
    trends.chart_for(trend, personas["admin"], TODAY)
    assert len(Monthly.runs) == 2


def test_customers_and_strangers_get_no_trends(client, reports, personas):
    client.force_login(personas["customer"])
    assert client.get("/reports/trends/").status_code == 403
    client.logout()
    assert client.get("/reports/trends/").status_code == 302


@pytest.mark.django_db
def test_every_trend_names_a_registered_report_and_one_of_its_figures():

    for trend in trends.TRENDS:
        report = framework.REPORTS.get(trend.report)
        assert report is not None, f"{trend.key}: no report {trend.report}"
        query = {"group_by": trend.group_by} if trend.group_by else {}
        result = report.run(framework.parse_params(report, query))
        assert trend.figure in {c.key for c in result.columns}, f"{trend.key}: {trend.figure}"
