"""The gas sales report in the browser: its chart drawn, table and totals, in English and in
Chinese, usable on a phone (390 px), and a row's drill-down to the bills behind it. Screenshots
land in var/screenshots/report-sales-*.png."""

import pytest
import time_machine
from playwright.sync_api import expect

from gasworks.billing import runs
from tests.billing.helpers import beijing, flat, local, read
from tests.factories import make_customer, make_user
from tests.ui import assert_fits, browser_page, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
QUERY = "/reports/sales/?from=2025-11&to=2026-10"


@pytest.fixture
def sales(live_server):
    make_user("admin", username="manager1")
    beijing()
    flat("commercial", "3.20", minimum_charge="100", meter_rent="5")
    flat("industrial", "2.90")
    people = [
        make_customer(district=district, category=category)
        for district, category in (
            ("朝阳区", "residential"),
            ("朝阳区", "residential"),
            ("海淀区", "residential"),
            ("海淀区", "commercial"),
            ("丰台区", "industrial"),
        )
    ]
    for year, month in ((2025, 10), (2025, 11), (2026, 1), (2026, 4), (2026, 7), (2026, 9), (2026, 10)):
        for n, customer in enumerate(people):
            read(customer, 30 + 40 * n + month * 3 + (year - 2025) * 10, local(year, month, 15))
        with time_machine.travel(local(year + (month == 12), month % 12 + 1, 1), tick=False):
            runs.execute(runs.start_run(f"{year}-{month:02d}"))
    return live_server


def test_the_sales_report_in_english_with_its_chart_and_drill_down(sales):
    with browser_page(sales.url) as page:
        log_in(page, "manager1")
        page.goto(QUERY)
        expect(page.locator("h1")).to_have_text("Gas sales")
        expect(page.locator("#report-chart canvas")).to_have_count(1)
        expect(page.locator("[data-testid=report-table] tbody tr")).to_have_count(12)  # every month
        expect(page.locator("[data-testid=report-total]")).to_contain_text("Total")
        screenshot(page, "report-sales-en")
        page.select_option("#f-group", "district")
        page.click("[data-testid=report-apply]")
        expect(page.locator("[data-testid=report-table] tbody tr")).to_have_count(3)
        screenshot(page, "report-sales-district-en")
        page.locator("[data-testid=drill]").first.click()
        expect(page.locator("h1")).to_have_text("Bills")
        assert "district=" in page.url and "status=issued" in page.url
        expect(page.locator("table tbody tr")).to_have_count(6)  # 丰台区 first: 1 customer × 6 months


def test_the_sales_report_in_chinese(sales):
    with browser_page(sales.url, locale="zh-CN") as page:
        log_in(page, "manager1")
        page.goto(QUERY + "&group_by=tier")
        expect(page.locator("h1")).to_have_text("售气量")
        expect(page.locator("#report-chart canvas")).to_have_count(1)
        table = page.inner_text("[data-testid=report-table]")
        assert "第1阶梯" in table and "最低收费及表具租金" in table and "合计" in table
        screenshot(page, "report-sales-zh")


def test_the_sales_report_fits_a_phone(sales):
    with browser_page(sales.url) as page:
        page.set_viewport_size(PHONE)
        log_in(page, "manager1")
        page.goto(QUERY + "&group_by=category")
        expect(page.locator("#report-chart canvas")).to_have_count(1)
        assert_fits(page)
        screenshot(page, "report-sales-phone")
