"""Payment arrangements in the browser: a cashier makes one from the customer page (the schedule
previewed live as the terms are typed), sees it on the counter; the customer sees it in the
portal on a phone (390 px); in English and in Chinese. Screenshots land in
var/screenshots/arrangements-*.png."""

import pytest
import time_machine
from playwright.sync_api import expect

from tests.factories import make_customer, make_user
from tests.service.arrangements.helpers import TODAY, in_debt
from tests.ui import assert_fits, browser_page, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
WORDS = {
    "en": {
        "make": "Make an arrangement",
        "counter": "Arrangement down payment",
        "portal": "Your payment arrangement",
    },
    "zh": {"make": "办理分期", "counter": "分期首付款", "portal": "您的分期缴费协议"},
}


@pytest.fixture
def station(live_server):
    with time_machine.travel(f"{TODAY.isoformat()} 10:00 +0800", tick=True):
        customer = make_customer(name="王五")
        in_debt(customer, "300.00", "200.01")
        make_user("cashier", username="cashier1")
        make_user("customer", customer=customer, username="wangwu")
        yield live_server, customer


@pytest.mark.parametrize(("lang", "locale"), [("en", "en-US"), ("zh", "zh-CN")])
def test_make_one_see_it_at_the_counter_and_in_the_portal(station, lang, locale):
    server, customer = station
    words = WORDS[lang]
    with browser_page(server.url, locale=locale) as page:
        log_in(page, "cashier1")
        page.goto(f"/customers/{customer.pk}/")
        page.get_by_test_id("arrangement-make").click()
        expect(page.get_by_test_id("arranged-debt")).to_contain_text("500.01")
        page.fill("input[name=down_payment]", "100")
        page.fill("input[name=instalments]", "3")
        page.fill("input[name=first_due_on]", "2026-12-20")
        page.locator("input[name=instalments]").dispatch_event("input")
        expect(page.get_by_test_id("preview-total")).to_contain_text("500.01")
        expect(page.get_by_test_id("arrangement-preview")).to_contain_text("133.34")
        expect(page.get_by_test_id("arrangement-preview")).to_contain_text("2027-02-20")
        screenshot(page, f"arrangements-make-{lang}")
        page.get_by_test_id("arrangement-submit").click()
        expect(page.get_by_test_id("arrangement-schedule")).to_contain_text("2027-01-20")
        screenshot(page, f"arrangements-detail-{lang}")
        page.goto(f"/customers/{customer.pk}/")
        expect(page.get_by_test_id("arrangement-panel")).to_be_visible()
        page.goto(f"/payments/counter/{customer.pk}/")
        expect(page.locator("body")).to_contain_text(words["counter"])
        screenshot(page, f"arrangements-counter-{lang}")
    with browser_page(server.url, locale=locale) as page:
        page.set_viewport_size(PHONE)
        log_in(page, "wangwu")
        page.goto("/portal/")
        portal = page.get_by_test_id("arrangement-portal")
        expect(portal).to_contain_text(words["portal"])
        expect(portal).to_contain_text("133.33")
        assert_fits(page)
        screenshot(page, f"arrangements-portal-phone-{lang}")
