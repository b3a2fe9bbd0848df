"""LPG price versions through the service: one version per kind and date, clear 400s."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError

from gasworks.cylinders import orders
from gasworks.cylinders.models import LpgPrice
from gasworks.errors import InvalidInput

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 1, 1)


def test_it_adds_a_price_version_rounded_to_the_price_places():
    price = orders.set_price("YSP35.5", False, Decimal("110.00004"), DAY)
    assert (price.model, price.per_kg, price.price, price.effective_from) == (
        "YSP35.5",
        False,
        Decimal("110.0000"),
        DAY,
    )
    assert orders.price_of("YSP35.5", Decimal("14"), DAY) == Decimal("110.00")


@pytest.mark.parametrize(
    ("model", "price", "code"),
    [
        ("NOPE", "10", "invalid_model"),
        ("", "0", "invalid_price"),
        ("", "-1", "invalid_price"),
        ("", "x", "invalid_price"),
    ],
)
def test_it_refuses_bad_prices_and_writes_nothing(model, price, code):
    with pytest.raises(InvalidInput) as refused:
        orders.set_price(model, True, price, DAY)
    assert refused.value.code == code
    assert not LpgPrice.objects.exists()


def test_a_second_version_of_the_same_kind_and_day_is_refused():
    orders.set_price("", True, "7.5", DAY)
    with pytest.raises(InvalidInput) as refused:
        orders.set_price("", True, "8", DAY)
    assert (refused.value.code, list(refused.value.fields)) == ("price_exists", ["effective_from"])
    orders.set_price("", True, "8", DAY + datetime.timedelta(days=1))  # a later version is fine
    assert LpgPrice.objects.count() == 2


def test_a_concurrent_duplicate_is_told_not_crashed(monkeypatch):
    """Two dispatchers save the same version at once: the check passes for both, the unique
    constraint stops the second, which gets the same clear 400."""
    monkeypatch.setattr(LpgPrice.objects, "create", _raise_integrity)
    with pytest.raises(InvalidInput) as refused:
        orders.set_price("", True, "8", DAY)
    assert refused.value.code == "price_exists"


def _raise_integrity(**kwargs):
    raise IntegrityError("lpgprice_unique_version")


def test_the_price_page_shows_the_refusal_on_the_form(admin_client):
    orders.set_price("", True, "7.5", DAY)
    data = {"model": "", "per_kg": "on", "price": "8", "effective_from": DAY.isoformat()}
    page = admin_client.post("/cylinders/prices/", data)
    assert page.status_code == 200
    assert "A price of this kind already starts on that date." in page.content.decode()
    assert LpgPrice.objects.count() == 1
