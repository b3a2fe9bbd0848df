"""Browser tests: a cashier at the counter, a customer paying online through the sandbox and by
WeChat Pay's QR code."""

import re
from decimal import Decimal
from pathlib import Path

import pytest

from gasworks.billing import ledger
from gasworks.payments.models import Payment, PaymentStatus
from tests.factories import PASSWORD
from tests.services import require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("var/screenshots")


@pytest.fixture
def page(live_server):
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context.new_page()
        context.close()
        browser.close()


def _login(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_a_cashier_takes_cash_and_opens_the_receipt(page, live_server, personas):
    SHOTS.mkdir(parents=True, exist_ok=True)
    customer = personas["own_customer"]
    _login(page, live_server, personas["cashier"])
    page.goto(f"{live_server.url}/payments/counter/")
    page.fill("[data-testid=counter-search]", customer.account_no)
    page.keyboard.press("Enter")  # one match: straight to the customer's counter page
    page.wait_for_selector("[data-testid=amount]")
    page.fill("[data-testid=amount]", "88.50")
    page.keyboard.press("F1")  # cash
    page.fill("[data-testid=tendered]", "100")
    assert page.inner_text("[data-testid=change]") == "¥11.50"
    page.screenshot(path=str(SHOTS / "payments_counter.png"), full_page=True)
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=receipt-no]")
    receipt_no = page.inner_text("[data-testid=receipt-no]")
    assert re.fullmatch(r"R\d{4}-\d{6}", receipt_no)
    assert page.inner_text("[data-testid=change]") == "¥11.50"
    page.screenshot(path=str(SHOTS / "payments_paid.png"), full_page=True)
    href = page.get_attribute("[data-testid=receipt-link]", "href")
    response = page.request.get(f"{live_server.url}{href}")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    assert ledger.balance(customer) == Decimal("88.50")


def test_a_customer_pays_online_through_the_sandbox(page, live_server, personas):
    SHOTS.mkdir(parents=True, exist_ok=True)
    customer = personas["own_customer"]
    _login(page, live_server, personas["customer"])
    page.goto(f"{live_server.url}/payments/my/")
    assert page.inner_text("[data-testid=balance]") == "¥0.00"
    page.fill("input[name=amount]", "66.60")
    page.click("[data-testid=pay-online]")
    page.wait_for_selector("[data-testid=sandbox-pay]")
    page.screenshot(path=str(SHOTS / "payments_sandbox.png"), full_page=True)
    page.click("[data-testid=sandbox-pay]")
    page.wait_for_selector("[data-testid=receipt-link]")
    assert page.inner_text("[data-testid=status]") == "Succeeded"
    page.click("[data-testid=back-to-my]")
    page.wait_for_selector("[data-testid=balance]")
    assert page.inner_text("[data-testid=balance]") == "Credit ¥66.60"
    page.screenshot(path=str(SHOTS / "payments_portal.png"), full_page=True)
    payment = Payment.objects.get(customer=customer)
    assert payment.status == PaymentStatus.SUCCEEDED and payment.receipt_no


def test_a_customer_scans_the_wechat_code_and_the_page_moves_to_the_receipt(
    page, live_server, personas, wechat, settings
):
    from gasworks.payments import services

    settings.DEBUG = False
    wechat.answer(200, {"code_url": "weixin://wxpay/bizpayurl?pr=browser1"})
    _login(page, live_server, personas["customer"])
    page.goto(f"{live_server.url}/payments/my/")
    page.fill("input[name=amount]", "42.00")
    page.check("input[name=gateway][value=wechat]")
    page.click("[data-testid=pay-online]")
    page.wait_for_selector("[data-testid=pay-qr]")
    assert page.evaluate("document.querySelector('[data-testid=pay-qr]').naturalWidth") > 0  # a real image
    assert page.get_attribute("[data-testid=order-state]", "data-state") == "pending"
    payment = Payment.objects.get()
    assert page.inner_text("[data-testid=order-no]") == payment.order_no
    page.screenshot(path=str(SHOTS / "payments_wechat_qr.png"), full_page=True)
    # The customer pays in WeChat; WeChat Pay notifies us; the page's poll notices.
    services.handle_callback("wechat", *wechat.notification(wechat.transaction(payment.order_no, 4200)))
    page.wait_for_selector("[data-testid=receipt-link]", timeout=10_000)
    assert page.url == f"{live_server.url}/payments/{payment.pk}/"
    assert page.inner_text("[data-testid=status]") == "Succeeded"
