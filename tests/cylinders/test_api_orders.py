"""API of LPG orders and delivery, and of cylinders returned for good."""

from decimal import Decimal

import pytest

from gasworks.billing import ledger
from gasworks.billing.models import LedgerEntry
from gasworks.cylinders.models import Cylinder, CylinderReturn, LpgOrder, ResidualWeighing
from tests.cylinders.helpers import delivered, ensure_price, make_full

pytestmark = pytest.mark.django_db
J = "application/json"


@pytest.fixture
def dispatcher(client, personas):
    client.force_login(personas["dispatcher"])
    ensure_price()
    return client


def _post(client, url, body=None, **headers):
    return client.post(url, body or {}, content_type=J, **headers)


def test_it_runs_an_order_from_phone_call_to_delivery(dispatcher, personas):
    customer = personas["other_customer"]
    _first, (old,) = delivered(customer, 1)
    created = _post(
        dispatcher, "/api/v1/lpg-orders/", {"customer": customer.pk, "model": "YSP35.5", "quantity": 2}
    )
    assert created.status_code == 201, created.json()
    order = created.json()
    assert (order["status"], order["channel"], order["customer"], order["lines"]) == (
        "placed",
        "phone",
        customer.pk,
        [],
    )
    url = f"/api/v1/lpg-orders/{order['id']}/"
    worker = personas["dispatcher"]
    assigned = _post(dispatcher, url + "assign/", {"worker": worker.pk, "vehicle": "京A1"})
    assert (assigned.status_code, assigned.json()["worker"]) == (200, worker.username)
    fulls = [make_full(), make_full()]
    loaded = _post(dispatcher, url + "load/", {"out_codes": [c.code.lower() for c in fulls]})
    assert loaded.status_code == 200 and loaded.json()["status"] == "out"
    done = _post(dispatcher, url + "deliver/", {"empties_back": [{"code": old.code, "gross_kg": "15.750"}]})
    assert done.status_code == 200, done.json()
    body = done.json()
    assert (body["status"], body["amount"], body["deposit_amount"]) == ("delivered", "220.00", "100.00")
    assert (body["empties_returned"], body["deposits_taken"]) == (1, 1)
    back = [line for line in body["lines"] if line["direction"] == "back"]
    assert back == [
        {"cylinder": old.code, "direction": "back", "net_kg": None, "residual_kg": "0.750", "amount": None}
    ]
    assert ResidualWeighing.objects.get().used_kg == Decimal("13.250")
    balance = ledger.balance(customer)
    # A repeated deliver is a clear 409 and no second charge.
    again = _post(dispatcher, url + "deliver/", {})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_delivered"
    assert ledger.balance(customer) == balance
    assert dispatcher.get(url).json() == body


def test_it_lets_a_customer_order_and_see_only_its_own(client, personas):
    other = LpgOrder.objects.create(
        customer=personas["other_customer"],
        model="YSP12",
        quantity=1,
        channel="phone",
        created_at="2026-01-01T08:00Z",
    )
    client.force_login(personas["customer"])
    made = _post(client, "/api/v1/lpg-orders/", {"model": "YSP35.5", "quantity": 1, "note": "后门"})
    assert made.status_code == 201
    assert (made.json()["customer"], made.json()["channel"]) == (personas["own_customer"].pk, "portal")
    listed = client.get("/api/v1/lpg-orders/").json()
    assert [o["id"] for o in listed["results"]] == [made.json()["id"]]
    assert client.get(f"/api/v1/lpg-orders/{other.pk}/").status_code == 404
    assert client.get(f"/api/v1/lpg-orders/?customer={other.customer_id}").json()["count"] == 0
    # Ordering for someone else reads like an unknown customer, and writes nothing.
    refused = _post(
        client, "/api/v1/lpg-orders/", {"customer": other.customer_id, "model": "YSP12", "quantity": 1}
    )
    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["customer"]
    assert LpgOrder.objects.count() == 2
    # The dispatcher's steps are not the customer's.
    mine = made.json()["id"]
    assert _post(client, f"/api/v1/lpg-orders/{mine}/cancel/").status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"model": "YSP35.5", "quantity": 1},  # staff must name the customer
        {"customer": 999999, "model": "YSP35.5", "quantity": 1},
        {"customer": "{c}", "model": "YSP99", "quantity": 1},
        {"customer": "{c}", "model": "YSP35.5", "quantity": 0},
        {"customer": "{c}", "model": "YSP35.5", "quantity": 21},
        {"customer": "{c}", "model": "YSP35.5", "quantity": "x"},
    ],
)
def test_it_answers_400_to_a_bad_order_and_writes_nothing(dispatcher, personas, body):
    body = {k: personas["other_customer"].pk if v == "{c}" else v for k, v in body.items()}
    response = _post(dispatcher, "/api/v1/lpg-orders/", body)
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert not LpgOrder.objects.exists()


