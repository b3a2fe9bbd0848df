"""The arrears report in the browser: aging stacked per district with its chart, the 12-month
trend as a line, the drill-down from a district to its accounts on the arrears page, in English,
in Chinese and at phone width. Screenshots: var/screenshots/report-arrears-*.png."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_user
from tests.reports.test_arrears_report import HISTORY
from tests.ui import assert_fits, browser_page, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def debts(live_server):
    from tests.billing.test_arrears_set import build

    make_user("admin", username="boss")
    build(HISTORY)
    return live_server


def test_aging_by_district_with_its_chart_and_the_drill_down_to_the_accounts(debts):
    with browser_page(debts.url) as page:
        log_in(page, "boss")
        page.goto("/reports/arrears/?group_by=district")
        expect(page.locator("h1")).to_have_text("Arrears")
        expect(page.locator("#report-chart canvas")).to_have_count(1)
        expect(page.locator('[data-testid="report-table"] tbody tr')).to_have_count(2)
        expect(page.locator('[data-testid="report-total"]')).to_contain_text("Total")
        screenshot(page, "report-arrears-district")
        page.locator('[data-testid="report-table"] tbody tr', has_text="海淀区").locator("a").first.click()
        page.wait_for_load_state("networkidle")
        assert "/billing/overdue/" in page.url and "district=" in page.url
        expect(page.locator("tbody tr")).to_have_count(1)
        expect(page.locator("#f-district")).to_have_value("海淀区")
        screenshot(page, "report-arrears-drill")


def test_the_trend_is_a_line_over_twelve_months(debts):
    with browser_page(debts.url) as page:
        log_in(page, "boss")
        page.goto("/reports/arrears/?group_by=month")
        expect(page.locator("#report-chart canvas")).to_have_count(1)
        expect(page.locator('[data-testid="report-table"] tbody tr')).to_have_count(12)
        screenshot(page, "report-arrears-trend")


def test_the_report_in_chinese_and_on_a_phone(debts):
    with browser_page(debts.url, locale="zh-CN") as page:
        log_in(page, "boss")
        page.goto("/reports/arrears/?group_by=category")
        expect(page.locator("h1")).to_have_text("欠费")
        expect(page.locator('[data-testid="report-table"]')).to_contain_text("居民")
        expect(page.locator('[data-testid="report-table"] thead')).to_contain_text("90 天以上")
        screenshot(page, "report-arrears-zh")
        page.set_viewport_size(PHONE)
        page.goto("/reports/arrears/?group_by=district")
        expect(page.locator("#report-chart canvas")).to_have_count(1)
        screenshot(page, "report-arrears-phone")
        assert_fits(page)
