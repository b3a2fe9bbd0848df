import pytest
from playwright.sync_api import expect

from tests.factories import make_customer, make_user
from tests.ui import browser_page, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_cashier_logs_in_and_finds_a_customer(live_server):
    make_user("cashier", username="counter")
    target = make_customer(name="欧阳娜", phone="13566667777", address="北京市朝阳区望京街道8号院")
    for n in range(5):
        make_customer(name=f"路人{n}")
    with browser_page(live_server.url) as page:
        log_in(page, "counter")
        assert "Dashboard" in page.content()
        page.click("#mainnav >> text=Customers")
        page.fill("#q", "1356666")
        expect(page.locator("[data-testid=customer-link]")).to_have_count(1)
        assert "欧阳娜" in page.inner_text("#customer-rows")
        screenshot(page, "customer-search")
        page.click("[data-testid=customer-link]")
        page.wait_for_selector("text=望京街道8号院")
        assert target.account_no in page.content()
        screenshot(page, "customer-detail")


def test_a_customer_logs_in_to_the_portal_and_sees_only_the_portal_menu(live_server):
    own = make_customer(name="张业主")
    make_user("customer", customer=own, username="owner")
    with browser_page(live_server.url) as page:
        log_in(page, "owner")
        assert page.url.endswith("/portal/")
        assert page.inner_text("[data-testid=account-no]") == own.account_no
        assert page.locator("#mainnav >> text=Customers").count() == 0
        screenshot(page, "portal")


def test_the_language_switch_works_in_the_browser(live_server):
    make_user("meter_reader", username="reader")
    with browser_page(live_server.url) as page:
        log_in(page, "reader")
        with page.expect_navigation():
            page.select_option("[data-testid=language]", "zh-hans")
        expect(page.locator("h1")).to_have_text("工作台")
        screenshot(page, "dashboard-zh")
