"""The move-out flow in the browser: from the customer page, a final reading, the final bill's
preview, the settlement, the summary; in English, in Chinese (a name transfer carrying the
balance) and at a phone's width. Screenshots land in var/screenshots/moveout-*.png."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from gasworks.billing import runs
from tests.billing.helpers import beijing, local, meter_for, read
from tests.factories import make_customer, make_user
from tests.ui import assert_fits, browser_page, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def account(live_server):
    """Last month billed, dated from today's date so that the final reading is today's."""
    make_user("cashier", username="cashier1")
    beijing()
    customer = make_customer(name="王五")
    meter = meter_for(customer)
    today = timezone.localdate()
    last = today.replace(day=1) - timedelta(days=1)
    read(customer, 300, local(last.year, last.month, 15), meter=meter, value=Decimal("1300"))
    with time_machine.travel(local(today.year, today.month, 1, 1), tick=False):
        runs.bill_chunk(None, customer.pk, customer.pk, period_key=f"{last:%Y-%m}")
    return live_server, customer, meter


def _expected_bill():
    """100 m³ on top of last month's 300 (2.61 up to 350, then 2.83), or in tier 1 alone when
    last month was in the previous tariff year (a January move-out)."""
    return ("¥272.00", 2) if timezone.localdate().month != 1 else ("¥261.00", 1)


def test_a_move_out_in_english(account):
    server, customer, meter = account
    with browser_page(server.url) as page:
        log_in(page, "cashier1")
        page.goto(f"/customers/{customer.pk}/")
        page.click("[data-testid=start-moveout]")
        expect(page.locator("h1")).to_contain_text("Move-out or name transfer")
        page.click("[data-testid=preview-button]")  # no reading: refused, explained
        expect(page.locator("body")).to_contain_text("needs a final reading")
        page.fill(f"#id_value_{meter.pk}", "1400")
        page.click("[data-testid=preview-button]")
        total, tiers = _expected_bill()
        expect(page.locator("[data-testid=final-bill-lines] tbody tr")).to_have_count(
            tiers + 1
        )  # and the total
        expect(page.locator("[data-testid=final-bill-total]")).to_have_text(total)
        screenshot(page, "moveout-preview-en")
        page.click("[data-testid=confirm-button]")
        expect(page.locator("[data-testid=moveout-title]")).to_contain_text("Move-out and close")
        expect(page.locator("[data-testid=settlement]")).to_contain_text("Keep on the old account")
        screenshot(page, "moveout-summary-en")


def test_a_name_transfer_carrying_the_balance_in_chinese(account):
    server, customer, meter = account
    with browser_page(server.url, locale="zh-CN") as page:
        log_in(page, "cashier1")
        page.goto(f"/customers/{customer.pk}/")
        page.click("[data-testid=start-transfer]")
        expect(page.locator("h1")).to_contain_text("过户")
        page.fill(f"#id_value_{meter.pk}", "1400")
        page.fill("#id_name", "赵六")
        page.fill("#id_phone", "13600000000")
        page.check("input[name=settlement][value=carry]")
        page.fill("#id_consent_by", "王五")
        page.click("[data-testid=preview-button]")
        expect(page.locator("[data-testid=final-bill-total]")).to_have_text(_expected_bill()[0])
        screenshot(page, "moveout-preview-zh")
        page.click("[data-testid=confirm-button]")
        expect(page.locator("[data-testid=settlement]")).to_contain_text("转入新户")
        expect(page.locator("[data-testid=new-account]")).to_contain_text("赵六")
        screenshot(page, "moveout-summary-zh")


def test_the_flow_fits_a_phone(account):
    server, customer, meter = account
    with browser_page(server.url) as page:
        page.set_viewport_size(PHONE)
        log_in(page, "cashier1")
        page.goto(f"/service/moveout/customers/{customer.pk}/")
        page.fill(f"#id_value_{meter.pk}", "1400")
        page.click("[data-testid=preview-button]")
        expect(page.locator("[data-testid=preview]")).to_be_visible()
        assert_fits(page)
        screenshot(page, "moveout-phone")
        page.click("[data-testid=confirm-button]")
        expect(page.locator("[data-testid=moveout-title]")).to_be_visible()
        assert_fits(page)
        screenshot(page, "moveout-summary-phone")
