"""The WeChat Pay adapter on the wechatpayv3 SDK, offline: notifications signed and encrypted here
as WeChat Pay does go through the callback endpoint; Native pay, query and refund go through the
SDK with its HTTP calls answered by the test (tests/payments/providers.py)."""

import base64
import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
import time_machine
from django.utils import timezone

from gasworks.billing import ledger
from gasworks.billing.models import LedgerEntry
from gasworks.payments import services
from gasworks.payments.gateways.base import GatewayError, Notification
from gasworks.payments.gateways.wechat import WechatGateway
from gasworks.payments.models import CallbackOutcome, GatewayEvent, PaymentStatus, RefundStatus
from tests.payments.providers import assert_refund_refused, assert_untouched, flip_bit, post_callback

pytestmark = pytest.mark.django_db
API = "https://api.mch.weixin.qq.com"


@pytest.fixture
def order(personas):
    return services.create_online_order(personas["own_customer"], "88.50", personas["customer"], "wechat")


def _post(client, body, headers):
    return post_callback(client, "wechat", body, headers, "application/json")


def test_a_signed_notification_is_decrypted_and_credits_once(client, wechat, order, personas):
    body, headers = wechat.notification(wechat.transaction(order.order_no, 8850))
    assert b"out_trade_no" not in body  # the resource travels encrypted with the APIv3 key
    for _ in range(3):
        response = _post(client, body, headers)
        assert response.status_code == 200 and response.json() == {"code": "SUCCESS", "message": "OK"}
    order.refresh_from_db()
    assert order.status == PaymentStatus.SUCCEEDED and order.gateway_txn_id == "4200000000202603010000000001"
    assert ledger.balance(personas["own_customer"]) == Decimal("88.50")
    assert LedgerEntry.objects.count() == 1
    outcomes = list(GatewayEvent.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == [CallbackOutcome.CREDITED, CallbackOutcome.DUPLICATE, CallbackOutcome.DUPLICATE]
    assert GatewayEvent.objects.first().payload["payer"]["openid"]  # the decrypted resource is kept
    assert wechat.requests == []  # verified with the configured public key: no call out


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda b, h, w, k: (b, {**h, "Wechatpay-Signature": flip_bit(h["Wechatpay-Signature"])}),
            id="flipped-bit",
        ),
        pytest.param(lambda b, h, w, k: (b.replace(b"EV-018c", b"EV-019c"), h), id="body-changed"),
        pytest.param(lambda b, h, w, k: (b, {**h, "Wechatpay-Nonce": "another-nonce"}), id="nonce-changed"),
        pytest.param(
            lambda b, h, w, k: (b, {**h, **w.signed_headers(b.decode(), key=k["forger"])}), id="other-key"
        ),
        pytest.param(lambda b, h, w, k: (b, {"Content-Type": "application/json"}), id="unsigned"),
        pytest.param(
            lambda b, h, w, k: (b, {**h, "Wechatpay-Signature-Type": "WECHATPAY2-SM2-WITH-SM3"}),
            id="other-algorithm",
        ),
        pytest.param(
            lambda b, h, w, k: (b, {**h, "Wechatpay-Serial": "PUB_KEY_ID_OTHER"}), id="unknown-key-id"
        ),
    ],
)
def test_a_forged_notification_is_refused_and_changes_nothing(client, wechat, order, keys, forge):
    body, headers = wechat.notification(wechat.transaction(order.order_no, 8850))
    forged = forge(body, headers, wechat, keys)
    assert forged != (body, headers)  # every forgery changes what was signed, or its signature
    response = _post(client, *forged)
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_signature"
    assert_untouched(order)


