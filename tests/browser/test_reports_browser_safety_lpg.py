"""The safety and LPG reports in a browser: the chart drawn, the table with its total, a
drill-down followed, in English and Chinese and at a phone's width. Screenshots land in
var/screenshots/report-safety-*.png and report-lpg-*.png."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from gasworks.cylinders import orders, services
from gasworks.safety.models import Crew
from gasworks.safety.services import checklists, emergencies, hazards, inspections
from gasworks.safety.services.inspections import ResultInput
from tests.cylinders.helpers import ensure_price, make_cylinder
from tests.factories import make_customer, make_user
from tests.ui import assert_fits, browser_page, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def data(live_server):
    """This month's activity, recorded now (the reports open on this month by default)."""
    inspector = make_user("inspector", username="insp")
    dispatcher = make_user("dispatcher", username="disp")
    filler = make_user("filler", username="fill")
    template = checklists.ensure_standard()
    crew = Crew.objects.create(name="抢修一队")
    for n, level in enumerate(["ordinary", "key", "major", "key"]):
        customer = make_customer(district="东区" if n % 2 else "西区")
        task = inspections.create_task(customer, customer.opened_on, inspector=inspector, kind="routine")
        if n == 3:
            inspections.nobody_home(task, "away", by=inspector)
        else:
            results = [ResultInput(item.code, "pass") for item in template.items.all()]
            inspections.complete(
                task, results, by=inspector, confirmed_by_name="户主", customer_confirmed=True
            )
        hazard = hazards.raise_hazard(customer, level, "灶前软管老化", by=inspector)
        if n == 0:
            hazards.rectify(hazard, "换管", by=inspector)
            hazards.close(hazard, "复查合格", by=inspector)
        case = emergencies.report(address="路1号", description="燃气味", priority="high", by=dispatcher)
        case = emergencies.dispatch(case, crew, by=dispatcher)
        emergencies.arrive(case, by=dispatcher)
    ensure_price("118")
    for n in range(3):
        cylinder = make_cylinder()
        services.record_filling(cylinder.code, Decimal("29.200") - n, by=filler)
    refused = make_cylinder()
    with pytest.raises(services.DomainError):
        services.record_filling(refused.code, Decimal("40"), by=filler)
    full = make_cylinder()
    services.record_filling(full.code, Decimal("29.000"), by=filler)
    order = orders.place_order(make_customer(), "YSP35.5", 1, "phone")
    orders.assign(order, dispatcher, "京A·1")
    orders.load(order, [full.code])
    orders.deliver(order)
    return live_server


def _looks_right(page, name: str, title: str):
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator("#report-chart canvas").first).to_be_visible()
    expect(page.get_by_test_id("report-total")).to_be_visible()
    screenshot(page, name)


def test_the_safety_report_in_english_chinese_and_on_a_phone(data):
    with browser_page(data.url) as page:
        log_in(page, "insp")
        page.goto("/reports/safety/")
        _looks_right(page, "report-safety-en", "Safety")
        page.select_option("#f-group", "level")
        page.get_by_test_id("report-apply").click()
        page.wait_for_load_state("networkidle")
        _looks_right(page, "report-safety-level", "Safety")
        page.get_by_test_id("drill").first.click()
        page.wait_for_load_state("networkidle")
        expect(page.get_by_test_id("narrowing")).to_be_visible()
        expect(page.locator("tbody tr")).to_have_count(1)  # the ordinary hazard, closed
        screenshot(page, "report-safety-drill")
        page.set_viewport_size(PHONE)
        page.goto("/reports/safety/")
        expect(page.locator("#report-chart canvas").first).to_be_visible()
        screenshot(page, "report-safety-phone")
        assert_fits(page)
    with browser_page(data.url, locale="zh-CN") as page:
        log_in(page, "disp")
        page.goto("/reports/safety/")
        _looks_right(page, "report-safety-zh", "安全检查")
        expect(page.locator("thead")).to_contain_text("安检覆盖率")


def test_the_lpg_report_in_english_chinese_and_on_a_phone(data):
    with browser_page(data.url) as page:
        log_in(page, "fill")
        page.goto("/reports/lpg/")
        _looks_right(page, "report-lpg-en", "LPG")
        total = page.get_by_test_id("report-total")
        expect(total).to_contain_text("4")  # fills
        page.select_option("#f-group", "station")
        page.get_by_test_id("report-apply").click()
        page.wait_for_load_state("networkidle")
        screenshot(page, "report-lpg-station")
        page.set_viewport_size(PHONE)
        page.goto("/reports/lpg/")
        expect(page.locator("#report-chart canvas").first).to_be_visible()
        screenshot(page, "report-lpg-phone")
        assert_fits(page)
    with browser_page(data.url, locale="zh-CN") as page:
        log_in(page, "fill")
        page.goto("/reports/lpg/?group_by=reason")
        _looks_right(page, "report-lpg-zh", "液化气")
        expect(page.locator("tbody")).to_contain_text("超过额定充装量")
