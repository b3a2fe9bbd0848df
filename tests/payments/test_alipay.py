"""The Alipay adapter on the python-alipay-sdk, offline: notifications signed here as Alipay signs
them go through the callback endpoint; page pay, trade query and refund go through the SDK with its
HTTP call answered by the test (tests/payments/providers.py)."""

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from urllib.error import URLError
from urllib.parse import parse_qsl

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from gasworks.billing import ledger
from gasworks.billing.models import LedgerEntry
from gasworks.payments import services
from gasworks.payments.gateways.alipay import AlipayGateway
from gasworks.payments.gateways.base import GatewayError, Notification
from gasworks.payments.models import CallbackOutcome, GatewayEvent, PaymentStatus, RefundStatus
from tests.payments.providers import (
    Alipay,
    assert_refund_refused,
    assert_untouched,
    flip_bit,
    post_callback,
)

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def order(personas):
    return services.create_online_order(personas["own_customer"], "88.50", personas["customer"], "alipay")


def _post(client, params):
    return post_callback(client, "alipay", Alipay.form(params), {}, FORM)


def test_a_signed_notification_credits_once(client, alipay, order, personas):
    params = alipay.notification(out_trade_no=order.order_no)
    for _ in range(3):  # Alipay retries until it reads "success"
        response = _post(client, params)
        assert response.status_code == 200 and response.content == b"success"
    order.refresh_from_db()
    assert order.status == PaymentStatus.SUCCEEDED and order.gateway_txn_id == params["trade_no"]
    assert ledger.balance(personas["own_customer"]) == Decimal("88.50")
    assert LedgerEntry.objects.count() == 1
    outcomes = list(GatewayEvent.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == [CallbackOutcome.CREDITED, CallbackOutcome.DUPLICATE, CallbackOutcome.DUPLICATE]


def assert_credited(order, customer, amount="88.50"):
    """The point of a good notification: the order paid and the customer's account credited once."""
    order.refresh_from_db()
    assert order.status == PaymentStatus.SUCCEEDED
    entry = LedgerEntry.objects.get(account__customer=customer)
    assert (entry.kind, entry.amount) == ("payment", Decimal(amount))
    assert ledger.balance(customer) == Decimal(amount)


def test_empty_parameters_are_left_out_of_the_signed_string(client, alipay, order, personas):
    params = alipay.notification(out_trade_no=order.order_no, body="", passback_params="")
    response = _post(client, params)
    assert response.status_code == 200 and response.content == b"success"
    assert_credited(order, personas["own_customer"])


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda p, a, k: {**p, "sign": flip_bit(p["sign"])}, id="flipped-sign"),
        pytest.param(lambda p, a, k: {**p, "total_amount": "8850.00"}, id="amount-changed-after-signing"),
        pytest.param(lambda p, a, k: {**p, "trade_no": "2026030122001400000000000002"}, id="txn-changed"),
        pytest.param(
            lambda p, a, k: a.notification(k["forger"], out_trade_no=p["out_trade_no"]), id="other-key"
        ),
        pytest.param(lambda p, a, k: {key: v for key, v in p.items() if key != "sign"}, id="unsigned"),
        pytest.param(lambda p, a, k: {**p, "sign": "not base64 at all!"}, id="garbage-sign"),
        pytest.param(lambda p, a, k: {**p, "sign_type": "RSA"}, id="rsa1-sign-type"),
    ],
)
def test_a_forged_notification_is_refused_and_changes_nothing(client, alipay, order, keys, forge):
    params = alipay.notification(out_trade_no=order.order_no)
    forged = forge(params, alipay, keys)
    assert forged != params  # every forgery changes what was signed, or its signature
    response = _post(client, forged)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_signature"
    assert_untouched(order)


def test_a_notification_for_another_app_or_seller_is_refused(client, alipay, order, monkeypatch, personas):
    response = _post(client, alipay.notification(out_trade_no=order.order_no, app_id="2021999999999999"))
    assert response.status_code == 400 and response.json()["error"]["code"] == "wrong_merchant"
    monkeypatch.setenv("ALIPAY_SELLER_ID", alipay.seller_id)
    response = _post(client, alipay.notification(out_trade_no=order.order_no, seller_id="2088999999999999"))
    assert response.status_code == 400 and response.json()["error"]["code"] == "wrong_merchant"
    assert_untouched(order)
    # The right seller passes.
    assert _post(client, alipay.notification(out_trade_no=order.order_no)).status_code == 200
    assert_credited(order, personas["own_customer"])


def test_a_conflicting_amount_is_flagged_not_credited(client, alipay, order):
    response = _post(client, alipay.notification(out_trade_no=order.order_no, total_amount="8.85"))
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == PaymentStatus.PENDING and order.needs_review and "8.85" in order.review_note
    assert LedgerEntry.objects.count() == 0
    assert GatewayEvent.objects.get().outcome == CallbackOutcome.CONFLICT


