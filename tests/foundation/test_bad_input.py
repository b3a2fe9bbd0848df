"""Bad input never gets a 500 and never the HTML error page: every refusal under /api/ is the
error envelope {"error": {"code", "message", "fields"}}, whatever the route (all write routes are taken from the OpenAPI schema)."""

import re

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from gasworks.metering import ingest
from tests.metering.helpers import make_meter

pytestmark = pytest.mark.django_db
DEEP = "[" * 50_000


SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
WRITE_ROUTES = [
    (method, re.sub(r"\{[^}]+\}", "1", path))
    for path, operations in SCHEMA["paths"].items()
    for method in ("post", "put", "patch")
    if method in operations
]
# Every route with an id in its path, with each method it answers.
ID_ROUTES = [
    (method, path)
    for path, operations in SCHEMA["paths"].items()
    if re.search(r"\{(id|pk)\}", path)
    for method in ("get", "post", "patch")
    if method in operations
]
LIST_ROUTES = [
    path for path, operations in SCHEMA["paths"].items() if "{" not in path and "get" in operations
]
NOT_IDS = ["abc", "null,null", "99999999999999999999999", "²"]


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


def test_a_deeply_nested_mqtt_payload_is_undecodable_and_dead_lettered():
    from types import SimpleNamespace

    from gasworks.metering import mqtt

    with pytest.raises(mqtt.Undecodable) as info:
        mqtt.decode(SimpleNamespace(topic="gasworks/meters/M1/readings", payload=DEEP.encode()))
    assert info.value.reason == mqtt.DeadLetterReason.UNDECODABLE


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


def test_the_schema_lists_the_id_routes_named_in_the_issue():
    assert ("get", "/api/v1/bills/{id}/pdf/") in ID_ROUTES
    assert ("get", "/api/v1/payments/{id}/receipt/") in ID_ROUTES


@pytest.mark.parametrize("bad", NOT_IDS)
@pytest.mark.parametrize(("method", "path"), ID_ROUTES)
def test_an_id_that_is_not_one_is_a_404_on_every_route(admin_client, method, path, bad):
    url = re.sub(r"\{(id|pk)\}", bad, path).replace("{", "").replace("}", "")
    response = getattr(admin_client, method)(url, {}, content_type="application/json")
    # A write may refuse the empty body (400) before it looks the object up; never a 500.
    assert_envelope(response, 404 if method == "get" else (400, 404, 405))


@pytest.mark.parametrize("path", LIST_ROUTES)
def test_a_customer_filter_that_is_not_an_id_is_never_a_500(admin_client, path):
    for bad in ("99999999999999999999999", "abc", "0"):
        response = admin_client.get(path, {"customer": bad})
        assert response.status_code in (200, 400), (path, bad, response.status_code)
        if response.status_code == 400:
            assert "customer" in assert_envelope(response, 400)["fields"]


@pytest.mark.parametrize(
    "path", ["/api/v1/bills/", "/api/v1/hazards/", "/api/v1/inspections/", "/api/v1/lpg-orders/"]
)
def test_the_customer_filters_refuse_an_id_out_of_range_with_a_400(admin_client, path):
    error = assert_envelope(admin_client.get(path, {"customer": "99999999999999999999999"}), 400)
    assert list(error["fields"]) == ["customer"]
    assert admin_client.get(path, {"customer": "1"}).status_code == 200


def test_the_bill_list_page_ignores_a_customer_filter_that_is_not_an_id(admin_client):
    assert admin_client.get("/billing/bills/", {"customer": "99999999999999999999999"}).status_code == 200


def test_the_pay_page_is_a_404_for_a_bill_that_is_not_an_id(client, personas):
    client.force_login(personas["customer"])
    for bad in ("²", "abc", "99999999999999999999999"):
        assert client.get("/payments/pay/", {"bill": bad}).status_code == 404


@pytest.mark.parametrize("period", ["9999-12", "9999-01", "2999-05"])
def test_a_billing_run_for_a_far_period_is_a_400(admin_client, period):
    response = admin_client.post("/api/v1/billing/runs/", {"period": period}, content_type="application/json")
    assert assert_envelope(response, 400)["code"] == "period_in_future"


def test_no_api_module_uses_djangos_get_object_or_404():
    # Django's lets a non-numeric pk through as a ValueError (a 500); gasworks.api.lookups has DRF's.
    from pathlib import Path

    import gasworks

    root = Path(gasworks.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("api*.py")
        if "from django.shortcuts import" in path.read_text() and "get_object_or_404" in path.read_text()
    ]
    assert offenders == []


def _page_routes_with_ids() -> list[str]:
    """Every page URL pattern (outside /api/ and the Django admin) with an int in its path, the
    ints made too large for any id column and any str made "x"."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found = []

    def walk(patterns, prefix):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                if "<int:" in route and not route.startswith(("api/", "django-admin/")):
                    route = re.sub(r"<int:\w+>", "99999999999999999999999", route)
                    found.append("/" + re.sub(r"<(str|slug|path):\w+>", "x", route))

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


PAGE_ID_ROUTES = _page_routes_with_ids()


def test_there_are_pages_with_ids():
    assert "/billing/runs/99999999999999999999999/" in PAGE_ID_ROUTES


@pytest.mark.parametrize("url", PAGE_ID_ROUTES)
def test_a_page_with_an_id_out_of_range_is_a_404_not_a_500(admin_client, url):
    assert admin_client.get(url).status_code in (404, 405)
