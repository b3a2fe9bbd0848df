"""Every role × every cylinders route: who gets 200, 403 (or the login page)."""

from decimal import Decimal

import pytest

from gasworks.cylinders import orders
from gasworks.cylinders.models import LpgOrder
from tests.cylinders.helpers import make_cylinder

pytestmark = pytest.mark.django_db

ROLES = ["admin", "cashier", "meter_reader", "inspector", "dispatcher", "filler", "customer", None]
VIEW = {"admin", "dispatcher", "filler"}
FILL = {"admin", "filler"}
ORDERS = {"admin", "dispatcher"}
ADMIN = {"admin"}
EVERYONE = set(ROLES)

PAGES = [
    ("/cylinders/", VIEW),
    ("/cylinders/new/", ADMIN),
    ("/cylinders/c/{code}/", VIEW),
    ("/cylinders/labels.pdf", VIEW),
    ("/cylinders/scan/{code}/", EVERYONE),
    ("/cylinders/fill/?code={code}", FILL),
    ("/cylinders/residual/", FILL),
    ("/cylinders/inspection/?days=60", ADMIN),
    ("/cylinders/orders/", ORDERS),
    ("/cylinders/orders/new/", ORDERS),
    ("/cylinders/orders/{order}/", ORDERS),
    ("/cylinders/prices/", ORDERS),
    ("/cylinders/my/", {"customer"}),
]


@pytest.fixture
def world(personas):
    cylinder = make_cylinder(code="PERM-0001")
    order = orders.place_order(personas["other_customer"], "YSP35.5", 1, "phone")
    return {"code": cylinder.code, "order": order.pk}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("url", "allowed"), PAGES)
def test_it_checks_page_permissions(client, personas, world, role, url, allowed):
    if role:
        client.force_login(personas[role])
    response = client.get(url.format(**world))
    if role in allowed:
        assert response.status_code == 200
    elif role is None:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == 403


API = [
    ("get", "/api/v1/cylinders/", None, VIEW, 200),
    ("get", "/api/v1/cylinders/{code}/", None, VIEW, 200),
    (
        "post",
        "/api/v1/cylinders/",
        {"code": "API-NEW1", "model": "YSP12", "tare_kg": "9", "manufactured_on": "2024-01-01"},
        ADMIN,
        201,
    ),
    ("post", "/api/v1/cylinders/{code}/fillings/", {"gross_kg": "29"}, FILL, 201),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "url", "body", "allowed", "ok"), API)
def test_it_checks_api_permissions(client, personas, world, role, method, url, body, allowed, ok):
    if role:
        client.force_login(personas[role])
    call = getattr(client, method)
    response = (
        call(url.format(**world), body, content_type="application/json")
        if body
        else call(url.format(**world))
    )
    if role in allowed:
        assert response.status_code == ok, response.content
    else:
        assert response.status_code in ({401, 403} if role is None else {403})


def test_it_shows_a_customer_only_its_own_orders(client, personas):
    own = orders.place_order(personas["own_customer"], "YSP35.5", 2, "portal")
    other = orders.place_order(personas["other_customer"], "YSP12", 3, "phone")
    client.force_login(personas["customer"])
    page = client.get("/cylinders/my/").content.decode()
    assert f"#{own.pk} " in page and f"#{other.pk} " not in page
    assert client.get(f"/cylinders/orders/{other.pk}/").status_code == 403


def test_it_lets_a_customer_order_in_the_portal(client, personas):
    client.force_login(personas["customer"])
    response = client.post("/cylinders/my/", {"model": "YSP35.5", "quantity": "2"})
    assert response.status_code == 302
    order = LpgOrder.objects.get()
    assert order.customer == personas["own_customer"] and order.channel == "portal"
    bad = client.post("/cylinders/my/", {"model": "YSP35.5", "quantity": "0"})
    assert bad.status_code == 200
    assert LpgOrder.objects.count() == 1


def test_it_shows_no_personal_data_on_the_public_scan_page(client, personas):
    from gasworks.cylinders import services

    cylinder = make_cylinder(code="SCAN-0001")
    services.record_filling(cylinder.code, Decimal("29.2"))
    cylinder.refresh_from_db()
    customer = personas["own_customer"]
    from gasworks.cylinders.models import Cylinder

    Cylinder.objects.filter(pk=cylinder.pk).update(customer=customer)
    page = client.get("/cylinders/scan/scan-0001/").content.decode()
    assert "14.200" in page
    assert customer.name not in page and customer.phone not in page and customer.account_no not in page


def test_it_prints_a_label_sheet(client, personas):
    import io

    from pypdf import PdfReader

    for n in range(30):
        make_cylinder(code=f"LBL-{n:04d}")
    client.force_login(personas["filler"])
    response = client.get("/cylinders/labels.pdf?q=LBL")
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 2  # 24 labels per A4 sheet
    assert "LBL-0000" in reader.pages[0].extract_text()
