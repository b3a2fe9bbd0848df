"""Every role × every cylinders route: who gets 200, 403 (or the login page)."""

from decimal import Decimal

import pytest

from gasworks.cylinders import deposits, orders
from gasworks.cylinders.models import LpgOrder
from tests.cylinders.helpers import delivered, loaded, make_cylinder, make_full

pytestmark = pytest.mark.django_db

ROLES = ["admin", "cashier", "meter_reader", "inspector", "dispatcher", "filler", "customer", None]
VIEW = {"admin", "dispatcher", "filler"}
FILL = {"admin", "filler"}
ORDERS = {"admin", "dispatcher"}
ADMIN = {"admin"}
RETURNS = {"admin", "dispatcher", "cashier"}
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
    ("/cylinders/customers/{customer}/return/", RETURNS),
    ("/cylinders/prices/", ORDERS),
    ("/cylinders/my/", {"customer"}),
]


@pytest.fixture
def world(personas):
    cylinder = make_cylinder(code="PERM-0001")
    order = orders.place_order(personas["other_customer"], "YSP35.5", 1, "phone")
    return {"code": cylinder.code, "order": order.pk, "customer": personas["other_customer"].pk}


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


# (method, url, body, roles allowed, their status, other answers by role). Everything below acts
# on the stranger's ("other_customer") data, so a customer login gets 404 where it may look.
API = [
    ("get", "/api/v1/cylinders/", None, VIEW, 200, {}),
    ("get", "/api/v1/cylinders/{code}/", None, VIEW, 200, {}),
    (
        "post",
        "/api/v1/cylinders/",
        {"code": "API-NEW1", "model": "YSP12", "tare_kg": "9", "manufactured_on": "2024-01-01"},
        ADMIN,
        201,
        {},
    ),
    ("post", "/api/v1/cylinders/{code}/fillings/", {"gross_kg": "29"}, FILL, 201, {}),
    ("get", "/api/v1/lpg-orders/", None, ORDERS | {"customer"}, 200, {}),
    ("get", "/api/v1/lpg-orders/{placed}/", None, ORDERS, 200, {"customer": 404}),
    (
        "post",
        "/api/v1/lpg-orders/",
        {"customer": "{customer}", "model": "YSP35.5", "quantity": 1},
        ORDERS,
        201,
        {"customer": 400},  # another customer's id reads as unknown
    ),
    (
        "post",
        "/api/v1/lpg-orders/{placed}/assign/",
        {"worker": "{worker}", "vehicle": "京A1"},
        ORDERS,
        200,
        {},
    ),
    ("post", "/api/v1/lpg-orders/{assigned}/load/", {"out_codes": ["{full}"]}, ORDERS, 200, {}),
    ("post", "/api/v1/lpg-orders/{out}/deliver/", {"take_deposits": True}, ORDERS, 200, {}),
    ("post", "/api/v1/lpg-orders/{placed}/cancel/", {}, ORDERS, 200, {}),
    ("get", "/api/v1/lpg-returns/", None, RETURNS | {"customer"}, 200, {}),
    ("get", "/api/v1/lpg-returns/{returned}/", None, RETURNS, 200, {"customer": 404}),
    (
        "post",
        "/api/v1/lpg-returns/",
        {"customer": "{customer}", "cylinders": [{"code": "{held}"}]},
        RETURNS,
        201,
        {},
    ),
]


class _Lazy(dict):
    """Names for the URL and body placeholders, each built only when a row asks for it."""

    def __init__(self, builders, **ready):
        super().__init__(**ready)
        self.builders = builders

    def __missing__(self, key):
        self[key] = self.builders[key]()
        return self[key]


@pytest.fixture
def api_world(personas, world):
    stranger = personas["other_customer"]

    def assigned():
        order = orders.place_order(stranger, "YSP35.5", 1, "phone")
        orders.assign(order, personas["dispatcher"], "京A2")
        return order.pk

    def held():
        return delivered(stranger, 1)[1][0].code

    def returned():
        made, _ = deposits.return_for_good(stranger, [delivered(stranger, 1)[1][0].code], "perm-1")
        return made.pk

    builders = {
        "assigned": assigned,
        "out": lambda: loaded(stranger, 1)[0].pk,
        "full": lambda: make_full().code,
        "held": held,
        "returned": returned,
        "worker": lambda: personas["filler"].pk,
    }
    return _Lazy(builders, **world, placed=world["order"])


def _fill(value, names):
    """The body with its "{name}" placeholders filled: ids stay integers, codes strings."""
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, str) and value.startswith("{"):
        return names[value[1:-1]]
    return value


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "url", "body", "allowed", "ok", "others"), API)
def test_it_checks_api_permissions(client, personas, api_world, role, method, url, body, allowed, ok, others):
    if role:
        client.force_login(personas[role])
    call = getattr(client, method)
    url = url.format_map(api_world)
    if method == "post":
        response = call(
            url, _fill(body, api_world), content_type="application/json", HTTP_IDEMPOTENCY_KEY="m-1"
        )
    else:
        response = call(url)
    if role in others:
        assert response.status_code == others[role], response.content
    elif role in allowed:
        assert response.status_code == ok, response.content
    else:
        assert response.status_code in ({401, 403} if role is None else {403})
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "fields"}


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
