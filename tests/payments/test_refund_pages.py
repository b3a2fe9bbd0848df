"""Refund states on the pages and in the API: the payment page, the refunds page with its retry
action, and the refund endpoints."""

import pytest

from gasworks.payments import services
from gasworks.payments.gateways.base import RefundAnswer, unreachable
from gasworks.payments.gateways.sandbox import SandboxGateway
from gasworks.payments.models import RefundStatus

pytestmark = pytest.mark.django_db
ROLES = ["admin", "cashier", "meter_reader", "inspector", "dispatcher", "filler", "customer"]
real_refund = SandboxGateway.refund


def refused(self, *args):
    return RefundAnswer(RefundAnswer.FAILED, message="基本账户余额不足")


def no_answer(self, *args):
    raise unreachable()


@pytest.fixture
def paid(personas, pay_order):
    order = services.create_online_order(personas["own_customer"], "100", personas["customer"])
    services.handle_callback("sandbox", *pay_order(order))
    order.refresh_from_db()
    return order


@pytest.fixture
def states(paid, personas, monkeypatch):
    """One refund failed at the gateway, one still processing there."""
    monkeypatch.setattr(SandboxGateway, "refund", refused)
    failed = services.request_refund(paid, "10", "wrong amount", personas["cashier"])
    monkeypatch.setattr(SandboxGateway, "refund", no_answer)
    processing = services.request_refund(paid, "20", "moved out", personas["cashier"])
    monkeypatch.setattr(SandboxGateway, "refund", real_refund)
    return {"failed": failed, "processing": processing}


def chinese(client, user):
    client.force_login(user)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})


def test_the_payment_page_shows_refund_states_in_chinese(client, personas, paid, states):
    chinese(client, personas["cashier"])
    page = client.get(f"/payments/{paid.pk}/").content.decode()
    assert "失败" in page and "基本账户余额不足" in page  # failed, with the gateway's words
    assert "支付渠道处理中" in page and "最近答复" in page  # processing, with why it is still open
    assert page.count('data-testid="refund-retry"') == 1  # only the failed one
    assert "重新提交" in page
    assert f"/payments/{paid.pk}/refund/" in page  # 70.00 still refundable


def test_the_customer_sees_the_states_but_no_retry(client, personas, paid, states):
    chinese(client, personas["customer"])
    page = client.get(f"/payments/{paid.pk}/").content.decode()
    assert "失败" in page and "支付渠道处理中" in page
    assert 'data-testid="refund-retry"' not in page


def test_a_cashier_sends_a_failed_refund_again(client, personas, paid, states):
    client.force_login(personas["cashier"])
    response = client.post(f"/payments/refunds/{states['failed'].pk}/retry/", follow=True)
    assert response.redirect_chain[-1][0] == f"/payments/{paid.pk}/"
    assert "Refunded ¥10.00." in response.content.decode()
    states["failed"].refresh_from_db()
    assert states["failed"].status == RefundStatus.DONE


def test_sending_again_a_refund_that_did_not_fail_says_so(client, personas, paid, states):
    client.force_login(personas["cashier"])
    response = client.post(f"/payments/refunds/{states['processing'].pk}/retry/", follow=True)
    assert "Only a failed refund can be sent again." in response.content.decode()
    states["processing"].refresh_from_db()
    assert states["processing"].status == RefundStatus.PROCESSING


@pytest.mark.parametrize("role", ROLES)
def test_only_cashiers_and_admins_send_a_refund_again(client, personas, states, role):
    client.force_login(personas[role])
    response = client.post(f"/payments/refunds/{states['failed'].pk}/retry/")
    assert response.status_code == (302 if role in ("admin", "cashier") else 403)
    states["failed"].refresh_from_db()
    want = RefundStatus.DONE if role in ("admin", "cashier") else RefundStatus.FAILED
    assert states["failed"].status == want
    assert client.get(f"/payments/refunds/{states['failed'].pk}/retry/").status_code in (403, 405)


def test_the_refunds_page_lists_what_to_handle(client, personas, paid, states, django_assert_max_num_queries):
    from gasworks.system.models import Parameter

    Parameter.objects.create(key="refund_approval_threshold", value="5")
    waiting = services.request_refund(paid, "6", "double payment", personas["cashier"])
    chinese(client, personas["admin"])
    with django_assert_max_num_queries(12):
        page = client.get("/payments/refunds/").content.decode()
    assert "待审批退款" in page and "支付渠道拒绝的退款" in page and "支付渠道处理中的退款" in page
    assert f"/payments/refunds/{waiting.pk}/approve/" in page
    assert f"/payments/refunds/{states['failed'].pk}/retry/" in page
    assert "moved out" in page  # the processing one
    response = client.post(f"/payments/refunds/{states['failed'].pk}/retry/", {"back": "list"})
    assert response.status_code == 302 and response["Location"] == "/payments/refunds/"


def test_the_refunds_page_makes_the_same_queries_for_more_refunds(client, personas, paid, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(personas["admin"])
    monkeypatch.setattr(SandboxGateway, "refund", refused)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            client.get("/payments/refunds/")
        return len(ctx.captured_queries)

    services.request_refund(paid, "1", "one", personas["cashier"])
    one = queries()
    for i in range(4):
        services.request_refund(paid, "1", f"more {i}", personas["cashier"])
    assert queries() == one


# --- API ------------------------------------------------------------------------------------


def test_the_api_answers_each_state(client, personas, paid, monkeypatch):
    client.force_login(personas["cashier"])
    url = f"/api/v1/payments/{paid.pk}/refund/"
    monkeypatch.setattr(SandboxGateway, "refund", refused)
    failed = client.post(url, {"amount": "10", "reason": "x"}, content_type="application/json")
    assert failed.status_code == 201
    body = failed.json()
    assert body["status"] == "failed" and body["gateway_error"] == "基本账户余额不足"
    assert body["payment_status"] == "succeeded" and body["finished_at"]
    monkeypatch.setattr(SandboxGateway, "refund", no_answer)
    processing = client.post(
        url, {"amount": "20", "reason": "y"}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).json()
    assert processing["status"] == "processing" and processing["status_label"] == "支付渠道处理中"
    monkeypatch.setattr(SandboxGateway, "refund", real_refund)
    done = client.post(url, {"amount": "80", "reason": "z"}, content_type="application/json").json()
    assert done["status"] == "done" and done["payment_status"] == "partly_refunded"
    too_much = client.post(url, {"amount": "1", "reason": "z"}, content_type="application/json")
    assert too_much.status_code == 400 and too_much.json()["error"]["code"] == "refund_too_large"
    listed = client.get(f"/api/v1/payments/{paid.pk}/refunds/").json()
    assert [r["status"] for r in listed] == ["done", "processing", "failed"]
    assert [r["amount"] for r in listed] == ["80.00", "20.00", "10.00"]


def test_a_customer_reads_the_refunds_of_its_own_payments_only(client, personas, paid, states):
    other = services.take_counter_payment(personas["other_customer"], "10", "cash", personas["cashier"])
    client.force_login(personas["customer"])
    mine = client.get(f"/api/v1/payments/{paid.pk}/refunds/")
    assert mine.status_code == 200 and {r["status"] for r in mine.json()} == {"failed", "processing"}
    assert client.get(f"/api/v1/payments/{other.pk}/refunds/").status_code == 404
    client.force_login(personas["meter_reader"])
    assert client.get(f"/api/v1/payments/{paid.pk}/refunds/").status_code == 403
