import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from gasworks.billing import ledger
from gasworks.metering.models import Meter, Reading
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def _tiles(client, user) -> dict[str, str]:
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return {tile.label: tile.value for section in response.context["sections"] for tile in section["tiles"]}


def test_each_role_sees_the_figures_it_may_see(client, personas):
    admin = _tiles(client, personas["admin"])
    assert {
        "Active accounts",
        "Readings awaiting review",
        "Accounts owing",
        "Payments today",
        "LPG orders to deliver",
        "Open emergencies",
        "Unclosed hazards",
    } <= set(admin)
    cashier = _tiles(client, personas["cashier"])
    assert "Accounts owing" in cashier and "Payments today" in cashier
    assert "Open emergencies" not in cashier and "Readings awaiting review" not in cashier
    dispatcher = _tiles(client, personas["dispatcher"])
    assert "Open emergencies" in dispatcher and "Total owed" not in dispatcher
    inspector = _tiles(client, personas["inspector"])
    assert "Unclosed hazards" in inspector and "Payments today" not in inspector


def test_the_figures_count_what_is_there(client, personas):
    owing = make_customer()
    ledger.post(owing, "charge", Decimal("-120.50"), reference="bill")
    ledger.post(personas["other_customer"], "charge", Decimal("-10.00"), reference="bill")
    meter = Meter.objects.create(serial_no="D1", premises=owing.premises, installed_on=dt.date(2026, 1, 1))
    Reading.objects.create(
        meter=meter, customer=owing, value=Decimal("5"), taken_at=timezone.now(), status="flagged"
    )
    tiles = _tiles(client, personas["admin"])
    assert tiles["Accounts owing"] == 2
    assert tiles["Total owed"] == Decimal("130.50")
    assert tiles["Readings awaiting review"] == 1


def test_customers_are_sent_to_their_portal(client, personas):
    client.force_login(personas["customer"])
    assert client.get("/").url == "/portal/"


def test_the_dashboard_query_count_is_bounded(client, personas, django_assert_max_num_queries):
    client.force_login(personas["admin"])
    with django_assert_max_num_queries(25):
        client.get("/")
