"""The optional Idempotency-Key (gasworks.api.idempotency.run_maybe_once and OPTIONAL_KEY): the
writes that take it say so alike in the schema, and the helper runs the action once per key and
stores nothing without one."""

import pytest
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate

from gasworks.api import idempotency
from gasworks.system.models import IdempotentRequest
from tests.factories import make_user

pytestmark = pytest.mark.django_db

OPTIONAL = {
    ("/api/v1/service-requests/", "post"),
    ("/api/v1/emergencies/", "post"),
    ("/api/v1/customers/{id}/arrangements/", "post"),
}


def _key_parameters(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter["name"] == idempotency.HEADER:
                    yield (path, method), parameter


def test_every_optional_key_is_documented_by_the_one_parameter():
    document = APIClient().get("/api/schema/", {"format": "json"}).json()
    optional = {where: p for where, p in _key_parameters(document) if not p.get("required")}
    assert set(optional) == OPTIONAL
    expected = {
        "in": "header",
        "name": idempotency.HEADER,
        "schema": {"type": "string"},
        "description": idempotency.OPTIONAL_KEY.description,
    }
    for where, parameter in optional.items():
        assert parameter == expected, where


def _request(user, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    raw = APIRequestFactory().post("/x/", {"n": 1}, format="json", **headers)
    force_authenticate(raw, user=user)
    request = Request(raw, parsers=[JSONParser()])
    request.user = user
    return request


def test_without_a_key_it_runs_the_action_every_time_and_stores_nothing():
    user, calls = make_user("dispatcher"), []

    def act():
        calls.append(1)
        return {"n": len(calls)}, 201

    first = idempotency.run_maybe_once("t", _request(user), act)
    second = idempotency.run_maybe_once("t", _request(user), act)
    assert (first.status_code, first.data, second.data) == (201, {"n": 1}, {"n": 2})
    assert "Idempotent-Replayed" not in second
    assert not IdempotentRequest.objects.exists()


def test_with_a_key_it_runs_the_action_once_and_replays_the_answer():
    user, calls = make_user("dispatcher"), []

    def act():
        calls.append(1)
        return {"n": len(calls)}, 201

    first = idempotency.run_maybe_once("t", _request(user, "k"), act)
    again = idempotency.run_maybe_once("t", _request(user, "k"), act)
    assert calls == [1] and first.data == again.data == {"n": 1} and again.status_code == 201
    assert "Idempotent-Replayed" not in first and again["Idempotent-Replayed"] == "true"
    assert IdempotentRequest.objects.filter(scope="t", key="k").count() == 1
