"""Bad input never gets a 500 and never the HTML error page: every refusal under /api/ is the
api.md envelope, whatever the route (all write routes are taken from the OpenAPI schema)."""

import re

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from gasworks.metering import ingest
from tests.metering.helpers import make_meter

pytestmark = pytest.mark.django_db
DEEP = "[" * 50_000


def _write_routes() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    routes = []
    for path, operations in schema["paths"].items():
        for method in ("post", "put", "patch"):
            if method in operations:
                routes.append((method, re.sub(r"\{[^}]+\}", "1", path)))
    return routes


WRITE_ROUTES = _write_routes()


def assert_envelope(response, status: int | tuple[int, ...]):
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response.content[:300]
    error = response.json()["error"]
    assert error["code"] and error["message"] and isinstance(error["fields"], dict)
    return error


def test_the_schema_lists_the_routes_named_in_the_issue():
    assert ("post", "/api/v1/auth/token/") in WRITE_ROUTES
    assert ("post", "/api/v1/ingest/readings/") in WRITE_ROUTES
    assert len(WRITE_ROUTES) > 30


@pytest.mark.parametrize(("method", "path"), WRITE_ROUTES)
def test_a_deeply_nested_body_is_never_a_500(admin_client, method, path):
    response = getattr(admin_client, method)(path, DEEP, content_type="application/json")
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if path.startswith("/api/"):
        assert_envelope(response, response.status_code)


def test_a_deeply_nested_body_is_a_400_parse_error_for_anonymous_callers():
    response = Client().post("/api/v1/auth/token/", DEEP, content_type="application/json")
    assert assert_envelope(response, 400)["code"] == "parse_error"


def test_a_deeply_nested_signed_ingest_body_is_a_400():
    meter = make_meter(kind="smart")
    key = ingest.issue_key(meter)
    body = DEEP.encode()
    response = Client().post(
        "/api/v1/ingest/readings/",
        body,
        content_type="application/json",
        HTTP_X_DEVICE=meter.serial_no,
        HTTP_X_SIGNATURE=ingest.sign(key, body),
    )
    assert assert_envelope(response, 400)["code"] == "invalid"


def test_a_deeply_nested_mqtt_payload_is_refused_like_a_bad_signature():
    from types import SimpleNamespace

    from gasworks.metering import mqtt

    message = mqtt.decode(SimpleNamespace(topic="gasworks/meters/M1/readings", payload=DEEP.encode()))
    assert message.body == b"" and message.signature == ""


@pytest.mark.parametrize("path", ["/api/v1/customers/", "/api/v1/auth/token/", "/api/v1/ingest/readings/"])
def test_a_body_over_the_size_limit_is_a_413_in_the_envelope(admin_client, settings, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"name": "' + "a" * 2000 + '"}'
    response = admin_client.post(path, body, content_type="application/json", HTTP_X_DEVICE="x")
    error = assert_envelope(response, 413)
    assert error["code"] == "too_large" and "1000" in error["message"]


def test_a_refusal_before_any_api_view_is_the_envelope_too(admin_client):
    # A host not allowed is refused by Django's middleware (SuspiciousOperation → handler400).
    response = admin_client.get("/api/v1/customers/", HTTP_HOST="evil.example")
    assert assert_envelope(response, 400)["code"] == "invalid"
    page = admin_client.get("/billing/tariffs/", HTTP_HOST="evil.example")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")


def test_pages_keep_the_html_error_pages(admin_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = admin_client.post("/billing/tariffs/new/", {"name": "a" * 2000})
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    assert admin_client.get("/no-such-page/")["Content-Type"].startswith("text/html")


def test_an_unknown_api_route_is_a_404_in_the_envelope(admin_client):
    assert assert_envelope(admin_client.get("/api/v1/no-such-thing/"), 404)["code"] == "not_found"