def test_a_resource_not_encrypted_with_our_apiv3_key_is_refused(client, wechat, order):
    body, headers = wechat.notification(
        wechat.transaction(order.order_no, 8850), apiv3_key="b" * 32
    )  # genuinely signed, but sealed with another merchant's key
    assert _post(client, body, headers).status_code == 400
    # A resource whose ciphertext was changed fails the GCM tag.
    envelope = json.loads(body)
    sealed = bytearray(base64.b64decode(envelope["resource"]["ciphertext"]))
    sealed[0] ^= 1
    envelope["resource"]["ciphertext"] = base64.b64encode(bytes(sealed)).decode()
    body = json.dumps(envelope).encode()
    assert _post(client, body, wechat.signed_headers(body.decode())).status_code == 400
    assert_untouched(order)


def test_the_resource_decrypts_with_the_apiv3_key(wechat, order):
    resource = wechat.transaction(order.order_no, 8850, attach="站点 7")
    body, headers = wechat.notification(resource)
    note = WechatGateway().verify_callback(body, headers)
    assert note.raw == resource  # every field, non-ASCII included
    assert (note.order_no, note.amount, note.currency, note.paid) == (
        order.order_no,
        Decimal("88.50"),
        "CNY",
        True,
    )


def test_a_stale_notification_is_refused_as_a_replay(client, wechat, order):
    body, headers = wechat.notification(wechat.transaction(order.order_no, 8850), timestamp=time.time() - 301)
    response = _post(client, body, headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == "stale_notification"
    assert_untouched(order)
    # Within five minutes (clocks drift) it is taken.
    body, headers = wechat.notification(wechat.transaction(order.order_no, 8850), timestamp=time.time() - 240)
    assert _post(client, body, headers).status_code == 200


@pytest.mark.parametrize("field", ["mchid", "appid"])
def test_a_notification_for_another_merchant_is_refused(client, wechat, order, field):
    resource = wechat.transaction(order.order_no, 8850, **{field: "1900000999"})
    response = _post(client, *wechat.notification(resource))
    assert response.status_code == 400 and response.json()["error"]["code"] == "wrong_merchant"
    assert_untouched(order)


def test_a_conflicting_amount_is_flagged_not_credited(client, wechat, order):
    response = _post(client, *wechat.notification(wechat.transaction(order.order_no, 885)))
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == PaymentStatus.PENDING and order.needs_review and "8.85" in order.review_note
    assert LedgerEntry.objects.count() == 0
    assert GatewayEvent.objects.get().outcome == CallbackOutcome.CONFLICT


# --- Native pay, query, refund through the SDK ----------------------------------------------


def test_native_pay_asks_wechat_for_a_code_url(wechat, order):
    wechat.answer(200, {"code_url": "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"})
    url = WechatGateway().start(order, "https://gas.example.com/notify", "https://gas.example.com/back")
    assert url == "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"
    (request,) = wechat.requests
    assert (request["method"], request["url"]) == ("POST", f"{API}/v3/pay/transactions/native")
    expires = (order.created_at + timedelta(minutes=30)).astimezone(timezone.get_fixed_timezone(480))
    assert request["json"] == {
        "notify_url": "https://gas.example.com/notify",
        "description": f"Gas payment {order.order_no}",
        "out_trade_no": order.order_no,
        "amount": {"total": 8850, "currency": "CNY"},
        "time_expire": expires.isoformat(timespec="seconds"),
        "appid": wechat.appid,
        "mchid": wechat.mchid,
    }
    assert request["json"]["time_expire"].endswith("+08:00")
    assert request["headers"]["Wechatpay-Serial"] == wechat.public_key_id
    assert wechat.request_is_signed(request)
    assert not wechat.request_is_signed({**request, "json": {**request["json"], "amount": {"total": 1}}})


def test_native_pay_refusals_and_forged_answers_are_gateway_errors(wechat, order):
    wechat.answer(400, {"code": "PARAM_ERROR", "message": "参数错误"})
    with pytest.raises(GatewayError) as err:
        WechatGateway().start(order, "https://n", "https://b")
    assert err.value.code == "gateway_refused" and "参数错误" in str(err.value.message)
    wechat.answer(200, {"code_url": "weixin://wxpay/bizpayurl?pr=forged"}, key=wechat.merchant)
    with pytest.raises(GatewayError) as err:
        WechatGateway().start(order, "https://n", "https://b")
    assert err.value.code == "gateway_bad_answer"


def _transaction_answer(wechat, order, **overrides):
    answer = wechat.transaction(order.order_no, 8850, **overrides)
    del answer["payer"]
    if answer["trade_state"] != "SUCCESS":  # an unpaid order has no payer and no transaction yet
        del answer["transaction_id"], answer["success_time"]
    return answer


def test_reconcile_asks_wechat_and_credits_a_paid_order(wechat, order, personas):
    wechat.answer(200, _transaction_answer(wechat, order))
    assert services.reconcile()["settled"] == 1
    (request,) = wechat.requests
    assert request["method"] == "GET"
    assert request["url"] == f"{API}/v3/pay/transactions/out-trade-no/{order.order_no}?mchid={wechat.mchid}"
    assert wechat.request_is_signed(request)
    order.refresh_from_db()
    assert order.status == PaymentStatus.SUCCEEDED
    assert GatewayEvent.objects.get().source == "query"
    assert ledger.balance(personas["own_customer"]) == Decimal("88.50")


def test_reconcile_maps_wechat_answers(wechat, order):
    wechat.answer(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
    assert services.reconcile()["unchanged"] == 1
    for state in ("NOTPAY", "USERPAYING"):
        wechat.answer(200, _transaction_answer(wechat, order, trade_state=state))
        assert services.reconcile()["unchanged"] == 1
    # WeChat busy: an error, and not expired on a guess even when old.
    wechat.answer(500, {"code": "SYSTEM_ERROR", "message": "系统错误"})
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert services.reconcile()["errors"] == 1
    # Unreachable, or an answer not signed by WeChat Pay: errors too.
    wechat.answers.append(requests.ConnectionError("no route"))
    wechat.answer(200, _transaction_answer(wechat, order), key=wechat.merchant)
    assert services.reconcile()["errors"] == 1
    assert services.reconcile()["errors"] == 1
    assert_untouched(order)
    wechat.answer(200, _transaction_answer(wechat, order, trade_state="CLOSED"))
    assert services.reconcile()["settled"] == 1
    order.refresh_from_db()
    assert order.status == PaymentStatus.FAILED and LedgerEntry.objects.count() == 0


def test_reconcile_expires_an_order_wechat_never_saw(wechat, order):
    wechat.answer(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert services.reconcile()["expired"] == 1
    order.refresh_from_db()
    assert order.status == PaymentStatus.EXPIRED


def _paid(order, txn="4200000000202603010000000001"):
    assert (
        services.settle("wechat", Notification(order.order_no, txn, order.amount, "CNY", True)) == "credited"
    )
    order.refresh_from_db()
    return order


def _refund_answer(payment, refund_no, status, refund_id="50000000382019052709732678859"):
    return {
        "refund_id": refund_id,
        "out_refund_no": refund_no,
        "transaction_id": payment.gateway_txn_id,
        "status": status,
        "amount": {"refund": 2000, "total": 8850, "currency": "CNY"},
    }


def test_a_refund_goes_to_wechat_in_fen_and_is_booked_when_wechat_finishes_it(wechat, order, personas):
    payment = _paid(order)
    wechat.answer(200, _refund_answer(payment, "RF1", "PROCESSING"))
    refund = services.request_refund(payment, "20", "overpaid", personas["cashier"])
    (request,) = wechat.requests
    assert (request["method"], request["url"]) == ("POST", f"{API}/v3/refund/domestic/refunds")
    assert request["json"] == {
        "out_refund_no": f"RF{refund.pk}",
        "amount": {"refund": 2000, "total": 8850, "currency": "CNY"},
        "transaction_id": payment.gateway_txn_id,
    }
    assert wechat.request_is_signed(request)
    # WeChat Pay refunds asynchronously: accepted is not yet refunded, so nothing is posted.
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PROCESSING
    assert refund.gateway_refund_id == "50000000382019052709732678859"
    assert ledger.balance(personas["own_customer"]) == Decimal("88.50")
    assert services.refund_room(payment) == Decimal("68.50")  # the 20 are held meanwhile
    # Reconciliation asks WeChat Pay about the refund by our number and books it once.
    wechat.answer(200, _refund_answer(payment, f"RF{refund.pk}", "SUCCESS"))
    assert services.reconcile_refunds(0)["refunds_done"] == 1
    query = wechat.requests[-1]
    assert (query["method"], query["url"]) == ("GET", f"{API}/v3/refund/domestic/refunds/RF{refund.pk}")
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert refund.status == RefundStatus.DONE and payment.status == PaymentStatus.PARTLY_REFUNDED
    assert ledger.balance(personas["own_customer"]) == Decimal("68.50")
    assert services.reconcile_refunds(0) == {
        "refunds_done": 0,
        "refunds_failed": 0,
        "refunds_processing": 0,
        "refund_errors": 0,
    }
    assert len(wechat.requests) == 2


def test_a_refund_wechat_is_too_busy_for_is_sent_again_by_reconciliation(wechat, order, personas):
    payment = _paid(order)
    wechat.answer(500, {"code": "SYSTEM_ERROR", "message": "系统超时"})
    refund = services.request_refund(payment, "20", "overpaid", personas["cashier"])
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PROCESSING and "系统超时" in refund.gateway_error
    assert LedgerEntry.objects.count() == 1  # the payment only
    # WeChat Pay never took it: reconciliation sends it again under the same number.
    wechat.answer(404, {"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"})
    wechat.answer(200, _refund_answer(payment, f"RF{refund.pk}", "SUCCESS"))
    assert services.reconcile_refunds(0)["refunds_done"] == 1
    first, _query, again = wechat.requests
    assert again["json"] == first["json"] and again["json"]["out_refund_no"] == f"RF{refund.pk}"
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE and refund.gateway_error == ""
    assert ledger.balance(personas["own_customer"]) == Decimal("68.50")


def test_wechat_refund_states_map_to_ours(wechat, order, personas):
    payment = _paid(order)
    wechat.answer(200, _refund_answer(payment, "RF", "PROCESSING"))
    refund = services.request_refund(payment, "20", "overpaid", personas["cashier"])
    # ABNORMAL: the customer's card refused the money; it waits for the merchant, with a note.
    wechat.answer(200, _refund_answer(payment, f"RF{refund.pk}", "ABNORMAL"))
    assert services.reconcile_refunds(0)["refunds_processing"] == 1
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PROCESSING and "merchant platform" in refund.gateway_error
    # A query WeChat cannot answer leaves it as it is.
    wechat.answer(500, {"code": "SYSTEM_ERROR", "message": "系统繁忙"})
    assert services.reconcile_refunds(0)["refund_errors"] == 1
    # CLOSED: refused in the end; nothing posted, the amount free again.
    wechat.answer(200, _refund_answer(payment, f"RF{refund.pk}", "CLOSED"))
    assert services.reconcile_refunds(0)["refunds_failed"] == 1
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert refund.status == RefundStatus.FAILED and "closed" in refund.gateway_error
    assert payment.status == PaymentStatus.SUCCEEDED and services.refund_room(payment) == Decimal("88.50")
    assert ledger.balance(personas["own_customer"]) == Decimal("88.50")


def test_a_refund_wechat_refuses_writes_nothing(wechat, order, personas):
    payment = _paid(order)
    wechat.answer(403, {"code": "NOT_ENOUGH", "message": "基本账户余额不足"})
    assert_refund_refused(payment, personas["cashier"], "余额不足")
