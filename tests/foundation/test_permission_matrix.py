"""The permission matrix of the API against the pages: every API route (walked from the URL
resolver, so a new one cannot slip past) is paired with the page that does the same thing, and every
staff role must be let through both or neither. A route with no page says why (API_ONLY).

"Let through" is read from the answers: 403 is a refusal; so is a 404 for an object that exists
(a page that scopes what it shows instead of refusing); anything else (200, 302, 400, 404 for an
object that does not exist, 405, 409) means the role got past the permission check. Customers are
left out here: their API answers are scoped to their own data and their pages are the portal's
(tests/*/test_permissions.py)."""

import re

import pytest
import time_machine
from django.urls import URLPattern, URLResolver
from rest_framework.test import APIClient

from gasworks.api import urls as api_urls
from gasworks.billing import runs
from gasworks.billing.models import Bill
from gasworks.payments import services as payment_services
from gasworks.safety.services import hazards
from tests.billing.helpers import beijing, local, read
from tests.cylinders.helpers import loaded

pytestmark = pytest.mark.django_db

STAFF = ["admin", "manager", "cashier", "meter_reader", "inspector", "dispatcher", "filler"]
NONE = 999999  # no such object: a role let through gets 404, one refused 403


class ApiOnly(str):
    """A route without a page, and why."""


