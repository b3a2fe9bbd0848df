"""Every role against every payments route: 200 (or the page's redirect), 403 or 404."""

import pytest

from gasworks.payments import cards, services
from gasworks.payments.models import Shift

pytestmark = pytest.mark.django_db

ROLES = ["admin", "cashier", "meter_reader", "inspector", "dispatcher", "filler", "customer"]
STAFF_PAY = {"admin", "cashier"}


@pytest.fixture
def objects(personas):
    cashier = personas["cashier"]
    own = services.take_counter_payment(personas["own_customer"], "10", "cash", cashier)
    other = services.take_counter_payment(personas["other_customer"], "10", "cash", cashier)
    order = services.create_online_order(personas["own_customer"], "5", personas["customer"])
    other_order = services.create_online_order(personas["other_customer"], "5", cashier)
    card = cards.issue_card(personas["other_customer"], cashier)
    return {
        "own": own,
        "other": other,
        "order": order,
        "other_order": other_order,
        "card": card,
        "shift": Shift.objects.get(cashier=cashier),
    }


def routes(o, personas):
    c = personas["other_customer"].pk
    return [
        # (url, {role: expected}, default)
        ("/payments/all/", {r: 200 for r in STAFF_PAY}, 403),
        ("/payments/counter/", {r: 200 for r in STAFF_PAY}, 403),
        (f"/payments/counter/{c}/", {r: 200 for r in STAFF_PAY}, 403),
        (f"/payments/{o['own'].pk}/", {"admin": 200, "cashier": 200, "customer": 200}, 404),
        (f"/payments/{o['other'].pk}/", {"admin": 200, "cashier": 200}, 404),
        (f"/payments/{o['own'].pk}/receipt.pdf", {"admin": 200, "cashier": 200, "customer": 200}, 404),
        (f"/payments/{o['other'].pk}/receipt.pdf", {"admin": 200, "cashier": 200}, 404),
        (f"/payments/{o['own'].pk}/refund/", {r: 200 for r in STAFF_PAY}, 403),
        ("/payments/refunds/", {"admin": 200}, 403),
        ("/payments/shift/", {r: 200 for r in STAFF_PAY}, 403),
        ("/payments/shifts/", {"admin": 200}, 403),
        (f"/payments/shifts/{o['shift'].pk}/", {"admin": 200, "cashier": 200}, 403),
        (f"/payments/cards/customer/{c}/", {r: 200 for r in STAFF_PAY}, 403),
        (f"/payments/cards/{o['card'].pk}/topup/", {r: 200 for r in STAFF_PAY}, 403),
        (f"/payments/cards/{o['card'].pk}/replace/", {r: 200 for r in STAFF_PAY}, 403),
        ("/payments/my/", {"customer": 200}, 403),
        (f"/payments/sandbox/{o['order'].order_no}/", {"admin": 200, "cashier": 200, "customer": 200}, 404),
        (f"/payments/order/{o['order'].order_no}/status/", {"customer": 200}, 403),
        (f"/payments/order/{o['other_order'].order_no}/status/", {"customer": 404}, 403),
        (f"/payments/order/{o['other_order'].order_no}/qr/", {"customer": 404}, 403),
        ("/api/v1/payments/", {"admin": 200, "cashier": 200, "customer": 200}, 403),
        (f"/api/v1/payments/{o['own'].pk}/", {"admin": 200, "cashier": 200, "customer": 200}, 403),
        (f"/api/v1/payments/{o['other'].pk}/", {"admin": 200, "cashier": 200, "customer": 404}, 403),
        (f"/api/v1/payments/{o['other'].pk}/receipt/", {"admin": 200, "cashier": 200, "customer": 404}, 403),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_it_checks_every_page_and_api_route(client, personas, objects, role):
    client.force_login(personas[role])
    failures = []
    for url, expected, default in routes(objects, personas):
        want = expected.get(role, default)
        got = client.get(url).status_code
        if got != want:
            failures.append(f"{role} GET {url}: {got} != {want}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ROLES)
def test_only_cashiers_and_admins_refund_over_the_api(client, personas, objects, role):
    client.force_login(personas[role])
    response = client.post(
        f"/api/v1/payments/{objects['own'].pk}/refund/",
        {"amount": "1", "reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == (201 if role in STAFF_PAY else 403)


@pytest.mark.parametrize("role", ROLES)
def test_only_cashiers_and_admins_take_counter_payments(client, personas, role):
    client.force_login(personas[role])
    response = client.post(
        "/api/v1/payments/",
        {"customer": personas["own_customer"].pk, "amount": "1", "method": "cash"},
        content_type="application/json",
        headers={"Idempotency-Key": f"perm-{role}"},
    )
    assert response.status_code == (201 if role in STAFF_PAY else 403)


def test_anonymous_users_are_sent_to_log_in_or_refused(client, objects):
    assert client.get("/payments/counter/").status_code == 302
    assert client.get(f"/payments/{objects['own'].pk}/receipt.pdf").status_code == 302
    assert client.get("/api/v1/payments/").status_code in (401, 403)
    for page in ("qr", "status"):
        response = client.get(f"/payments/order/{objects['order'].order_no}/{page}/")
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")
