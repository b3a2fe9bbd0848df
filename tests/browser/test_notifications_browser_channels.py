"""The admin's channel page in the browser: each provider with whether it is configured and
which one a channel sends through, never a secret, in English, in Chinese and at 390 px.
Screenshots land in var/screenshots/notifications-channels-*.png."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_user
from tests.ui import browser_page, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def configured(live_server, monkeypatch):
    make_user("admin", username="admin1")
    # The live server runs in this process: Aliyun configured and chosen, WeChat not configured.
    monkeypatch.setenv("NOTIFY_SMS_PROVIDER", "aliyun")
    monkeypatch.setenv("NOTIFY_WECHAT_PROVIDER", "wechat")
    monkeypatch.setenv("ALIYUN_SMS_ACCESS_KEY_ID", "LTAI-browser")
    monkeypatch.setenv("ALIYUN_SMS_ACCESS_KEY_SECRET", "very-secret")
    monkeypatch.setenv("ALIYUN_SMS_SIGN_NAME", "燃气公司")
    monkeypatch.setenv("ALIYUN_SMS_TEMPLATES", "bill_issued=SMS_1,low_balance=SMS_2")
    for name in ("TENCENT_SMS_SECRET_ID", "WECHAT_APP_ID", "WECHAT_APP_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return live_server


def _row(page, provider):
    return page.locator("[data-testid=channels] tbody tr", has_text=provider)


def test_the_channel_page_in_english(configured):
    with browser_page(configured.url) as page:
        log_in(page, "admin1")
        page.goto("/notifications/channels/")
        expect(page.locator("h1")).to_have_text("Channels")
        aliyun = _row(page, "Aliyun SMS")
        expect(aliyun).to_contain_text("【燃气公司】")
        expect(aliyun).to_contain_text("2 templates")
        expect(aliyun.locator("td").nth(2)).to_have_text("Yes")
        expect(aliyun.locator("td").nth(3)).to_have_text("Yes")
        expect(_row(page, "Tencent Cloud SMS").locator("td").nth(2)).to_have_text("No")
        expect(_row(page, "WeChat Official Account").locator("td").nth(3)).to_have_text("No")
        content = page.content()
        assert "very-secret" not in content and "LTAI-browser" not in content
        screenshot(page, "notifications-channels-en")


def test_the_channel_page_in_chinese_on_a_phone(configured):
    with browser_page(configured.url, locale="zh-CN") as page:
        log_in(page, "admin1")
        page.goto("/notifications/channels/")
        expect(page.locator("h1")).to_have_text("发送渠道")
        expect(_row(page, "阿里云短信")).to_contain_text("2 个模板")
        expect(_row(page, "腾讯云短信")).to_have_count(1)
        expect(_row(page, "微信公众号")).to_contain_text("0 个模板")
        expect(page.locator("[data-testid=channels] thead")).to_contain_text("渠道")
        expect(_row(page, "开发渠道（仅保存，不发送）")).to_have_count(2)
        screenshot(page, "notifications-channels-zh")
        page.set_viewport_size(PHONE)
        page.goto("/notifications/channels/")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page is {overflow}px wider than the window"
        screenshot(page, "notifications-channels-phone")
