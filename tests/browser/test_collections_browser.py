"""The collections ladder in the browser: the collections page (counts, open steps, the run
button), an account's steps on the customer page, the arrears page's step column, in English
and Chinese; the customer's reminders in the portal on a phone (390 px). Screenshots land in
var/screenshots/collections-*.png."""

from datetime import date

import pytest
from playwright.sync_api import expect

from gasworks.service.collections import services
from tests.collections_ladder.helpers import overdue_bill
from tests.factories import make_customer, make_user
from tests.ui import assert_fits, browser_page, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def ladder(live_server):
    make_user("manager", username="manager1")
    late = make_customer(name="王欠费")
    overdue_bill(late, "360.00", date(2026, 10, 1))
    overdue_bill(make_customer(name="李拖欠"), "120.00", date(2026, 10, 20))
    services.run(date(2026, 10, 20))
    services.run(date(2026, 11, 4))  # 王欠费 gets the final notice; 李拖欠 its reminder
    make_user("customer", customer=late, username="wang")
    return live_server, late


def test_the_collections_page_customer_page_and_arrears_in_english(ladder):
    server, late = ladder
    with browser_page(server.url) as page:
        log_in(page, "manager1")
        page.goto("/service/collections/")
        expect(page.locator("h1")).to_have_text("Debt collection")
        expect(page.locator("[data-testid=collections-open] tbody tr")).to_have_count(1)
        expect(page.locator("[data-testid=collections-open]")).to_contain_text("李拖欠")
        page.fill("#id_as_of", "2026-11-19")
        page.click("[data-testid=collections-run] button")
        expect(page.locator(".alert-success, .alert")).to_contain_text("1 disconnection orders")
        page.click(".nav-tabs >> text=Disconnection order")
        expect(page.locator("[data-testid=collections-open]")).to_contain_text("王欠费")
        screenshot(page, "collections-page-en")
        page.goto(f"/customers/{late.pk}/")
        steps = page.locator("[data-testid=collection-step]")
        expect(steps).to_have_count(3)
        expect(steps.first).to_contain_text("Disconnection order")
        steps.first.scroll_into_view_if_needed()
        screenshot(page, "collections-customer-en")
        page.goto("/billing/overdue/")
        expect(page.locator("[data-testid=overdue-step]").first).to_have_text("Disconnection order")
        screenshot(page, "collections-arrears-en")


def test_the_collections_pages_in_chinese(ladder):
    server, late = ladder
    with browser_page(server.url, locale="zh-CN") as page:
        log_in(page, "manager1")
        page.goto("/service/collections/")
        expect(page.locator("h1")).to_have_text("催缴")
        expect(page.locator("[data-testid=collections-run] button")).to_have_text("运行催缴")
        screenshot(page, "collections-page-zh")
        page.goto(f"/customers/{late.pk}/")
        expect(page.locator("[data-testid=collection-step]").first).to_contain_text("最后催缴通知")
        page.locator("[data-testid=collection-step]").first.scroll_into_view_if_needed()
        screenshot(page, "collections-customer-zh")
        page.goto("/billing/overdue/")
        expect(page.locator("[data-testid=overdue-step]").first).to_have_text("最后催缴通知")
        screenshot(page, "collections-arrears-zh")


def test_the_portal_shows_the_reminders_on_a_phone(ladder):
    server, _late = ladder
    with browser_page(server.url, locale="zh-CN") as page:
        page.set_viewport_size(PHONE)
        log_in(page, "wang")
        page.goto("/portal/")
        expect(page.locator("[data-testid=portal-collections]")).to_contain_text("最后催缴通知")
        assert_fits(page)
        screenshot(page, "collections-portal-zh-phone")
        page.goto("/service/collections/mine/")
        expect(page.locator("[data-testid=collection-step]")).to_have_count(2)
        assert_fits(page)
        screenshot(page, "collections-mine-zh-phone")
    with browser_page(server.url) as page:
        page.set_viewport_size(PHONE)
        log_in(page, "manager1")
        page.goto("/service/collections/")
        assert_fits(page)
        screenshot(page, "collections-page-en-phone")
