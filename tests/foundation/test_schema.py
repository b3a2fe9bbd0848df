import json

import jsonschema
import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.factories import make_customer, make_user
from tests.metering.helpers import make_meter


def test_the_openapi_schema_generates_and_validates_without_warnings(tmp_path, db):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in (
        "/api/v1/customers/",
        "/api/v1/readings/",
        "/api/v1/payments/",
        "/api/v1/cylinders/",
        "/api/v1/hazards/",
    ):
        assert path in text


# The schema as served, and what it says about errors (one error envelope for every 4xx; gasworks.api.schema).

WRITES = {"post", "put", "patch", "delete"}


@pytest.fixture
def served(db):
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def _error_ref(operation, code):
    return operation["responses"][str(code)]["content"]["application/json"]["schema"]["$ref"]


def test_every_operation_documents_the_error_envelope_where_its_statuses_can_occur(served):
    checked = 0
    for path, method, operation in _operations(served):
        authenticated = {} not in operation.get("security", [{}])
        expected = set()
        if method in {"post", "put", "patch"}:
            expected.add(400)
        if authenticated:
            expected |= {401, 403}
        if "{" in path and authenticated:
            expected.add(404)
        if method in WRITES and authenticated:
            expected.add(409)
        for code in expected:
            assert _error_ref(operation, code) == "#/components/schemas/Error", (method, path, code)
            checked += 1
    assert checked > 250


def test_views_that_check_their_own_proof_document_what_they_answer(served):
    paths = served["paths"]
    assert set(paths["/api/v1/auth/token/"]["post"]["responses"]) == {"200", "400", "401"}
    assert set(paths["/api/v1/ingest/readings/"]["post"]["responses"]) == {"200", "400", "401", "409"}
    assert set(paths["/api/v1/payments/callbacks/{gateway}/"]["post"]["responses"]) == {"200", "400", "409"}
    assert _error_ref(paths["/api/v1/payments/{id}/receipt/"]["get"], 409) == "#/components/schemas/Error"
    assert "404" in paths["/api/v1/payments/"]["post"]["responses"]  # another customer's account
    assert "404" in paths["/api/v1/customers/"]["get"]["responses"]  # a page past the end
    assert "404" in paths["/api/v1/cylinders/"]["get"]["responses"]


def test_real_error_answers_match_the_documented_envelope(served):
    envelope = {**served["components"]["schemas"]["Error"], "components": served["components"]}
    admin = make_user("admin")
    customer = make_user("customer", customer=make_customer())
    meter = make_meter()  # a diaphragm meter: no device key (409)
    anonymous, as_admin, as_customer = APIClient(), APIClient(), APIClient()
    as_admin.force_authenticate(admin)
    as_customer.force_authenticate(customer)
    answers = {
        400: as_admin.post("/api/v1/customers/", {"name": ""}, format="json"),
        401: anonymous.get("/api/v1/customers/"),
        403: as_customer.get("/api/v1/users/"),
        404: as_admin.get("/api/v1/customers/987654/"),
        409: as_admin.post(f"/api/v1/meters/{meter.pk}/device-key/"),
    }
    for code, response in answers.items():
        assert response.status_code == code
        jsonschema.validate(response.json(), envelope)
    assert answers[400].json()["error"]["fields"]["name"]


@pytest.mark.parametrize(
    ("component", "field"),
    [("Emergency", "crew_name"), ("Inspection", "checklist_version"), ("LpgOrder", "worker")],
)
def test_fields_that_may_be_empty_are_typed_nullable(served, component, field):
    assert served["components"]["schemas"][component]["properties"][field]["nullable"] is True


def _body(operation, code):
    return operation["responses"][code]["content"]["application/json"]["schema"]


def test_answers_are_documented_as_they_are_given(served):
    paths = served["paths"]
    times = _body(paths["/api/v1/emergencies/response-times/"]["get"], "200")
    assert times == {"$ref": "#/components/schemas/ResponseTimes"}
    assert set(served["components"]["schemas"]["ResponseTimes"]["properties"]) == {
        "count",
        "dispatch_mean_min",
        "dispatch_p90_min",
        "arrival_mean_min",
        "arrival_p90_min",
    }
    refunds = _body(paths["/api/v1/payments/{id}/refunds/"]["get"], "200")
    assert refunds == {"type": "array", "items": {"$ref": "#/components/schemas/RefundOut"}}
    assert not {p["name"] for p in paths["/api/v1/payments/{id}/refunds/"]["get"].get("parameters", [])} & {
        "page",
        "page_size",
    }
    for path in ("/api/v1/inspections/{id}/nobody-home/", "/api/v1/hazards/{id}/override/"):
        responses = paths[path]["post"]["responses"]
        assert "201" in responses and "200" not in responses, path
    photos = paths["/api/v1/inspections/{id}/photos/"]["post"]
    assert _body(photos, "201") == {"$ref": "#/components/schemas/Photo"}
    assert "multipart/form-data" in photos["requestBody"]["content"]
    created = served["components"]["schemas"]["PaymentCreated"]
    assert created["required"] == ["id", "status"]
