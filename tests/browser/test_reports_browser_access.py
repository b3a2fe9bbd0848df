"""A station manager in the browser: the dashboard with its trend charts (fetched after load) and
the Reports menu; a background export of the customer list started from its page, its progress
bar polled until the file is ready, and the file downloaded. English, Chinese and a phone's width.
Screenshots: var/screenshots/dashboard-*.png, export-*.png."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.utils.translation import gettext_lazy as _
from playwright.sync_api import expect

from gasworks.reports import framework, trends
from gasworks.reports.framework import Column, Report, Result
from gasworks.reports.models import Export
from gasworks.system.services import set_parameters
from tests.factories import make_customer, make_user
from tests.ui import assert_fits, browser_page, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


class BilledVolume(Report):
    """Stands in for the manager's monthly reports (see the fixture)."""

    name = "browser-trend"
    title = _("Gas sold (m³)")
    permission = "reports.view_sales_report"
    period = "month"
    group_by = ("period",)

    def run(self, params):
        periods = framework.periods_between(params.period_from, params.period_to)
        rows = [{"period": p, "volume": Decimal(1000 + 37 * i)} for i, p in enumerate(periods)]
        return Result(
            [Column("period", _("Period"), "period"), Column("volume", _("Volume"), "volume")], rows, {}
        )


@pytest.fixture
def station(live_server, monkeypatch, settings):
    settings.DASHBOARD_TRENDS = True
    make_user("manager", username="zhanzhang")
    # The charts are drawn from a stand-in report: on SQLite the live server's request threads
    # share the test's one in-memory connection, so the real reports' queries (each trend's,
    # tested in tests/reports) running beside the export's worker thread could block each other
    # on it; a real server gives each thread its own connection.
    framework.register(BilledVolume())
    monkeypatch.setattr(
        trends,
        "TRENDS",
        [
            trends.Trend("sold", _("Gas sold (m³)"), "browser-trend", "volume", ("manager",), kind="bar"),
            trends.Trend("sold-line", _("Gas sold (m³)"), "browser-trend", "volume", ("manager",)),
        ],
    )
    set_parameters({"export_background_rows": "10"})
    for n in range(25):
        make_customer(name=f"用户{n:02d}")
    yield live_server
    framework.REPORTS.pop("browser-trend", None)


def _dashboard(page, name: str) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto("/")
    try:
        expect(page.locator('[data-testid="trend"]').first).to_be_visible(timeout=30000)
    except AssertionError:
        raise AssertionError(f"no trend drawn; the browser said: {problems}") from None
    expect(page.locator(".gw-trend canvas").first).to_be_visible()  # ECharts drew it
    expect(page.locator('#mainnav a[href="/reports/"]')).to_have_count(1)
    screenshot(page, f"dashboard-{name}")


def _export(page, name: str) -> bytes:
    page.goto("/customers/")
    with page.expect_navigation(timeout=30000):
        page.locator('[data-testid="customer-export"] button').click()
    assert "/reports/exports/" in page.url, page.content()[:3000]
    download_link = page.locator('[data-testid="export-download"]')
    expect(download_link).to_be_visible(timeout=30000)  # htmx polled the progress until done
    expect(page.locator('[data-testid="export-bar"]')).to_have_attribute("value", "100")
    screenshot(page, f"export-{name}")
    with page.expect_download() as info:
        download_link.click()
    with open(info.value.path(), "rb") as handle:
        return handle.read()


def _rows(body: bytes) -> list[tuple]:
    return list(openpyxl.load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))


def test_the_manager_sees_trends_and_exports_in_the_background(station):
    with browser_page(station.url) as page:
        log_in(page, "zhanzhang")
        _dashboard(page, "en")
        body = _export(page, "en")
        rows = _rows(body)
        assert rows[0][0] == "Customer list"
        assert sum(1 for r in rows if r[1] and str(r[1]).startswith("用户")) == 25
    assert Export.objects.filter(user__username="zhanzhang", status="done").count() == 1


def test_in_chinese(station):
    with browser_page(station.url, locale="zh-CN") as page:
        log_in(page, "zhanzhang")
        _dashboard(page, "zh")
        expect(page.locator("body")).to_contain_text("近 12 个月")
        body = _export(page, "zh")
        expect(page.locator("body")).to_contain_text("下载")
        assert _rows(body)[0][0] == "客户清单"


def test_at_a_phones_width(station):
    with browser_page(station.url) as page:
        page.set_viewport_size(PHONE)
        log_in(page, "zhanzhang")
        _dashboard(page, "phone")
        assert_fits(page)
        _export(page, "phone")
        assert_fits(page)
