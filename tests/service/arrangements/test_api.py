"""POST/GET /api/v1/customers/{id}/arrangements/ and the cancel: the contract's shape, the
error format, idempotency, roles."""

import pytest

from gasworks.service.arrangements.models import Arrangement, Instalment
from tests.factories import make_customer
from tests.service.arrangements.helpers import in_debt

pytestmark = pytest.mark.django_db
BODY = {"down_payment": "100.00", "instalments": 3, "first_due_on": "2026-12-20"}


def url(customer):
    return f"/api/v1/customers/{customer.pk}/arrangements/"


def post(client, customer, body=BODY, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(url(customer), body, content_type="application/json", headers=headers)


@pytest.fixture
def debtor(frozen):
    customer = make_customer()
    in_debt(customer, "300.00", "200.01")
    return customer


def test_it_makes_one_as_the_contract_says(client, personas, debtor):
    client.force_login(personas["cashier"])
    response = post(client, debtor)
    assert response.status_code == 201
    data = response.json()
    assert data["total"] == "500.01" and data["down_payment"] == "100.00"
    assert [(i["due_on"], i["amount"]) for i in data["instalments"]] == [
        ("2026-12-20", "133.34"),
        ("2027-01-20", "133.34"),
        ("2027-02-20", "133.33"),
    ]
    assert data["id"] == Arrangement.objects.get().pk
    listed = client.get(url(debtor)).json()
    assert [a["id"] for a in listed] == [data["id"]] and listed[0]["status"] == "active"


def test_a_retry_with_the_key_replays_and_another_body_is_409(client, personas, debtor):
    client.force_login(personas["cashier"])
    first = post(client, debtor, key="a-1")
    again = post(client, debtor, key="a-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    other = post(client, debtor, {**BODY, "instalments": 4}, key="a-1")
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert Arrangement.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({**BODY, "instalments": 99}, 400, "invalid_instalments", "instalments"),
        ({**BODY, "first_due_on": "2026-11-01"}, 400, "date_not_in_future", "first_due_on"),
        (
            {"down_payment": "0", "schedule": [{"due_on": "2026-12-01", "amount": "1.00"}]},
            400,
            "schedule_does_not_sum",
            "schedule",
        ),
        (
            {
                "schedule": [
                    {"due_on": "2027-01-01", "amount": "250.00"},
                    {"due_on": "2026-12-01", "amount": "250.01"},
                ]
            },
            400,
            "dates_not_increasing",
            "schedule",
        ),
        ({"down_payment": "100.00", "instalments": 3}, 400, None, "first_due_on"),
        ({**BODY, "down_payment": "x"}, 400, None, "down_payment"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_writes_nothing(client, personas, debtor, body, status, code, field):
    client.force_login(personas["cashier"])
    response = post(client, debtor, body)
    assert response.status_code == status
    error = response.json()["error"]
    if code:
        assert error["code"] == code
    assert field in error["fields"]
    assert Arrangement.objects.count() == 0 and Instalment.objects.count() == 0


def test_a_schedule_that_sums_is_taken(client, personas, debtor):
    client.force_login(personas["manager"])
    body = {
        "schedule": [
            {"due_on": "2026-12-01", "amount": "250.00"},
            {"due_on": "2027-01-01", "amount": "250.01"},
        ]
    }
    response = post(client, debtor, body)
    assert response.status_code == 201 and response.json()["down_payment"] == "0.00"


def test_a_second_one_is_409_and_no_debt_is_409(client, personas, debtor):
    client.force_login(personas["cashier"])
    assert post(client, debtor).status_code == 201
    second = post(client, debtor)
    assert second.status_code == 409 and second.json()["error"]["code"] == "arrangement_exists"
    clean = post(client, make_customer())
    assert clean.status_code == 409 and clean.json()["error"]["code"] == "no_overdue_debt"


def test_roles(client, personas, debtor):
    for role in ("meter_reader", "inspector", "dispatcher", "filler", "customer"):
        client.force_login(personas[role])
        assert post(client, debtor).status_code == 403, role
    client.force_login(personas["meter_reader"])
    assert client.get(url(debtor)).status_code == 403
    client.logout()
    assert post(client, debtor).status_code == 401
    assert Arrangement.objects.count() == 0
    client.force_login(personas["admin"])
    assert client.get("/api/v1/customers/999999/arrangements/").status_code == 404


def test_the_customer_sees_only_its_own(client, personas, frozen):
    own = personas["own_customer"]
    in_debt(own, "300.00")
    client.force_login(personas["cashier"])
    made = post(client, own).json()
    client.force_login(personas["customer"])
    assert [a["id"] for a in client.get(url(own)).json()] == [made["id"]]
    assert client.get(url(personas["other_customer"])).status_code == 403


def test_only_a_manager_or_admin_cancels(client, personas, debtor):
    client.force_login(personas["cashier"])
    made = post(client, debtor).json()
    cancel = f"/api/v1/arrangements/{made['id']}/cancel/"
    assert client.post(cancel).status_code == 403
    client.force_login(personas["manager"])
    response = client.post(cancel)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = client.post(cancel)
    assert again.status_code == 409 and again.json()["error"]["code"] == "arrangement_not_active"
    assert client.post("/api/v1/arrangements/999999/cancel/").status_code == 404
