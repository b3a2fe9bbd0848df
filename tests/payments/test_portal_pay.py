"""The customer portal's pay page: the customer chooses among the gateways configured here; Alipay
opens its pay page, WeChat Pay's Native code is shown as a QR code made here, and the page polls the
order until the notification has settled it. The SDKs' HTTP is stubbed (tests/payments/providers.py)."""

import base64
import io
import json
import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
import qrcode
from PIL import Image

from gasworks.billing import ledger
from gasworks.lib import qr
from gasworks.payments import services
from gasworks.payments.gateways import available_gateways
from gasworks.payments.gateways.alipay import AlipayGateway
from gasworks.payments.gateways.wechat import WechatGateway
from gasworks.payments.models import Payment, PaymentStatus
from tests.payments.providers import post_callback

pytestmark = pytest.mark.django_db
CODE_URL = "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"


@pytest.fixture(autouse=True)
def _no_gateway_configured(monkeypatch, settings):
    """Start from a production-like server with no real gateway and the sandbox off; tests
    configure what they need."""
    settings.DEBUG = False
    settings.PAYMENTS_SANDBOX = False
    for name in (*AlipayGateway.required_settings, *WechatGateway.required_settings):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)


def _codes():
    return [g.code for g in available_gateways()]


def _offered(client) -> list[str]:
    page = client.get("/payments/my/").content.decode()
    return re.findall(r'name="gateway" value="([a-z]+)"', page)


def test_the_sandbox_is_offered_only_in_debug_or_when_enabled_never_as_a_stand_in(settings, monkeypatch):
    assert _codes() == []  # no real gateway does not bring the sandbox in
    monkeypatch.setenv("ALIPAY_APP_ID", "2021000000000001")
    monkeypatch.setenv("ALIPAY_APP_PRIVATE_KEY", "k")
    assert _codes() == []  # half configured is not configured
    monkeypatch.setenv("ALIPAY_PUBLIC_KEY_FILE", "/run/secrets/alipay_public_key")  # a file counts
    assert _codes() == ["alipay"]
    settings.DEBUG = True
    assert _codes() == ["sandbox", "alipay"]
    settings.DEBUG, settings.PAYMENTS_SANDBOX = False, True
    assert _codes() == ["sandbox", "alipay"]


def test_the_pay_page_offers_only_the_configured_gateways(client, personas, settings, alipay, wechat):
    client.force_login(personas["customer"])
    assert _offered(client) == ["alipay", "wechat"]
    settings.DEBUG = True
    assert _offered(client) == ["sandbox", "alipay", "wechat"]


def test_without_a_gateway_the_pay_page_has_no_pay_button_and_says_how_to_pay(client, personas):
    client.force_login(personas["customer"])
    page = client.get("/payments/my/").content.decode()
    assert _offered(client) == [] and 'data-testid="pay-online"' not in page
    assert 'data-testid="no-online-payment"' in page and personas["own_customer"].account_no in page
    response = client.post("/payments/my/", {"amount": "20", "gateway": "sandbox"})
    assert response.status_code == 200 and Payment.objects.count() == 0


def test_the_pay_page_offers_the_sandbox_when_it_is_enabled(client, personas, settings):
    settings.PAYMENTS_SANDBOX = True
    client.force_login(personas["customer"])
    assert _offered(client) == ["sandbox"]
    response = client.post("/payments/my/", {"amount": "20", "gateway": "sandbox"})
    payment = Payment.objects.get()
    assert response.url == f"http://testserver/payments/sandbox/{payment.order_no}/"


def test_a_gateway_not_configured_is_refused_and_nothing_is_written(client, personas, alipay):
    client.force_login(personas["customer"])
    for gateway in ("wechat", "sandbox"):
        response = client.post("/payments/my/", {"amount": "20", "gateway": gateway})
        assert response.status_code == 200 and response.context["form"].errors["gateway"]
    api = client.post(
        "/api/v1/payments/",
        {"customer": personas["own_customer"].pk, "amount": "20", "method": "online", "gateway": "wechat"},
        content_type="application/json",
        headers={"Idempotency-Key": "portal-wechat"},
    )
    assert api.status_code == 400 and "gateway" in api.json()["error"]["fields"]
    assert Payment.objects.count() == 0 and alipay.requests == []


