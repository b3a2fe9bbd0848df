"""The supply–sales balance in the browser: the table ranked by loss % with the tampered
district flagged on top, its chart, the drill-down to the suspect meters, in English, in Chinese
and on a phone. Screenshots: var/screenshots/report-supply-*.png."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from gasworks.billing import runs
from gasworks.billing.web_hooks import seed_tariffs
from gasworks.metering import demo
from gasworks.metering.models import Reading
from tests.factories import make_customer, make_user
from tests.ui import assert_fits, browser_page, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
A, B = "朝阳区", "海淀区"


class _Out:
    def write(self, text):
        return None


@pytest.fixture
def station(live_server):
    """A year of the demo's readings and bills for two districts, 朝阳区 with a tampered shop."""
    make_user("admin", username="boss")
    seed_tariffs()
    for index in range(24):
        make_customer(
            address=f"北京市{A}望京街道{index}号",
            district=A,
            category="commercial" if index in (3, 9) else "residential",
        )
    for index in range(8):
        make_customer(address=f"北京市{B}学院路{index}号", district=B)
    demo.seed(_Out())
    demo.seed_supply(_Out())
    months = sorted({timezone.localtime(r.taken_at).strftime("%Y-%m") for r in Reading.objects.all()})
    for period in months[1:]:
        runs.execute(runs.start_run(period))
    return live_server


def _walk(page, lang: str):
    page.goto("/reports/supply-balance/")
    table = page.locator("[data-testid=report-table]")
    expect(table).to_be_visible()
    first = page.locator("[data-testid=report-table] tbody tr").first
    expect(first).to_contain_text(A)
    expect(first).to_contain_text("超过报警值" if lang == "zh" else "Above the alarm")
    expect(page.locator("#report-chart canvas")).to_have_count(1)
    screenshot(page, f"report-supply-{lang}")
    with page.expect_navigation():
        first.locator("[data-testid=drill]").click()
    suspects = page.locator("[data-testid=suspect]")
    expect(suspects.first).to_be_visible()
    expect(suspects.first.locator("[data-reason=tamper]")).to_have_count(1)
    screenshot(page, f"report-supply-suspects-{lang}")


def test_the_report_and_its_suspects_in_english(station):
    with browser_page(station.url) as page:
        log_in(page, "boss")
        _walk(page, "en")


def test_the_report_and_its_suspects_in_chinese(station):
    with browser_page(station.url) as page:
        log_in(page, "boss")
        with page.expect_navigation():
            page.select_option("[data-testid=language]", "zh-hans")
        _walk(page, "zh")
        expect(page.locator("h1")).to_contain_text("可疑表具")


def test_the_report_fits_a_phone(station):
    with browser_page(station.url) as page:
        page.set_viewport_size(PHONE)
        log_in(page, "boss")
        for path, name in (
            ("/reports/supply-balance/", "report-supply-phone"),
            (f"/reports/supply-balance/suspects/?district={A}", "report-supply-suspects-phone"),
        ):
            page.goto(path)
            screenshot(page, name)
            assert_fits(page)
