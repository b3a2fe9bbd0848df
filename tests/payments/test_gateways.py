import json
from decimal import Decimal

import pytest

from gasworks.billing import ledger
from gasworks.billing.models import LedgerEntry
from gasworks.errors import InvalidInput
from gasworks.payments import services
from gasworks.payments.gateways import sandbox
from gasworks.payments.models import CallbackOutcome, GatewayEvent, Payment, PaymentStatus

pytestmark = pytest.mark.django_db

CALLBACK = "/api/v1/payments/callbacks/sandbox/"


def _post(client, body, headers):
    return client.post(
        CALLBACK, data=body, content_type="application/json", headers={k: v for k, v in headers.items()}
    )


def test_it_credits_a_signed_callback_once(client, personas, pay_order):
    customer = personas["own_customer"]
    order = services.create_online_order(customer, "66.60", personas["customer"])
    body, headers = pay_order(order)
    for _ in range(3):
        response = _post(client, body, headers)
        assert response.status_code == 200 and response.content == b"success"
    order.refresh_from_db()
    assert order.status == PaymentStatus.SUCCEEDED and order.receipt_no
    assert ledger.balance(customer) == Decimal("66.60")
    assert LedgerEntry.objects.count() == 1
    outcomes = list(GatewayEvent.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == [CallbackOutcome.CREDITED, CallbackOutcome.DUPLICATE, CallbackOutcome.DUPLICATE]


def test_it_refuses_a_forged_signature_and_changes_nothing(client, personas):
    order = services.create_online_order(personas["own_customer"], "50", personas["customer"])
    body, headers = sandbox.signed_notification(order.order_no, "SBXFORGED1", Decimal("50"), "CNY")
    tampered = body.replace(b"SBXFORGED1", b"SBXFORGED2")
    response = _post(client, tampered, headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_signature"
    # A signature made with another key is refused too.
    from gasworks.payments import rsa

    other = rsa.generate(1024)
    response = _post(client, body, {sandbox.SIGNATURE_HEADER: rsa.sign_b64(other, body)})
    assert response.status_code == 400
    response = _post(client, body, {})
    assert response.status_code == 400
    order.refresh_from_db()
    assert order.status == PaymentStatus.PENDING and order.gateway_txn_id is None
    assert LedgerEntry.objects.count() == 0 and GatewayEvent.objects.count() == 0


def test_it_flags_a_conflicting_amount_without_crediting(client, personas):
    order = services.create_online_order(personas["own_customer"], "50", personas["customer"])
    body, headers = sandbox.signed_notification(order.order_no, "SBXCONFLICT", Decimal("5.00"), "CNY")
    assert _post(client, body, headers).status_code == 200
    order.refresh_from_db()
    assert order.status == PaymentStatus.PENDING and order.needs_review
    assert LedgerEntry.objects.count() == 0
    assert GatewayEvent.objects.get().outcome == CallbackOutcome.CONFLICT


def test_it_flags_a_wrong_currency(client, personas):
    order = services.create_online_order(personas["own_customer"], "50", personas["customer"])
    body, headers = sandbox.signed_notification(order.order_no, "SBXUSD", Decimal("50"), "USD")
    _post(client, body, headers)
    order.refresh_from_db()
    assert order.needs_review and order.status == PaymentStatus.PENDING
    assert LedgerEntry.objects.count() == 0


def test_it_ignores_a_late_failure_after_success(client, personas, pay_order):
    order = services.create_online_order(personas["own_customer"], "50", personas["customer"])
    _post(client, *pay_order(order))
    body, headers = sandbox.signed_notification(
        order.order_no, "SBXOTHER", Decimal("50"), "CNY", status="closed"
    )
    _post(client, body, headers)
    order.refresh_from_db()
    assert order.status == PaymentStatus.SUCCEEDED
    assert GatewayEvent.objects.order_by("-pk").first().outcome == CallbackOutcome.LATE
    assert LedgerEntry.objects.count() == 1


def test_it_reconciles_a_lost_callback_and_expires_stale_orders(personas, pay_order):
    import time_machine
    from django.utils import timezone

    paid = services.create_online_order(personas["own_customer"], "30", personas["customer"])
    pay_order(paid)  # paid at the sandbox, but the callback never arrived
    stale = services.create_online_order(personas["own_customer"], "40", personas["customer"])
    fresh_counts = services.reconcile()
    assert fresh_counts["settled"] == 1
    paid.refresh_from_db()
    assert paid.status == PaymentStatus.SUCCEEDED
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=31)):
        counts = services.reconcile()
    stale.refresh_from_db()
    assert stale.status == PaymentStatus.EXPIRED and counts["expired"] == 1
    assert ledger.balance(personas["own_customer"]) == Decimal("30.00")


def test_it_refuses_an_unknown_gateway(personas):
    with pytest.raises(InvalidInput):
        services.create_online_order(personas["own_customer"], "30", personas["customer"], gateway="paypal")
    assert Payment.objects.count() == 0


def test_the_reconcile_command_runs(personas, pay_order):
    from io import StringIO

    from django.core.management import call_command

    order = services.create_online_order(personas["own_customer"], "30", personas["customer"])
    pay_order(order)
    out = StringIO()
    call_command("reconcile_payments", stdout=out)
    assert "settled=1" in out.getvalue()


def test_the_sandbox_notification_is_plain_json(personas, pay_order):
    order = services.create_online_order(personas["own_customer"], "30", personas["customer"])
    body, _headers = pay_order(order)
    assert json.loads(body)["order_no"] == order.order_no