def test_it_answers_steps_out_of_order_and_bad_scans_clearly(dispatcher, personas):
    order = _post(
        dispatcher,
        "/api/v1/lpg-orders/",
        {"customer": personas["other_customer"].pk, "model": "YSP35.5", "quantity": 1},
    ).json()
    url = f"/api/v1/lpg-orders/{order['id']}/"
    early = _post(dispatcher, url + "deliver/", {})
    assert (early.status_code, early.json()["error"]["code"]) == (409, "illegal_transition")
    customer_user = personas["customer"]
    bad_worker = _post(dispatcher, url + "assign/", {"worker": customer_user.pk, "vehicle": "京A1"})
    assert bad_worker.status_code == 400 and "worker" in bad_worker.json()["error"]["fields"]
    _post(dispatcher, url + "assign/", {"worker": personas["filler"].pk, "vehicle": "京A1"})
    fulls = [make_full(), make_full()]
    wrong_count = _post(dispatcher, url + "load/", {"out_codes": [c.code for c in fulls]})
    assert (wrong_count.status_code, wrong_count.json()["error"]["code"]) == (400, "wrong_count")
    assert _post(dispatcher, url + "load/", {"out_codes": []}).status_code == 400
    assert {c.status for c in Cylinder.objects.all()} == {"full_in_station"}
    cancelled = _post(dispatcher, url + "cancel/")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert _post(dispatcher, url + "cancel/").status_code == 409
    assert dispatcher.get("/api/v1/lpg-orders/999999/").status_code == 404


def test_it_refuses_an_impossible_residual_weight_with_400(dispatcher, personas):
    customer = personas["other_customer"]
    _first, (old,) = delivered(customer, 1)
    order = _post(
        dispatcher, "/api/v1/lpg-orders/", {"customer": customer.pk, "model": "YSP35.5", "quantity": 1}
    ).json()
    url = f"/api/v1/lpg-orders/{order['id']}/"
    _post(dispatcher, url + "assign/", {"worker": personas["dispatcher"].pk, "vehicle": "京A1"})
    _post(dispatcher, url + "load/", {"out_codes": [make_full().code]})
    entries = LedgerEntry.objects.count()
    for gross in ("14", "30", "-1", "abc"):
        response = _post(
            dispatcher, url + "deliver/", {"empties_back": [{"code": old.code, "gross_kg": gross}]}
        )
        assert response.status_code == 400, (gross, response.json())
    assert LedgerEntry.objects.count() == entries
    assert not ResidualWeighing.objects.exists()
    assert dispatcher.get(url).json()["status"] == "out"


def test_it_takes_cylinders_back_for_good_through_the_api(client, personas):
    customer = personas["own_customer"]
    _o, fulls = delivered(customer, 2)
    client.force_login(personas["cashier"])
    body = {
        "customer": customer.pk,
        "cylinders": [{"code": fulls[0].code}, {"code": fulls[1].code, "gross_kg": "15.1"}],
    }
    missing_key = _post(client, "/api/v1/lpg-returns/", body)
    assert (missing_key.status_code, missing_key.json()["error"]["code"]) == (400, "idempotency_key_required")
    assert not CylinderReturn.objects.exists()
    first = _post(client, "/api/v1/lpg-returns/", body, HTTP_IDEMPOTENCY_KEY="r-1")
    assert first.status_code == 201, first.json()
    answer = first.json()
    assert (answer["amount"], answer["deposits_refunded"]) == ("200.00", 2)
    assert sorted(answer["cylinders"]) == sorted(c.code for c in fulls)
    entry = LedgerEntry.objects.get(pk=answer["ledger_entry"])
    assert (entry.kind, entry.amount) == ("deposit", Decimal("200.00"))
    replay = _post(client, "/api/v1/lpg-returns/", body, HTTP_IDEMPOTENCY_KEY="r-1")
    assert (replay.status_code, replay.json()) == (201, answer)
    other_body = {"customer": customer.pk, "cylinders": [{"code": fulls[0].code}]}
    reused = _post(client, "/api/v1/lpg-returns/", other_body, HTTP_IDEMPOTENCY_KEY="r-1")
    assert (reused.status_code, reused.json()["error"]["code"]) == (409, "idempotency_key_reused")
    again = _post(client, "/api/v1/lpg-returns/", other_body, HTTP_IDEMPOTENCY_KEY="r-2")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "not_at_customer")
    assert LedgerEntry.objects.filter(kind="deposit", amount__gt=0).count() == 1
    bad = _post(
        client, "/api/v1/lpg-returns/", {"customer": customer.pk, "cylinders": []}, HTTP_IDEMPOTENCY_KEY="r-3"
    )
    assert bad.status_code == 400
    # The customer sees its own return; a stranger's is 404 to it.
    _o, (stranger_cyl,) = delivered(personas["other_customer"], 1)
    theirs = _post(
        client,
        "/api/v1/lpg-returns/",
        {"customer": personas["other_customer"].pk, "cylinders": [{"code": stranger_cyl.code}]},
        HTTP_IDEMPOTENCY_KEY="r-4",
    ).json()
    client.force_login(personas["customer"])
    assert [r["id"] for r in client.get("/api/v1/lpg-returns/").json()["results"]] == [answer["id"]]
    assert client.get(f"/api/v1/lpg-returns/{theirs['id']}/").status_code == 404
    assert _post(client, "/api/v1/lpg-returns/", body, HTTP_IDEMPOTENCY_KEY="r-9").status_code == 403


def test_the_schema_documents_the_order_and_return_routes(db, tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in (
        "lpg-orders/",
        "lpg-orders/{id}/",
        "assign/",
        "load/",
        "deliver/",
        "cancel/",
        "lpg-returns/",
    ):
        assert f"/api/v1/{path}" in text or f"/api/v1/lpg-orders/{{id}}/{path}" in text
    assert "Idempotency-Key" in text and "LpgDeliver" in text
