"""Emergency reports sent twice make one report: the API's Idempotency-Key and the page forms'
one-time token."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from gasworks.safety.models import Emergency
from gasworks.safety.services import emergencies
from gasworks.system.models import IdempotentRequest
from tests.factories import make_user
from tests.safety.conftest import form_token

URL = "/api/v1/emergencies/"
BODY = {"address": "望京街道8号院3单元", "description": "楼道燃气味", "priority": "critical"}


def _post(client, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(URL, body, content_type="application/json", **headers)


def test_it_replays_the_first_answer_for_the_same_key_and_body(client, personas):
    client.force_login(personas["dispatcher"])
    first = _post(client, BODY, "call-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    again = _post(client, BODY, "call-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Emergency.objects.count() == 1 and IdempotentRequest.objects.count() == 1


def test_it_answers_409_for_the_same_key_with_another_body_and_writes_nothing(client, personas):
    client.force_login(personas["dispatcher"])
    _post(client, BODY, "call-2")
    other = _post(client, {**BODY, "description": "另一处"}, "call-2")
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert Emergency.objects.count() == 1


def test_it_keeps_keys_per_user(client, personas):
    client.force_login(personas["dispatcher"])
    theirs = _post(client, BODY, "shared").json()
    client.force_login(personas["admin"])
    mine = _post(client, BODY, "shared")
    assert mine.status_code == 201 and mine.json()["id"] != theirs["id"]
    assert Emergency.objects.count() == 2
    # The retry replays this user's own answer, never another user's under the same key.
    again = _post(client, BODY, "shared")
    assert again["Idempotent-Replayed"] == "true" and again.json() == mine.json()
    client.force_login(personas["dispatcher"])
    assert _post(client, BODY, "shared").json() == theirs


def test_the_same_body_with_its_keys_in_another_order_replays(client, personas):
    client.force_login(personas["dispatcher"])
    first = _post(client, BODY, "call-order")
    reordered = dict(reversed(list(BODY.items())))
    assert list(reordered) != list(BODY)
    again = client.post(URL, json.dumps(reordered, ensure_ascii=False), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="call-order")  # fmt: skip
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and Emergency.objects.count() == 1


def test_it_makes_a_new_report_without_a_key(client, personas):
    client.force_login(personas["dispatcher"])
    _post(client, BODY)
    _post(client, BODY)
    assert Emergency.objects.count() == 2 and not IdempotentRequest.objects.exists()


def test_it_refuses_a_bad_key_or_body_and_keeps_nothing(client, personas):
    client.force_login(personas["dispatcher"])
    too_long = _post(client, BODY, "k" * 129)
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "invalid_idempotency_key"
    bad = _post(client, {**BODY, "description": ""}, "call-3")
    assert bad.status_code == 400
    assert not Emergency.objects.exists() and not IdempotentRequest.objects.exists()
    # The refused request stored nothing, so the corrected retry with the same key goes through.
    assert _post(client, BODY, "call-3").status_code == 201


def test_it_replays_for_a_customer_too(client, personas):
    client.force_login(personas["customer"])
    first = _post(client, {"description": "厨房有气味"}, "app-7")
    again = _post(client, {"description": "厨房有气味"}, "app-7")
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert Emergency.objects.get().customer == personas["own_customer"]


@pytest.mark.postgres_only  # threads racing on one key need real row locks
@pytest.mark.django_db(transaction=True)
def test_it_makes_one_report_from_parallel_requests_with_one_key():
    user = make_user("dispatcher")
    answers, barrier = [], threading.Barrier(6)

    def send():
        client = Client()
        client.force_login(user)
        barrier.wait(timeout=30)
        response = _post(client, BODY, "storm")
        answers.append((response.status_code, response.json().get("id")))
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Emergency.objects.count() == 1
    case = Emergency.objects.get()
    assert answers == [(201, case.pk)] * 6


# ---------------------------------------------------------------- page forms


def test_it_records_a_double_submitted_dispatcher_form_once(client, personas):
    client.force_login(personas["dispatcher"])
    token = form_token(client.get("/safety/emergencies/new/"))
    data = {"address": "望京1号", "description": "smell", "priority": "high", "form_token": token}
    first = client.post("/safety/emergencies/new/", data)
    case = Emergency.objects.get()
    assert first.status_code == 302 and first["Location"] == f"/safety/emergencies/{case.pk}/"
    second = client.post("/safety/emergencies/new/", data, follow=True)
    assert Emergency.objects.count() == 1
    assert second.redirect_chain[-1][0] == f"/safety/emergencies/{case.pk}/"
    assert b"already recorded" in second.content
    # A fresh render carries a new token, so the next report is a new one.
    fresh = form_token(client.get("/safety/emergencies/new/"))
    assert fresh != token
    client.post("/safety/emergencies/new/", {**data, "form_token": fresh})
    assert Emergency.objects.count() == 2


def test_it_asks_to_resend_a_form_without_a_token(client, personas):
    client.force_login(personas["dispatcher"])
    data = {"address": "望京1号", "description": "smell", "priority": "high"}
    page = client.post("/safety/emergencies/new/", data)
    assert page.status_code == 200 and b"expired" in page.content and not Emergency.objects.exists()
    # The page came back with a fresh token and the typed values: sending it again works.
    client.post("/safety/emergencies/new/", {**data, "form_token": form_token(page)})
    assert Emergency.objects.count() == 1


def test_it_records_a_double_submitted_portal_report_once(client, personas):
    client.force_login(personas["customer"])
    token = form_token(client.get("/safety/portal/emergency/"))
    for _ in range(2):
        client.post("/safety/portal/emergency/", {"description": "gas smell", "form_token": token})
    assert Emergency.objects.count() == 1


def test_it_does_not_reveal_another_users_report_through_a_token(client, personas):
    client.force_login(personas["dispatcher"])
    token = form_token(client.get("/safety/emergencies/new/"))
    client.post(
        "/safety/emergencies/new/",
        {"address": "x路1号", "description": "smell", "priority": "high", "form_token": token},
    )
    client.force_login(personas["customer"])
    page = client.post("/safety/portal/emergency/", {"description": "gas", "form_token": token})
    assert page.status_code == 200 and b"expired" in page.content and b"x\xe8\xb7\xaf1" not in page.content
    assert Emergency.objects.count() == 1


@pytest.mark.postgres_only  # threads racing on one key need real row locks
@pytest.mark.django_db(transaction=True)
def test_it_makes_one_report_from_parallel_submits_of_one_form():
    user = make_user("dispatcher")
    token = "6f1c1c3e-8a8e-4c55-9d7e-3b1f5f0c2a10"
    outcomes, barrier = [], threading.Barrier(5)

    def submit():
        barrier.wait(timeout=30)
        try:
            emergencies.report(address="a", description="d", priority="high", by=user, form_token=token)
            outcomes.append("made")
        except emergencies.AlreadySubmitted:
            outcomes.append("found")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["found"] * 4 + ["made"]
    assert Emergency.objects.count() == 1