# (method, route as the resolver spells it, placeholders as {name}) ->
#     (page method, page path, form data) or ApiOnly(reason).
# Page paths use {own}, {bill}, {payment}, {hazard}, {order} (objects that exist) and {none}.
MATRIX = {
    ("POST", "auth/token/"): ApiOnly("the login page's API twin: anonymous by design"),
    ("POST", "ingest/readings/"): ApiOnly("devices sign their readings; no login"),
    ("POST", "payments/callbacks/{gateway}/"): ApiOnly("gateways sign their notifications; no login"),
    ("GET", "users/"): ("get", "/users/", None),
    ("POST", "users/"): ("get", "/users/new/", None),
    ("GET", "users/{pk}/"): ("get", "/users/{cashier_user}/", None),
    ("GET", "customers/"): ("get", "/customers/", None),
    ("POST", "customers/"): ("get", "/customers/new/", None),
    ("GET", "customers/{pk}/"): ("get", "/customers/{own}/", None),
    ("PATCH", "customers/{pk}/"): ("get", "/customers/{own}/edit/", None),
    ("GET", "customers/{pk}/ledger/"): ("get", "/billing/ledger/{own}/", None),
    ("GET", "customers/{pk}/messages/"): ("get", "/notifications/outbox/", None),
    ("POST", "customers/{pk}/move-out/"): ("get", "/service/moveout/customers/{own}/", None),
    ("POST", "customers/{pk}/transfer/"): ("get", "/service/moveout/customers/{own}/", None),
    ("GET", "customers/{pk}/collection-steps/"): ("get", "/service/collections/", None),
    ("POST", "collections/runs/"): ("post", "/service/collections/run/", {"as_of": "2026-11-20"}),
    ("GET", "customers/{pk}/notification-preferences/"): ("get", "/notifications/outbox/", None),
    ("PATCH", "customers/{pk}/notification-preferences/"): (
        "post",
        "/notifications/customers/{own}/preferences/",
        {"sms": "on", "language": "en"},
    ),
    ("GET", "supply-interruptions/"): ("get", "/notifications/interruptions/", None),
    ("POST", "supply-interruptions/"): ("post", "/notifications/interruptions/new/", {}),
    ("POST", "supply-interruptions/{pk}/cancel/"): (
        "post",
        "/notifications/interruptions/{none}/cancel/",
        None,
    ),
    # Each report's API and page are checked role by role in tests/reports/test_access.py.
    ("GET", "reports/{name}/"): ("get", "/reports/{none}/", None),
    ("GET", "reports/exports/{pk}/"): ("get", "/reports/exports/{none}/", None),
    ("GET", "reports/exports/{pk}/file/"): ("get", "/reports/exports/{none}/download/", None),
    ("GET", "meters/"): ("get", "/metering/meters/", None),
    ("POST", "meters/"): ("get", "/metering/meters/new/", None),
    ("GET", "meters/{pk}/"): ("get", "/metering/meters/{none}/", None),
    ("POST", "meters/{pk}/device-key/"): ("post", "/metering/meters/{none}/device-key/", {}),
    ("GET", "meters/{pk}/readings/"): ("get", "/metering/meters/{none}/", None),
    ("POST", "readings/"): ("get", "/metering/readings/new/", None),
    ("GET", "readings/{pk}/"): ("get", "/metering/meters/{none}/", None),
    ("POST", "readings/{pk}/approve/"): ("post", "/metering/review/{none}/approve/", {}),
    ("POST", "readings/{pk}/correct/"): ("post", "/metering/review/{none}/correct/", {}),
    ("POST", "readings/{pk}/reject/"): ("post", "/metering/review/{none}/reject/", {}),
    ("GET", "tariffs/"): ("get", "/billing/tariffs/", None),
    ("POST", "tariffs/"): ("get", "/billing/tariffs/new/", None),
    ("GET", "tariffs/{pk}/"): ("get", "/billing/tariffs/", None),
    ("GET", "billing/runs/"): ("get", "/billing/runs/", None),
    ("POST", "billing/runs/"): ("post", "/billing/runs/", {}),
    ("GET", "billing/runs/{pk}/"): ("get", "/billing/runs/{none}/", None),
    ("GET", "bills/"): ("get", "/billing/bills/", None),
    ("GET", "bills/{pk}/"): ("get", "/billing/bills/{bill}/", None),
    ("GET", "bills/{pk}/pdf/"): ("get", "/billing/bills/{bill}/pdf/", None),
    ("GET", "payments/"): ("get", "/payments/all/", None),
    ("POST", "payments/"): ("get", "/payments/counter/", None),
    ("GET", "payments/{pk}/"): ("get", "/payments/{payment}/", None),
    ("GET", "payments/{pk}/receipt/"): ("get", "/payments/{payment}/receipt.pdf", None),
    ("POST", "payments/{pk}/refund/"): ("get", "/payments/{payment}/refund/", None),
    ("GET", "payments/{pk}/refunds/"): ("get", "/payments/{payment}/", None),
    ("GET", "cylinders/"): ("get", "/cylinders/", None),
    ("POST", "cylinders/"): ("get", "/cylinders/new/", None),
    ("GET", "cylinders/{code}/"): ("get", "/cylinders/c/NOSUCH/", None),
    ("POST", "cylinders/{code}/fillings/"): ("get", "/cylinders/fill/", None),
    ("GET", "lpg-orders/"): ("get", "/cylinders/orders/", None),
    ("POST", "lpg-orders/"): ("get", "/cylinders/orders/new/", None),
    ("GET", "lpg-orders/{pk}/"): ("get", "/cylinders/orders/{order}/", None),
    ("POST", "lpg-orders/{pk}/assign/"): ("post", "/cylinders/orders/{order}/", {"step": "assign"}),
    ("POST", "lpg-orders/{pk}/load/"): ("post", "/cylinders/orders/{order}/", {"step": "load"}),
    ("POST", "lpg-orders/{pk}/deliver/"): ("post", "/cylinders/orders/{order}/", {"step": "deliver"}),
    ("POST", "lpg-orders/{pk}/cancel/"): ("post", "/cylinders/orders/{order}/", {"step": "nothing"}),
    ("GET", "lpg-returns/"): ("get", "/cylinders/customers/{own}/return/", None),
    ("POST", "lpg-returns/"): ("get", "/cylinders/customers/{own}/return/", None),
    ("GET", "lpg-returns/{pk}/"): ("get", "/cylinders/customers/{own}/return/", None),
    ("GET", "inspections/"): ("get", "/safety/inspections/", None),
    ("POST", "inspections/"): ("get", "/safety/inspections/new/", None),
    ("GET", "inspections/{pk}/"): ("get", "/safety/inspections/{none}/", None),
    ("POST", "inspections/{pk}/start/"): ("post", "/safety/inspections/{none}/start/", {}),
    ("POST", "inspections/{pk}/assign/"): ("post", "/safety/inspections/{none}/assign/", {}),
    ("POST", "inspections/{pk}/appointment/"): ("post", "/safety/inspections/{none}/appointment/", {}),
    ("POST", "inspections/{pk}/cancel/"): ("post", "/safety/inspections/{none}/cancel/", {}),
    ("POST", "inspections/{pk}/complete/"): ("post", "/safety/inspections/{none}/complete/", {}),
    ("POST", "inspections/{pk}/nobody-home/"): ("post", "/safety/inspections/{none}/nobody-home/", {}),
    ("POST", "inspections/{pk}/photos/"): ("post", "/safety/inspections/{none}/complete/", {}),
    ("GET", "hazards/"): ("get", "/safety/hazards/", None),
    ("POST", "hazards/"): ("get", "/safety/hazards/new/", None),
    ("GET", "hazards/{pk}/"): ("get", "/safety/hazards/{hazard}/", None),
    ("GET", "hazards/{pk}/notice/"): ("get", "/safety/hazards/{hazard}/notice.pdf", None),
    ("POST", "hazards/{pk}/rectify/"): ("post", "/safety/hazards/{none}/rectify/", {}),
    ("POST", "hazards/{pk}/close/"): ("post", "/safety/hazards/{none}/close/", {}),
    ("POST", "hazards/{pk}/reopen/"): ("post", "/safety/hazards/{none}/reopen/", {}),
    ("POST", "hazards/{pk}/override/"): ("post", "/safety/hazards/{none}/override/", {}),
    ("GET", "emergencies/"): ("get", "/safety/emergencies/", None),
    ("POST", "emergencies/"): ("get", "/safety/emergencies/new/", None),
    ("GET", "emergencies/response-times/"): ("get", "/safety/emergencies/", None),
    ("GET", "emergencies/{pk}/"): ("get", "/safety/emergencies/{none}/", None),
    ("POST", "emergencies/{pk}/dispatch/"): ("post", "/safety/emergencies/{none}/dispatch/", {}),
    ("POST", "emergencies/{pk}/arrive/"): ("post", "/safety/emergencies/{none}/arrive/", {}),
    ("POST", "emergencies/{pk}/resolve/"): ("post", "/safety/emergencies/{none}/resolve/", {}),
    ("POST", "emergencies/{pk}/cancel/"): ("post", "/safety/emergencies/{none}/cancel/", {}),
    ("GET", "service-requests/"): ("get", "/service/requests/", None),
    ("POST", "service-requests/"): ("get", "/service/requests/new/?customer={own}", None),
    ("GET", "service-requests/{pk}/"): ("get", "/service/requests/{none}/", None),
    ("POST", "service-requests/{pk}/assign/"): ("post", "/service/requests/{none}/assign/", {}),
    ("POST", "service-requests/{pk}/start/"): ("post", "/service/requests/{none}/start/", {}),
    ("POST", "service-requests/{pk}/complete/"): ("post", "/service/requests/{none}/complete/", {}),
    ("POST", "service-requests/{pk}/cancel/"): ("post", "/service/requests/{none}/cancel/", {}),
    ("GET", "customers/{pk}/arrangements/"): ("get", "/service/customers/{none}/arrangement/", None),
    ("POST", "customers/{pk}/arrangements/"): ("post", "/service/customers/{none}/arrangement/", {}),
    ("POST", "arrangements/{pk}/cancel/"): ("post", "/service/arrangements/{none}/cancel/", {}),
}

