"""POST /api/v1/customers/{id}/move-out/ and /transfer/: idempotent, clear 4xx, nothing written."""

from decimal import Decimal

import pytest
import time_machine
from rest_framework.test import APIClient

from gasworks.billing.models import Bill
from gasworks.customers.models import Status
from gasworks.service.moveout.models import MoveOut
from tests.moveout.helpers import MOVE_DAY, billed_account

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _move_day():
    with time_machine.travel(MOVE_DAY, tick=False):
        yield


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _post(client, customer, body, verb="move-out", key="k1", query=""):
    return client.post(
        f"/api/v1/customers/{customer.pk}/{verb}/{query}", body, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def test_a_transfer_answers_the_final_bill_and_the_settlement(personas):
    customer, meter = billed_account()
    body = {
        "readings": [{"meter": meter.serial_no, "value": "1400"}],
        "settlement": "carry",
        "consent_by": "张三",
        "new_holder": {"name": "新户主", "phone": "13600000000", "household_size": 2},
    }
    response = _post(_api(personas["cashier"]), customer, body, verb="transfer", query="?request=12")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["final_bill"]["total"] == "272.00" and data["final_bill"]["volume"] == "100.000"
    assert [line["amount"] for line in data["final_bill"]["lines"]] == ["130.50", "141.50"]
    assert data["settlement"]["how"] == "carry" and data["settlement"]["balance"] == "-1055.00"
    assert data["request"] == 12 and data["new_customer"]
    again = _post(_api(personas["cashier"]), customer, body, verb="transfer", query="?request=12")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == data and MoveOut.objects.count() == 1


def test_no_final_reading_is_a_400_and_writes_nothing(personas):
    customer, _meter = billed_account()
    response = _post(_api(personas["cashier"]), customer, {"readings": [], "settlement": "keep"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "final_reading_required"
    customer.refresh_from_db()
    assert customer.status == Status.ACTIVE and not Bill.objects.filter(period="2026-11").exists()


def test_a_transfer_without_a_new_holder_is_a_400(personas):
    customer, meter = billed_account()
    body = {"readings": [{"meter": meter.serial_no, "value": "1400"}], "settlement": "keep"}
    response = _post(_api(personas["cashier"]), customer, body, verb="transfer")
    assert response.status_code == 400 and "new_holder" in response.json()["error"]["fields"]


def test_a_second_move_out_is_a_409(personas):
    customer, meter = billed_account()
    body = {"readings": [{"meter": meter.serial_no, "value": "1400"}], "settlement": "keep"}
    assert _post(_api(personas["cashier"]), customer, body).status_code == 201
    response = _post(_api(personas["cashier"]), customer, body, key="k2")
    assert response.status_code == 409 and response.json()["error"]["code"] == "account_closed"
    assert Bill.objects.filter(customer=customer, period="2026-11").count() == 1


@pytest.mark.parametrize("role", ["meter_reader", "manager", "customer"])
def test_other_roles_may_not_move_an_account_out(personas, role):
    customer, meter = billed_account()
    body = {"readings": [{"meter": meter.serial_no, "value": "1400"}], "settlement": "keep"}
    assert _post(_api(personas[role]), customer, body).status_code == 403
    assert customer.bills.count() == 1


def test_an_unknown_account_is_a_404(personas):
    response = _api(personas["cashier"]).post(
        "/api/v1/customers/999999/move-out/", {}, format="json", HTTP_IDEMPOTENCY_KEY="x"
    )
    assert response.status_code == 404


def test_a_debt_kept_on_the_old_account(personas):
    customer, meter = billed_account()
    body = {"readings": [{"meter": meter.serial_no, "value": "1400"}], "settlement": "keep"}
    data = _post(_api(personas["admin"]), customer, body).json()
    assert data["settlement"] == {
        "how": "keep",
        "balance": "-1055.00",
        "amount": "0.00",
        "consent_by": "",
        "consented_at": None,
        "refunds": [],
    }
    assert customer.account.balance == Decimal("-1055.00")
