"""The notifications pages in the browser: the admin's outbox (filters, a failure reason, resend),
channels, templates (edited with a preview; a template naming an unknown variable refused at
save), supply interruptions (announce, cancel), the staff customer page's messages, and the
customer's inbox and preferences in the portal at 390 px; in English and in Chinese.
Screenshots land in var/screenshots/notify-*.png."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from gasworks.notifications import interruptions, outbox, sender
from gasworks.notifications.models import Message, SupplyInterruption
from tests.factories import make_customer, make_user
from tests.ui import browser_page, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
REFUSED = "isv.MOBILE_NUMBER_ILLEGAL"


@pytest.fixture
def told(live_server, monkeypatch):
    monkeypatch.setenv("NOTIFY_SMS_PROVIDER", "dev")
    monkeypatch.setenv("NOTIFY_WECHAT_PROVIDER", "dev")
    make_user("admin", username="admin1")
    make_user("cashier", username="cashier1")
    customer = make_customer(district="朝阳区", address="北京市朝阳区望京街1号", name="李雷")
    make_user("customer", customer=customer, username="li")
    make_customer(district="海淀区", address="北京市海淀区中关村大街1号")
    outbox.enqueue("low_balance", [("low:1", customer.pk, {"balance": "3.00"})])
    outbox.enqueue("nobody_home", [("task:1", customer.pk, {"visited_at": "2026-11-02 10:00"})])
    sender.send_due(now=timezone.now() + timedelta(seconds=1))
    Message.objects.filter(event="nobody_home", channel="sms").update(status="failed", error=REFUSED)
    start = timezone.localtime() + timedelta(days=2)
    interruptions.announce("朝阳区", start, start + timedelta(hours=6), "更换调压器", streets=["望京街"])
    return live_server, customer


def _no_overflow(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right >"
        " document.documentElement.clientWidth).map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than the window: {wide}"


def test_the_admin_pages_in_english(told):
    server, customer = told
    with browser_page(server.url) as page:
        log_in(page, "admin1")
        page.goto("/notifications/outbox/")
        expect(page.locator("h1")).to_have_text("Outbox")
        page.select_option("#id_status", "failed")
        page.click("form.gw-card button")
        rows = page.locator("[data-testid=messages] tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(REFUSED)
        expect(rows.first).to_contain_text("Nobody home")
        screenshot(page, "notify-outbox-en")
        page.click("[data-testid=resend]")
        expect(page.locator("[data-testid=messages] tbody tr")).to_contain_text(["No messages."])
        assert Message.objects.get(event="nobody_home", channel="sms").status in ("queued", "sent")

        page.goto("/notifications/channels/")
        expect(page.locator("main")).to_contain_text("Portal")
        screenshot(page, "notify-channels-en")

        page.goto("/notifications/templates/new/?event=low_balance&language=en")
        page.fill("#id_body", "Balance {balance} yuan, {nonsense}.")
        page.click("button[name=save]")
        expect(page.locator("[data-testid=template-form]")).to_contain_text("nonsense")
        screenshot(page, "notify-template-refused-en")
        page.fill("#id_body", "Account {account_no}: only {balance} yuan left.")
        page.click("button[name=preview]")
        expect(page.locator("[data-testid=preview]")).to_contain_text("only «balance» yuan left")
        screenshot(page, "notify-template-preview-en")
        page.click("button[name=save]")
        expect(page).to_have_url(f"{server.url}/notifications/templates/")
        screenshot(page, "notify-templates-en")

        page.goto("/notifications/interruptions/new/")
        start = timezone.localtime() + timedelta(days=3)
        page.select_option("#id_district", "朝阳区")
        page.fill("#id_starts_at", start.strftime("%Y-%m-%dT09:00"))
        page.fill("#id_ends_at", start.strftime("%Y-%m-%dT15:00"))
        page.fill("#id_reason", "Main replaced")
        page.click("main form button[type=submit]")
        expect(page.locator("h1")).to_have_text("Supply interruptions")
        expect(page.locator("table")).to_contain_text("Main replaced")
        screenshot(page, "notify-interruptions-en")
        page.locator("tr", has_text="Main replaced").locator("button", has_text="Cancel").click()
        expect(page.locator("tr", has_text="Main replaced")).to_contain_text("Cancelled")
        assert SupplyInterruption.objects.filter(reason="Main replaced", status="cancelled").exists()

        page.goto(f"/customers/{customer.pk}/")
        expect(page.locator("[data-testid=messages]").first).to_contain_text("Low prepaid balance")
        expect(page.locator("[data-testid=interruption-notice]").first).to_contain_text("更换调压器")
        screenshot(page, "notify-customer-page-en")


def test_the_admin_pages_and_the_counter_in_chinese(told):
    server, customer = told
    with browser_page(server.url, locale="zh-CN") as page:
        log_in(page, "admin1")
        page.goto("/notifications/outbox/?status=failed")
        expect(page.locator("h1")).to_have_text("发件箱")
        expect(page.locator("[data-testid=messages] tbody tr").first).to_contain_text(REFUSED)
        screenshot(page, "notify-outbox-zh")
        page.goto("/notifications/channels/")
        header = page.inner_text("[data-testid=channels] thead")
        assert "渠道" in header and "收费" not in header  # a message's channel, not a payment's
        expect(page.locator("[data-testid=channels]")).to_contain_text("短信")
        screenshot(page, "notify-channels-zh")
        page.goto("/notifications/templates/new/?event=low_balance&language=zh-hans")
        page.click("button[name=preview]")
        expect(page.locator("[data-testid=preview]")).to_contain_text("«balance»")
        screenshot(page, "notify-template-preview-zh")
        page.goto("/notifications/interruptions/")
        expect(page.locator("table")).to_contain_text("更换调压器")
        screenshot(page, "notify-interruptions-zh")
        page.goto(f"/customers/{customer.pk}/")
        expect(page.locator("[data-testid=messages]").first).to_contain_text("预付费余额不足")
        screenshot(page, "notify-customer-page-zh")
        page.context.clear_cookies()
        log_in(page, "cashier1")
        page.goto(f"/payments/counter/{customer.pk}/")
        expect(page.locator("[data-testid=interruption-notice]")).to_contain_text("更换调压器")
        screenshot(page, "notify-counter-zh")


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_the_portal_inbox_and_preferences_on_a_phone(told, locale):
    server, _customer = told
    zh = locale == "zh-CN"
    suffix = "zh" if zh else "en"
    with browser_page(server.url, locale=locale) as page:
        page.set_viewport_size(PHONE)
        log_in(page, "li")
        page.goto("/portal/")
        expect(page.locator("[data-testid=interruption-notice]")).to_contain_text("更换调压器")
        _no_overflow(page)
        screenshot(page, f"notify-portal-{suffix}")
        page.goto("/notifications/inbox/")
        # Worded in the customer's language (Chinese, the default), whatever the browser's.
        expect(page.locator("main")).to_contain_text("预付费余额仅剩3.00元")
        _no_overflow(page)
        screenshot(page, f"notify-inbox-{suffix}")
        page.goto("/notifications/preferences/")
        page.check("#id_email")
        page.fill("#id_email_address", "li@example.com")
        page.locator("input[name=opt_out][value=bill_issued]").check()
        page.locator("main form button[type=submit]").click()
        screenshot(page, f"notify-preferences-{suffix}")
        _no_overflow(page)
        from gasworks.notifications.models import Preference

        saved = Preference.objects.get(customer__account_no=_customer.account_no)
        assert saved.email and saved.email_address == "li@example.com" and saved.opt_out == ["bill_issued"]
