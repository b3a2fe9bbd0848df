"""The permission matrix: every foundation page and API route × every role."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ROLES = ["admin", "manager", "cashier", "meter_reader", "inspector", "dispatcher", "filler", "customer"]
STAFF_VIEWERS = {"admin", "manager", "cashier", "meter_reader", "inspector", "dispatcher", "filler"}

# path template -> roles that get 200 (everyone else: 403; anonymous: redirect to login)
PAGES = {
    "/customers/": STAFF_VIEWERS,
    "/customers/{own}/": STAFF_VIEWERS,
    "/customers/new/": {"admin", "cashier"},
    "/customers/{own}/edit/": {"admin", "cashier"},
    "/service/moveout/customers/{own}/": {"admin", "cashier"},  # where /customers/{own}/transfer/ leads
    "/customers/{own}/suspend/": {"admin"},
    "/customers/{own}/close/": {"admin"},
    "/users/": {"admin"},
    "/users/new/": {"admin"},
    "/users/{cashier_user}/": {"admin"},
    "/system/parameters/": {"admin"},
    "/system/audit/": {"admin", "manager"},  # the manager reads everything but users and parameters
    "/accounts/profile/": set(ROLES),
    "/accounts/password_change/": set(ROLES),
}


def _path(template, personas):
    return template.format(own=personas["own_customer"].pk, cashier_user=personas["cashier"].pk)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("template", list(PAGES))
def test_page_permissions(client, personas, role, template):
    client.force_login(personas[role])
    response = client.get(_path(template, personas))
    expected = 200 if role in PAGES[template] else 403
    assert response.status_code == expected, f"{role} {template}"


@pytest.mark.parametrize("template", [*PAGES, "/", "/portal/"])
def test_anonymous_users_are_sent_to_the_login_page(client, personas, template):
    response = client.get(_path(template, personas))
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_home_sends_customers_to_their_portal_and_staff_to_the_dashboard(client, personas):
    client.force_login(personas["customer"])
    assert client.get("/").url == "/portal/"
    assert client.get("/portal/").status_code == 200
    client.force_login(personas["cashier"])
    assert client.get("/").status_code == 200
    assert client.get("/portal/").url == "/"


def test_a_customer_cannot_open_another_customers_page(client, personas):
    client.force_login(personas["customer"])
    assert client.get(f"/customers/{personas['other_customer'].pk}/").status_code == 403


# (method, path template) -> roles allowed. Allowed roles get past permissions (200/201/400);
# the rest get 403. POSTs send an empty body, so an allowed role gets a 400 and nothing is written.
API = {
    ("get", "/api/v1/customers/"): set(ROLES),
    ("get", "/api/v1/customers/{own}/"): set(ROLES),
    ("get", "/api/v1/customers/{own}/ledger/"): {"admin", "manager", "cashier", "customer"},
    ("post", "/api/v1/customers/"): {"admin", "cashier"},
    ("patch", "/api/v1/customers/{own}/"): {"admin", "cashier"},
    ("get", "/api/v1/users/"): {"admin"},
    ("post", "/api/v1/users/"): {"admin"},
    ("get", "/api/v1/users/{cashier_user}/"): {"admin"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "template"), list(API))
def test_api_permissions(personas, role, method, template):
    client = APIClient()
    client.force_authenticate(personas[role])
    path = _path(template, personas)
    payload = {"household_size": 0} if method == "patch" else {}
    response = getattr(client, method)(path, payload, format="json")
    if role in API[(method, template)]:
        assert response.status_code in (200, 400), f"{role} {method} {path}: {response.status_code}"
    else:
        assert response.status_code == 403, f"{role} {method} {path}: {response.status_code}"
        assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize(("method", "template"), list(API))
def test_api_needs_credentials(personas, method, template):
    response = getattr(APIClient(), method)(_path(template, personas), {}, format="json")
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/customers/{other}/", "/api/v1/customers/{other}/ledger/"])
def test_a_customer_asking_for_another_customer_gets_404(personas, path):
    client = APIClient()
    client.force_authenticate(personas["customer"])
    response = client.get(path.format(other=personas["other_customer"].pk))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
