"""A production server (DEBUG off) with no real gateway configured and PAYMENTS_SANDBOX unset: the
sandbox, whose pay page credits an account with money nobody paid, moves no money by any path. An
online order is refused with 409 online_payment_unavailable; `check --deploy` warns when the
sandbox is turned on with DEBUG off."""

from decimal import Decimal

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from gasworks.billing import ledger
from gasworks.errors import DomainError
from gasworks.payments import services
from gasworks.payments.gateways import sandbox
from gasworks.payments.gateways.alipay import AlipayGateway
from gasworks.payments.gateways.wechat import WechatGateway
from gasworks.payments.models import Payment, PaymentStatus, SandboxTransaction
from gasworks.system.models import IdempotentRequest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _production(monkeypatch, settings):
    settings.DEBUG = False
    settings.PAYMENTS_SANDBOX = False
    for name in (*AlipayGateway.required_settings, *WechatGateway.required_settings):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)


def _order_online(client, personas, key, **extra):
    client.force_login(personas["customer"])
    return client.post(
        "/api/v1/payments/",
        {"customer": personas["own_customer"].pk, "amount": "999.00", "method": "online", **extra},
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )


def test_an_online_order_is_refused_with_a_clear_code_and_nothing_is_written(client, personas):
    response = _order_online(client, personas, "free-money-1")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "online_payment_unavailable" and "counter" in error["message"]
    assert Payment.objects.count() == 0 and IdempotentRequest.objects.count() == 0


def test_naming_the_sandbox_is_refused_too(client, personas):
    response = _order_online(client, personas, "free-money-2", gateway="sandbox")
    assert response.status_code == 400 and "gateway" in response.json()["error"]["fields"]
    assert Payment.objects.count() == 0


def test_the_service_refuses_a_sandbox_order(personas):
    with pytest.raises(DomainError) as refused:
        services.create_online_order(personas["own_customer"], "999", personas["customer"], "sandbox")
    assert refused.value.code == "online_payment_unavailable"
    assert Payment.objects.count() == 0


@pytest.fixture
def old_sandbox_order(personas, settings):
    """A sandbox order made while the sandbox was on (a staging database promoted, a setting
    removed): it must not be payable once the sandbox is off."""
    settings.PAYMENTS_SANDBOX = True
    order = services.create_online_order(personas["own_customer"], "999.00", personas["customer"], "sandbox")
    signed = sandbox.SandboxGateway().pay(order)  # the sandbox's books say paid, the callback is lost
    settings.PAYMENTS_SANDBOX = False
    return order, signed


def test_the_sandbox_pay_page_is_gone_and_pays_nothing(client, personas, old_sandbox_order):
    order, _signed = old_sandbox_order
    client.force_login(personas["customer"])
    url = f"/payments/sandbox/{order.order_no}/"
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    order.refresh_from_db()
    assert order.status == PaymentStatus.PENDING
    assert ledger.balance(personas["own_customer"]) == Decimal("0.00")


def test_a_signed_sandbox_notification_settles_nothing(client, personas, old_sandbox_order):
    order, (body, headers) = old_sandbox_order
    response = client.post(
        "/api/v1/payments/callbacks/sandbox/", data=body, content_type="application/json", headers=headers
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "sandbox_disabled"
    with pytest.raises(DomainError):
        sandbox.SandboxGateway().pay(order)
    counts = services.reconcile()
    assert counts["settled"] == 0
    order.refresh_from_db()
    assert order.status == PaymentStatus.PENDING
    assert ledger.balance(personas["own_customer"]) == Decimal("0.00")
    assert SandboxTransaction.objects.count() == 1


def _deploy_warnings() -> set[str]:
    return {message.id for message in run_checks(tags=["security"], include_deployment_checks=True)}


def test_check_deploy_warns_when_the_sandbox_is_on_with_debug_off(settings):
    settings.PAYMENTS_SANDBOX = True
    assert "payments.W001" in _deploy_warnings()
    with pytest.raises(SystemCheckError, match=r"payments\.W001"):
        call_command("check", "--deploy", "--fail-level", "WARNING", "--tag", "security")
    settings.PAYMENTS_SANDBOX = False
    assert "payments.W001" not in _deploy_warnings()
    settings.DEBUG, settings.PAYMENTS_SANDBOX = True, True
    assert "payments.W001" not in _deploy_warnings()


def test_the_openapi_schema_validates_with_no_gateway_offered(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    assert "GatewayEnum" not in text and "enum: []" not in text