def test_the_api_uses_the_first_configured_gateway_when_none_is_named(client, personas, alipay):
    client.force_login(personas["customer"])
    response = client.post(
        "/api/v1/payments/",
        {"customer": personas["own_customer"].pk, "amount": "20", "method": "online"},
        content_type="application/json",
        headers={"Idempotency-Key": "portal-default"},
    )
    assert response.status_code == 201
    assert response.json()["pay_url"].startswith("https://openapi.alipay.com/gateway.do?")
    assert Payment.objects.get().gateway == "alipay"


def test_choosing_alipay_opens_alipays_pay_page(client, personas, alipay):
    client.force_login(personas["customer"])
    response = client.post("/payments/my/", {"amount": "88.50", "gateway": "alipay"})
    payment = Payment.objects.get()
    assert (payment.gateway, payment.amount, payment.status) == ("alipay", Decimal("88.50"), "pending")
    assert response.status_code == 302
    gateway, query = response.url.split("?", 1)
    assert gateway == "https://openapi.alipay.com/gateway.do"
    params = dict(parse_qsl(query))
    assert params["method"] == "alipay.trade.page.pay" and alipay.request_is_signed(params)
    order = json.loads(params["biz_content"])
    assert (order["out_trade_no"], order["total_amount"]) == (payment.order_no, "88.50")


def _qr_modules(data_uri: str) -> list[list[bool]]:
    """Read the dark modules back from the PNG the page shows."""
    assert data_uri.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(data_uri.split(",", 1)[1]))).convert("L")
    assert image.size[0] == image.size[1] and image.size[0] % qr.BOX_SIZE == 0
    side, half = image.size[0] // qr.BOX_SIZE, qr.BOX_SIZE // 2
    return [
        [image.getpixel((x * qr.BOX_SIZE + half, y * qr.BOX_SIZE + half)) < 128 for x in range(side)]
        for y in range(side)
    ]


def _expected_modules(text: str) -> list[list[bool]]:
    code = qrcode.QRCode(border=qr.BORDER)
    code.add_data(text)
    code.make(fit=True)
    return code.get_matrix()


def _pay_with_wechat(client, personas, wechat, amount="88.50"):
    client.force_login(personas["customer"])
    wechat.answer(200, {"code_url": CODE_URL})
    response = client.post("/payments/my/", {"amount": amount, "gateway": "wechat"})
    payment = Payment.objects.get()
    assert response.status_code == 302 and response.url == f"/payments/order/{payment.order_no}/qr/"
    return payment


def _shown_qr(page: str) -> str:
    return re.search(r'<img src="([^"]+)"[^>]*data-testid="pay-qr"', page).group(1)