def test_a_closed_trade_fails_the_order_and_a_waiting_one_changes_nothing(client, alipay, order):
    response = _post(client, alipay.notification(out_trade_no=order.order_no, trade_status="WAIT_BUYER_PAY"))
    assert response.status_code == 400 and response.json()["error"]["code"] == "not_final"
    assert_untouched(order)
    assert (
        _post(
            client, alipay.notification(out_trade_no=order.order_no, trade_status="TRADE_CLOSED")
        ).status_code
        == 200
    )
    order.refresh_from_db()
    assert order.status == PaymentStatus.FAILED and LedgerEntry.objects.count() == 0


def test_an_unconfigured_alipay_says_which_setting_is_missing(client, alipay, order, monkeypatch):
    monkeypatch.delenv("ALIPAY_PUBLIC_KEY")
    with pytest.raises(GatewayError) as err:
        AlipayGateway().verify_callback(alipay.form(alipay.notification(out_trade_no=order.order_no)), {})
    assert err.value.code == "gateway_not_configured" and "ALIPAY_PUBLIC_KEY" in str(err.value.message)
    monkeypatch.setenv("ALIPAY_PUBLIC_KEY", "not a key")
    with pytest.raises(GatewayError) as err:
        AlipayGateway().verify_callback(b"", {})
    assert err.value.code == "gateway_not_configured"


# --- page pay, query, refund through the SDK ------------------------------------------------


def test_page_pay_is_a_signed_url_to_alipay(alipay, order, monkeypatch):
    url = AlipayGateway().start(order, "https://gas.example.com/notify", "https://gas.example.com/back")
    base, query = url.split("?", 1)
    assert base == "https://openapi.alipay.com/gateway.do"
    params = dict(parse_qsl(query))
    assert params["method"] == "alipay.trade.page.pay" and params["app_id"] == alipay.app_id
    assert params["sign_type"] == "RSA2" and params["charset"] == "utf-8"
    assert params["notify_url"] == "https://gas.example.com/notify"
    assert params["return_url"] == "https://gas.example.com/back"
    biz = json.loads(params["biz_content"])
    assert biz["out_trade_no"] == order.order_no and biz["total_amount"] == "88.50"
    assert biz["product_code"] == "FAST_INSTANT_TRADE_PAY"
    # Alipay closes the trade when our books expire the order (30 minutes, Beijing time).
    expires = (order.created_at + timedelta(minutes=30)).astimezone(timezone.get_fixed_timezone(480))
    assert biz["time_expire"] == expires.strftime("%Y-%m-%d %H:%M:%S")
    assert alipay.request_is_signed(params)
    assert not alipay.request_is_signed({**params, "biz_content": biz["out_trade_no"]})
    assert alipay.requests == []  # building the URL calls nobody
    monkeypatch.setenv("ALIPAY_DEBUG", "1")
    sandbox_url = AlipayGateway().start(order, "https://n", "https://b")
    assert sandbox_url.startswith("https://openapi-sandbox.dl.alipaydev.com/gateway.do?")


def _trade(order, **overrides):
    answer = {
        "code": "10000",
        "msg": "Success",
        "trade_no": "2026030122001400000000000009",
        "out_trade_no": order.order_no,
        "buyer_logon_id": "csq***@example.com",
        "trade_status": "TRADE_SUCCESS",
        "total_amount": f"{order.amount:.2f}",
        "send_pay_date": "2026-03-01 10:15:00",
    }
    answer.update(overrides)
    return answer


def test_reconcile_asks_alipay_and_credits_a_paid_trade(alipay, order, personas):
    alipay.answer("alipay.trade.query", _trade(order))
    out = StringIO()
    call_command("reconcile_payments", stdout=out)
    assert "settled=1" in out.getvalue()
    (request,) = alipay.requests
    assert request["gateway"] == "https://openapi.alipay.com/gateway.do"
    assert request["params"]["method"] == "alipay.trade.query"
    assert json.loads(request["params"]["biz_content"]) == {"out_trade_no": order.order_no}
    assert alipay.request_is_signed(request["params"])
    order.refresh_from_db()
    assert order.status == PaymentStatus.SUCCEEDED and order.gateway_txn_id == "2026030122001400000000000009"
    assert GatewayEvent.objects.get().source == "query"
    assert ledger.balance(personas["own_customer"]) == Decimal("88.50")


