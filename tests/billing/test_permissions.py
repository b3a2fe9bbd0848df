"""Every role × the billing routes: who gets 200, 403 or 404."""

import pytest
import time_machine

from gasworks.billing import runs
from gasworks.billing.models import Bill
from tests.billing.helpers import beijing, local, read

pytestmark = pytest.mark.django_db
ROLES = ["admin", "cashier", "meter_reader", "inspector", "dispatcher", "filler", "customer"]
STAFF_PAGES = [
    "/billing/tariffs/",
    "/billing/runs/",
    "/billing/bills/",
    "/billing/reviews/",
    "/billing/overdue/",
    "/billing/adjustments/",
    "/billing/prepaid/",
]
BILLING_STAFF = {"admin", "cashier"}
ADMIN_ONLY = ["/billing/tariffs/new/"]


@pytest.fixture
def bills(personas):
    beijing()
    read(personas["own_customer"], 10, local(2026, 10, 3))
    read(personas["other_customer"], 10, local(2026, 10, 3))
    with time_machine.travel(local(2026, 11, 1), tick=False):
        runs.execute(runs.start_run("2026-10"))
    return {
        "own": Bill.objects.get(customer=personas["own_customer"]).pk,
        "other": Bill.objects.get(customer=personas["other_customer"]).pk,
    }


@pytest.mark.parametrize("role", ROLES)
def test_it_guards_every_billing_route(client, personas, bills, role):
    client.force_login(personas[role])
    for url in STAFF_PAGES:
        expected = 200 if role in BILLING_STAFF else 403
        assert client.get(url).status_code == expected, (role, url)
    for url in ADMIN_ONLY:
        assert client.get(url).status_code == (200 if role == "admin" else 403), (role, url)
    for url in ("/api/v1/tariffs/", "/api/v1/billing/runs/"):
        assert client.get(url).status_code == (200 if role in BILLING_STAFF else 403), (role, url)
    post = client.post("/api/v1/billing/runs/", {"period": "2026-13"}, content_type="application/json")
    assert post.status_code == (400 if role == "admin" else 403), role
    tariff = client.post("/api/v1/tariffs/", {}, content_type="application/json")
    assert tariff.status_code == (400 if role == "admin" else 403), role
    for which in ("own", "other"):
        pk = bills[which]
        if role in BILLING_STAFF:
            expected = 200
        elif role == "customer":
            expected = 200 if which == "own" else 404
        else:
            expected = 403 if which else 404
        assert client.get(f"/api/v1/bills/{pk}/").status_code == expected, (role, which)
        assert client.get(f"/api/v1/bills/{pk}/pdf/").status_code == expected, (role, which)
        page = 404 if role not in BILLING_STAFF and not (role == "customer" and which == "own") else 200
        assert client.get(f"/billing/bills/{pk}/").status_code == page, (role, which)
    listed = client.get("/api/v1/bills/")
    if role == "customer":
        assert [b["id"] for b in listed.json()["results"]] == [bills["own"]]
    else:
        assert listed.status_code == (200 if role in BILLING_STAFF else 403)


def test_it_refuses_anonymous_callers(client, bills):
    assert client.get("/api/v1/bills/").status_code == 401
    assert client.get("/billing/bills/").status_code == 302
    assert client.get(f"/billing/bills/{bills['own']}/pdf/").status_code == 302
