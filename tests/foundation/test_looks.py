"""Item 20 without a browser: one menu item highlighted, forms styled, a favicon."""

import re

import pytest
from django.contrib.staticfiles import finders

from gasworks.web.navigation import menu_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("/cylinders/fill/", "Filling"),
        ("/cylinders/orders/12/", "LPG orders"),
        ("/cylinders/c/YSP001/", "Cylinders"),
        ("/", "Dashboard"),
    ],
)
def test_one_menu_item_is_active_the_most_specific(personas, path, label):
    active = [str(e["label"]) for e in menu_for(personas["admin"], path) if e["active"]]
    assert active == [label]


def _input(page: str, name: str) -> str:
    tag = re.search(rf'<(?:input|select|textarea)[^>]*name="{name}"[^>]*>', page)
    assert tag, f"no field {name}"
    return tag.group(0)


@pytest.mark.parametrize(
    ("role", "path", "field"),
    [
        ("admin", "/metering/routes/new/", "name"),
        ("admin", "/metering/routes/new/", "reader"),
        ("admin", "/billing/runs/", "period"),
        ("cashier", "/payments/shift/", "cash_counted"),
        ("customer", "/payments/my/", "amount"),
    ],
)
def test_forms_are_styled(client, personas, role, path, field):
    client.force_login(personas[role])
    if path == "/payments/shift/":
        from gasworks.payments import services

        services.take_counter_payment(personas["own_customer"], "1.00", "cash", personas["cashier"])
    tag = _input(client.get(path).content.decode(), field)
    assert re.search(r'class="[^"]*\bform-(control|select)\b', tag), tag


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response.url.endswith("gasworks/favicon.ico")
    assert finders.find("gasworks/favicon.ico")