def test_reconcile_maps_alipay_answers(alipay, order):
    # Not opened yet (no such trade): left alone while young, expired once old.
    alipay.answer(
        "alipay.trade.query", {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}
    )
    assert services.reconcile()["unchanged"] == 1
    # Waiting for the buyer: no outcome.
    alipay.answer("alipay.trade.query", _trade(order, trade_status="WAIT_BUYER_PAY"))
    assert services.reconcile()["unchanged"] == 1
    # Alipay busy: an error, and the order is not expired on a guess even when old.
    alipay.answer("alipay.trade.query", {"code": "20000", "msg": "Service Currently Unavailable"})
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert services.reconcile()["errors"] == 1
    # An answer not signed by Alipay is not believed; an unsigned refusal, or no answer, are errors.
    alipay.answer("alipay.trade.query", _trade(order), key=alipay.merchant)
    alipay.answers.append(
        '{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-app-id"}}'
    )
    alipay.answers.append(URLError("timed out"))
    out = StringIO()
    for _ in range(3):
        assert services.reconcile(stdout=out)["errors"] == 1
    assert "not signed" in out.getvalue() and "isv.invalid-app-id" in out.getvalue()
    assert "could not be reached" in out.getvalue()
    assert_untouched(order)
    alipay.answer("alipay.trade.query", _trade(order, trade_status="TRADE_CLOSED"))
    assert services.reconcile()["settled"] == 1
    order.refresh_from_db()
    assert order.status == PaymentStatus.FAILED
    assert alipay.answers == [] and len(alipay.requests) == 7


def test_reconcile_expires_an_order_alipay_never_saw(alipay, order):
    alipay.answer(
        "alipay.trade.query", {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}
    )
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert services.reconcile()["expired"] == 1
    order.refresh_from_db()
    assert order.status == PaymentStatus.EXPIRED


def _paid(order, txn="2026030122001400000000000001"):
    note = Notification(order.order_no, txn, order.amount, "CNY", paid=True)
    assert services.settle("alipay", note) == CallbackOutcome.CREDITED
    order.refresh_from_db()
    return order


def test_a_refund_goes_to_alipay_with_our_request_number(alipay, order, personas):
    payment = _paid(order)
    alipay.answer(
        "alipay.trade.refund",
        {
            "code": "10000",
            "msg": "Success",
            "trade_no": payment.gateway_txn_id,
            "fund_change": "Y",
            "refund_fee": "20.00",
        },
    )
    refund = services.request_refund(payment, "20", "overpaid", personas["cashier"])
    (request,) = alipay.requests
    assert request["params"]["method"] == "alipay.trade.refund" and alipay.request_is_signed(
        request["params"]
    )
    assert json.loads(request["params"]["biz_content"]) == {
        "refund_amount": "20.00",
        "out_trade_no": payment.order_no,
        "out_request_no": f"RF{refund.pk}",
    }
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE and refund.gateway_refund_id == f"RF{refund.pk}"
    assert ledger.balance(personas["own_customer"]) == Decimal("68.50")


def test_a_refund_alipay_refuses_writes_nothing(alipay, order, personas):
    payment = _paid(order)
    alipay.answer(
        "alipay.trade.refund",
        {
            "code": "40004",
            "msg": "Business Failed",
            "sub_code": "ACQ.TRADE_HAS_FINISHED",
            "sub_msg": "交易已完结",
        },
    )
    assert_refund_refused(payment, personas["cashier"], "交易已完结")


def test_a_refund_alipay_cannot_carry_out_now_is_settled_by_reconciliation(alipay, order, personas):
    payment = _paid(order)
    alipay.answer(
        "alipay.trade.refund",
        {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.SYSTEM_ERROR", "sub_msg": "系统错误"},
    )
    refund = services.request_refund(payment, "20", "overpaid", personas["cashier"])
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PROCESSING and "系统错误" in refund.gateway_error
    assert ledger.balance(personas["own_customer"]) == Decimal("88.50")
    # The refund query finds nothing (Alipay did not refund it): sent again, same request number.
    alipay.answer("alipay.trade.fastpay.refund.query", {"code": "10000", "msg": "Success"})
    alipay.answer(
        "alipay.trade.refund",
        {"code": "10000", "msg": "Success", "trade_no": payment.gateway_txn_id, "fund_change": "Y"},
    )
    out = StringIO()
    call_command("reconcile_payments", "--refunds-older-than=0", stdout=out)
    assert "refunds_done=1" in out.getvalue()
    first, query, again = alipay.requests
    assert query["params"]["method"] == "alipay.trade.fastpay.refund.query"
    assert json.loads(query["params"]["biz_content"]) == {
        "out_request_no": f"RF{refund.pk}",
        "out_trade_no": payment.order_no,
    }
    assert again["params"]["biz_content"] == first["params"]["biz_content"]
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE
    assert ledger.balance(personas["own_customer"]) == Decimal("68.50")


def test_an_alipay_refund_without_fund_change_is_confirmed_by_the_refund_query(alipay, order, personas):
    payment = _paid(order)
    alipay.answer("alipay.trade.refund", {"code": "10000", "msg": "Success", "fund_change": "N"})
    refund = services.request_refund(payment, "20", "overpaid", personas["cashier"])
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PROCESSING
    alipay.answer(
        "alipay.trade.fastpay.refund.query",
        {
            "code": "10000",
            "msg": "Success",
            "out_request_no": f"RF{refund.pk}",
            "refund_amount": "20.00",
            "refund_status": "REFUND_SUCCESS",
        },
    )
    assert services.reconcile_refunds(0)["refunds_done"] == 1
    assert len(alipay.requests) == 2  # asked, not sent again
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE
    assert ledger.balance(personas["own_customer"]) == Decimal("68.50")