def test_choosing_wechat_shows_its_code_as_a_qr_code_made_here(client, personas, wechat):
    payment = _pay_with_wechat(client, personas, wechat)
    (request,) = wechat.requests
    assert request["json"]["out_trade_no"] == payment.order_no and request["json"]["amount"]["total"] == 8850
    response = client.get(f"/payments/order/{payment.order_no}/qr/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "¥88.50" in page and payment.order_no in page
    shown = _shown_qr(page)
    assert _qr_modules(shown) == _expected_modules(CODE_URL)
    assert _qr_modules(shown) != _expected_modules(CODE_URL + "x")
    assert shown == qr.png_data_uri(CODE_URL)
    assert "weixin://" not in page and "http" not in shown  # the code itself, not a link to a service
    assert f'hx-get="/payments/order/{payment.order_no}/status/"' in page
    assert len(wechat.requests) == 1  # the code was kept, not asked for again


def test_the_qr_page_in_another_browser_asks_wechat_for_the_same_orders_code(client, personas, wechat):
    payment = _pay_with_wechat(client, personas, wechat)
    client.logout()
    client.force_login(personas["customer"])  # a new session: the code is not in it
    wechat.answer(200, {"code_url": CODE_URL})
    page = client.get(f"/payments/order/{payment.order_no}/qr/").content.decode()
    assert _qr_modules(_shown_qr(page)) == _expected_modules(CODE_URL)
    first, again = wechat.requests
    assert again["json"] == first["json"]  # the same order: WeChat Pay answers the same code
    assert Payment.objects.count() == 1


def test_the_poll_moves_to_the_receipt_once_the_notification_has_paid_the_order(client, personas, wechat):
    payment = _pay_with_wechat(client, personas, wechat)
    status_url = f"/payments/order/{payment.order_no}/status/"
    pending = client.get(status_url, headers={"HX-Request": "true"})
    assert pending.status_code == 200 and "HX-Redirect" not in pending
    assert 'data-state="pending"' in pending.content.decode() and "hx-get" in pending.content.decode()
    body, headers = wechat.notification(wechat.transaction(payment.order_no, 8850))
    assert post_callback(client, "wechat", body, headers, "application/json").status_code == 200
    paid = client.get(status_url, headers={"HX-Request": "true"})
    assert paid["HX-Redirect"] == f"/payments/{payment.pk}/"
    assert "hx-get" not in paid.content.decode()
    assert ledger.balance(personas["own_customer"]) == Decimal("88.50")
    qr_page = client.get(f"/payments/order/{payment.order_no}/qr/")
    assert qr_page.status_code == 302 and qr_page.url == f"/payments/{payment.pk}/"


def test_the_poll_stops_on_a_failed_order(client, personas, wechat):
    payment = _pay_with_wechat(client, personas, wechat)
    closed = wechat.transaction(payment.order_no, 8850, trade_state="CLOSED")
    body, headers = wechat.notification(closed)
    post_callback(client, "wechat", body, headers, "application/json")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    answer = client.get(f"/payments/order/{payment.order_no}/status/").content.decode()
    assert 'data-state="failed"' in answer and "hx-get" not in answer
    assert '<div id="qr-code" hx-swap-oob="true"></div>' in answer  # the code is taken off the page
    page = client.get(f"/payments/order/{payment.order_no}/qr/").content.decode()
    assert 'data-testid="pay-qr"' not in page and 'data-state="failed"' in page


def test_the_poll_stops_once_the_order_has_expired(client, personas, wechat):
    payment = _pay_with_wechat(client, personas, wechat)
    status_url = f"/payments/order/{payment.order_no}/status/"
    # 31 minutes on (the order expiry is 30); moved back in the order, as the login would time out
    Payment.objects.filter(pk=payment.pk).update(created_at=payment.created_at - timedelta(minutes=31))
    answer = client.get(status_url).content.decode()
    assert 'data-state="expired"' in answer and "hx-get" not in answer
    page = client.get(f"/payments/order/{payment.order_no}/qr/").content.decode()
    assert 'data-testid="pay-qr"' not in page and len(wechat.requests) == 1
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.EXPIRED)  # reconciliation closed it
    assert 'data-state="expired"' in client.get(status_url).content.decode()


def test_a_customer_cannot_follow_another_customers_order(client, personas, wechat):
    other = services.create_online_order(personas["other_customer"], "30", personas["cashier"], "wechat")
    client.force_login(personas["customer"])
    assert client.get(f"/payments/order/{other.order_no}/status/").status_code == 404
    assert client.get(f"/payments/order/{other.order_no}/qr/").status_code == 404
    assert wechat.requests == []


def test_only_qr_gateways_have_a_qr_page(client, personas, settings):
    settings.PAYMENTS_SANDBOX = True
    order = services.create_online_order(personas["own_customer"], "30", personas["customer"], "sandbox")
    client.force_login(personas["customer"])
    assert client.get(f"/payments/order/{order.order_no}/qr/").status_code == 404
    assert client.get(f"/payments/order/{order.order_no}/status/").status_code == 200
