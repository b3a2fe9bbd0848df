import io

import pytest
from pypdf import PdfReader

from gasworks.billing.models import LedgerEntry
from gasworks.payments import services
from gasworks.payments.models import Payment
from gasworks.system.models import IdempotentRequest

pytestmark = pytest.mark.django_db
URL = "/api/v1/payments/"


def _pay(client, body, key="k-1"):
    return client.post(URL, body, content_type="application/json", headers={"Idempotency-Key": key})


def test_it_takes_a_cash_payment_and_replays_a_retry(client, personas):
    client.force_login(personas["cashier"])
    body = {"customer": personas["own_customer"].pk, "amount": "120.00", "method": "cash"}
    first = _pay(client, body)
    assert first.status_code == 201
    data = first.json()
    assert data["status"] == "succeeded" and data["receipt_no"].startswith("R")
    again = _pay(client, body)
    assert again.status_code == 201 and again.json() == data
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Payment.objects.count() == 1 and LedgerEntry.objects.count() == 1
    other = _pay(client, {**body, "amount": "121.00"})
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert Payment.objects.count() == 1


def test_it_needs_an_idempotency_key(client, personas):
    client.force_login(personas["cashier"])
    response = client.post(
        URL,
        {"customer": personas["own_customer"].pk, "amount": "1", "method": "cash"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_required"
    too_long = _pay(
        client, {"customer": personas["own_customer"].pk, "amount": "1", "method": "cash"}, "k" * 129
    )
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "invalid_idempotency_key"
    assert Payment.objects.count() == 0 and not IdempotentRequest.objects.exists()


def test_a_key_used_for_an_emergency_report_is_another_key_for_a_payment(client, personas):
    """One table for every route, each route its own key space."""
    client.force_login(personas["admin"])
    report = {"address": "望京街道8号院", "description": "燃气味", "priority": "high"}
    client.post(
        "/api/v1/emergencies/", report, content_type="application/json", headers={"Idempotency-Key": "k-1"}
    )
    paid = _pay(client, {"customer": personas["own_customer"].pk, "amount": "5", "method": "cash"})
    assert paid.status_code == 201 and "receipt_no" in paid.json()
    assert sorted(IdempotentRequest.objects.values_list("scope", flat=True)) == ["emergencies", "payments"]


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "10", "method": "cash"},
        {"customer": 999999, "amount": "10", "method": "cash"},
        {"customer": None, "amount": "-1", "method": "cash"},
        {"customer": None, "amount": "10", "method": "cheque"},
        {"customer": None, "amount": "1.234", "method": "cash"},
        {"customer": None, "amount": "10", "method": "cash", "tendered": "5"},
        {"customer": None, "amount": "10", "method": "online", "gateway": "paypal"},
    ],
)
def test_it_answers_bad_input_with_400_and_writes_nothing(client, personas, body):
    client.force_login(personas["cashier"])
    if body.get("customer", 0) is None:
        body = {**body, "customer": personas["own_customer"].pk}
    response = _pay(client, body)
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert Payment.objects.count() == 0 and LedgerEntry.objects.count() == 0
    assert IdempotentRequest.objects.count() == 0


def test_a_customer_creates_an_online_order_for_itself_only(client, personas):
    client.force_login(personas["customer"])
    own = _pay(client, {"customer": personas["own_customer"].pk, "amount": "50", "method": "online"})
    assert own.status_code == 201
    assert own.json()["status"] == "pending" and "/payments/sandbox/" in own.json()["pay_url"]
    stranger = _pay(
        client, {"customer": personas["other_customer"].pk, "amount": "50", "method": "online"}, "k-2"
    )
    assert stranger.status_code == 404
    cash = _pay(client, {"customer": personas["own_customer"].pk, "amount": "50", "method": "cash"}, "k-3")
    assert cash.status_code == 403
    assert Payment.objects.count() == 1


def test_it_refunds_through_the_api(client, personas):
    payment = services.take_counter_payment(personas["own_customer"], "80", "cash", personas["cashier"])
    client.force_login(personas["cashier"])
    response = client.post(
        f"{URL}{payment.pk}/refund/", {"amount": "20", "reason": "error"}, content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["payment_status"] == "partly_refunded"
    bad = client.post(f"{URL}{payment.pk}/refund/", {"amount": "0"}, content_type="application/json")
    assert bad.status_code == 400
    assert payment.refunds.count() == 1


def test_the_receipt_pdf_carries_chinese(client, personas):
    payment = services.take_counter_payment(
        personas["own_customer"], "123.45", "cash", personas["cashier"], "200"
    )
    client.force_login(personas["customer"])
    response = client.get(f"{URL}{payment.pk}/receipt/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "收款收据" in text
    assert "张三" in text  # the customer's name
    assert "壹佰贰拾叁元肆角伍分" in text
    assert payment.receipt_no in text


def test_a_pending_order_has_no_receipt(client, personas):
    order = services.create_online_order(personas["own_customer"], "10", personas["customer"])
    client.force_login(personas["cashier"])
    assert client.get(f"{URL}{order.pk}/receipt/").status_code == 409
