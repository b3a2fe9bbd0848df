"""The meter reading report in a real browser: completion by route as bars, flags by rule as a
pie, a route's drill-down to its unread meters, the page in Chinese, and a meter reader on a
phone. Screenshots: var/screenshots/report-reading-*.png."""

import pytest
from playwright.sync_api import expect

from tests.reports.test_reading import world  # noqa: F401  (the January of mixed activity)
from tests.ui import assert_fits, browser_page, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
JANUARY = "from=2026-01-01&to=2026-01-31"


def _chart_drawn(page):
    expect(page.locator("#report-chart canvas")).to_have_count(1)


def test_routes_rules_and_drill_down_in_english(live_server, world):  # noqa: F811
    with browser_page(live_server.url) as page:
        log_in(page, world.admin.username)
        page.goto(f"/reports/reading/?{JANUARY}&group_by=route")
        expect(page.locator("h1")).to_have_text("Meter reading")
        rows = page.locator("[data-testid=report-table] tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.first).to_contain_text("A 册")
        expect(page.locator("[data-testid=report-total]")).to_contain_text("77.78 %")
        _chart_drawn(page)
        screenshot(page, "report-reading-route")
        page.locator("tbody tr", has_text="B 册").locator("[data-testid=drill]").click()
        page.wait_for_load_state()
        expect(page.locator("#f-group")).to_have_value("unread")
        expect(page.locator("[data-testid=report-table] tbody tr")).to_have_count(1)
        expect(page.locator("[data-testid=report-table] tbody")).to_contain_text("B2")
        screenshot(page, "report-reading-unread")
        page.goto(f"/reports/reading/?{JANUARY}&group_by=rule")
        expect(page.locator("[data-testid=report-table] tbody")).to_contain_text(
            "Reverse (register went backwards)"
        )
        _chart_drawn(page)
        screenshot(page, "report-reading-rule")


def test_the_report_in_chinese(live_server, world):  # noqa: F811
    with browser_page(live_server.url, locale="zh-CN") as page:
        log_in(page, world.admin.username)
        page.goto("/")
        with page.expect_navigation():  # the switch reloads the page: wait for it, not just "loaded"
            page.select_option("[data-testid=language]", "zh-hans")
        page.goto(f"/reports/reading/?{JANUARY}&group_by=route")
        expect(page.locator("h1")).to_have_text("抄表")
        expect(page.locator("thead")).to_contain_text("抄表率")
        expect(page.locator("[data-testid=report-table] tbody")).to_contain_text("（不在抄表册中）")
        _chart_drawn(page)
        screenshot(page, "report-reading-zh")
        page.goto(f"/reports/reading/?{JANUARY}&group_by=rule")
        expect(page.locator("[data-testid=report-table] tbody")).not_to_contain_text("Reverse")
        screenshot(page, "report-reading-rule-zh")


def test_a_meter_reader_on_a_phone_sees_their_route(live_server, world):  # noqa: F811
    with browser_page(live_server.url) as page:
        page.set_viewport_size(PHONE)
        log_in(page, world.r1.username)
        page.goto(f"/reports/reading/?{JANUARY}&group_by=route")
        rows = page.locator("[data-testid=report-table] tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("A 册")
        _chart_drawn(page)
        assert_fits(page)
        screenshot(page, "report-reading-phone")