# (method, route) -> {role: why}: a role that may read through the API what its page twin only
# lets it act on. The manager reads every record but takes no cylinders back: it sees returns in
# the customer page's LPG panel (shown with cylinders.view_cylinderreturn).
EXCUSED = {
    ("GET", "lpg-returns/"): {"manager": "reads returns; the page twin is the take-back form"},
    ("GET", "lpg-returns/{pk}/"): {"manager": "reads returns; the page twin is the take-back form"},
}


def _readable(pattern: str) -> str:
    pattern = pattern.lstrip("^").rstrip("$")
    pattern = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)


def api_routes() -> set[tuple[str, str]]:
    """Every (method, route) the API answers, as its URL patterns and views declare them."""

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, prefix + _readable(str(entry.pattern)))
            elif isinstance(entry, URLPattern):
                yield prefix + _readable(str(entry.pattern)), entry.callback

    found = set()
    for route, callback in walk(api_urls.urlpatterns):
        view = callback.cls
        allowed = {m.upper() for m in view.http_method_names} - {"HEAD", "OPTIONS"}
        actions = getattr(callback, "actions", None)
        methods = (
            {m.upper() for m in actions}
            if actions
            else {m.upper() for m in allowed if hasattr(view, m.lower())}
        )
        found |= {(method, route) for method in methods & allowed}
    return found


