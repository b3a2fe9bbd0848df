"""The audit log in Chromium at desktop and phone width: the filters and the before/after tables
fit the screen (no sideways scrolling of the page), and a filter narrows the list."""

import pytest
from playwright.sync_api import expect

from gasworks.billing import adjustments
from gasworks.payments import services as payments
from tests.factories import make_customer, make_user
from tests.ui import browser_page, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_audit_log_reads_well_on_a_desk_and_on_a_phone(live_server):
    make_user("admin", username="boss")
    cashier = make_user("cashier", username="till")
    customer = make_customer(name="欧阳娜", address="北京市朝阳区望京街道8号院")
    payments.take_counter_payment(customer, "12345.60", "cash", cashier)
    adjustments.request_adjustment(
        customer, "-3.20", "表计误差，按检定结果调减用气量所对应的金额" * 3, cashier
    )
    with browser_page(live_server.url, locale="zh-CN") as page:
        log_in(page, "boss")
        with page.expect_navigation():
            page.select_option("[data-testid=language]", "zh-hans")
        page.goto("/system/audit/")
        expect(page.locator("h1")).to_have_text("审计日志")
        assert "¥12,345.60" in page.inner_text("main")
        for width, name in ((1280, "audit-log-desktop"), (390, "audit-log-phone")):
            page.set_viewport_size({"width": width, "height": 900})
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (width, overflow)
            screenshot(page, name)
        page.select_option("select[name=action]", "payment")
        with page.expect_navigation():
            page.click("[data-testid=audit-filters] button")
        expect(page.locator("[data-testid=audit-entry]")).to_have_count(1)
        screenshot(page, "audit-log-phone-filtered")