def test_every_api_route_is_in_the_matrix():
    routes = api_routes()
    assert routes - set(MATRIX) == set(), "API routes without a page (or an ApiOnly reason) in MATRIX"
    assert set(MATRIX) - routes == set(), "MATRIX rows for routes the API no longer has"


def _bill(personas) -> int:
    own = personas["own_customer"]
    beijing()
    read(own, 10, local(2026, 10, 3))
    with time_machine.travel(local(2026, 11, 1), tick=False):
        runs.execute(runs.start_run("2026-10"))
    return Bill.objects.get(customer=own).pk


# The objects a page path may name, each made only when a path names it.
MAKERS = {
    "own": lambda personas: personas["own_customer"].pk,
    "cashier_user": lambda personas: personas["cashier"].pk,
    "bill": _bill,
    "payment": lambda personas: (
        payment_services.take_counter_payment(
            personas["own_customer"], "10.00", "cash", personas["cashier"]
        ).pk
    ),
    "hazard": lambda personas: hazards.raise_hazard(personas["own_customer"], "key", "hose", by=None).pk,
    "order": lambda personas: loaded(personas["own_customer"])[0].pk,
}


def _let_through(response, path_has_real_object: bool) -> bool:
    if response.status_code == 403:
        return False
    return not (response.status_code == 404 and path_has_real_object)


def _api_path(route: str) -> str:
    return "/api/v1/" + re.sub(r"\{\w+\}", str(NONE), route)


@pytest.mark.parametrize(
    ("method", "route"), [key for key, page in MATRIX.items() if not isinstance(page, ApiOnly)]
)
def test_the_api_demands_what_its_page_demands(client, personas, method, route):
    page_method, page_template, data = MATRIX[(method, route)]
    named = [name for name in MAKERS if f"{{{name}}}" in page_template]
    page_path = page_template.format(none=NONE, **{name: MAKERS[name](personas) for name in named})
    real = bool(named)  # a 404 for an object that exists is a refusal
    mismatched = []
    for role in STAFF:
        if role in EXCUSED.get((method, route), {}):
            continue
        client.force_login(personas[role])
        page = getattr(client, page_method)(page_path, data or {})
        api = APIClient()
        api.force_authenticate(personas[role])
        answer = getattr(api, method.lower())(_api_path(route), {}, format="json")
        on_page, on_api = _let_through(page, real), _let_through(answer, False)
        if on_page != on_api:
            mismatched.append(f"{role}: page {page.status_code}, API {answer.status_code}")
    assert not mismatched, f"{method} /api/v1/{route} vs {page_method.upper()} {page_path}: {mismatched}"


def test_the_ledger_page_lists_the_entries_newest_first(client, personas):
    own = personas["own_customer"]
    for amount in ("10.00", "25.50"):
        payment_services.take_counter_payment(own, amount, "cash", personas["cashier"])
    client.force_login(personas["cashier"])
    page = client.get(f"/billing/ledger/{own.pk}/").content.decode()
    assert page.index("¥25.50") < page.index("¥10.00") and "¥35.50" in page
    assert f'href="/billing/ledger/{own.pk}/"' in client.get(f"/customers/{own.pk}/").content.decode()
    client.force_login(personas["filler"])
    assert f"/billing/ledger/{own.pk}/" not in client.get(f"/customers/{own.pk}/").content.decode()
