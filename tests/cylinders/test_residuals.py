"""Residual gas weighed while taking empties back on a delivery: residual = gross − tare on the
return event, the customer's use = last net fill − residual (lib.consumption)."""

from decimal import Decimal

import pytest

from gasworks.billing.models import LedgerEntry
from gasworks.cylinders import empties, orders, services
from gasworks.cylinders.models import (
    Cylinder,
    CylinderEvent,
    DeliveryLine,
    EventKind,
    OrderStatus,
    ResidualWeighing,
)
from gasworks.errors import DomainError, InvalidInput
from tests.cylinders.helpers import delivered, loaded
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(db):
    """A customer holding one cylinder (14 kg net, tare 15 kg) and a second order out."""
    customer = make_customer()
    _first, (old,) = delivered(customer, 1)
    order, _fulls = loaded(customer, 1)
    return {"customer": customer, "old": old, "order": order}


def test_it_records_the_residual_on_the_return_event(held):
    order = orders.deliver(held["order"], [{"code": held["old"].code, "gross_kg": Decimal("16.250")}])
    assert order.status == OrderStatus.DELIVERED and order.empties_returned == 1
    event = CylinderEvent.objects.filter(cylinder=held["old"], kind=EventKind.RETURNED).get()
    assert event.mass_kg == Decimal("1.250")
    assert event.customer == held["customer"] and event.order == order
    weighing = ResidualWeighing.objects.get(cylinder=held["old"])
    assert (weighing.gross_kg, weighing.residual_kg, weighing.used_kg) == (
        Decimal("16.250"),
        Decimal("1.250"),
        Decimal("12.750"),
    )
    assert weighing.customer == held["customer"]
    line = DeliveryLine.objects.get(order=order, direction=DeliveryLine.BACK)
    assert line.residual_kg == Decimal("1.250")
    # Weighed once: the residual page cannot weigh the same return again.
    with pytest.raises(DomainError) as info:
        services.record_residual(held["old"].code, Decimal("16.000"))
    assert info.value.code == "already_weighed"


def test_it_leaves_an_unweighed_empty_without_a_residual(held):
    orders.deliver(held["order"], [held["old"].code])
    event = CylinderEvent.objects.filter(cylinder=held["old"], kind=EventKind.RETURNED).get()
    assert event.mass_kg is None
    assert not ResidualWeighing.objects.exists()


def test_it_reads_weights_typed_after_codes():
    assert empties.parse("c001 16.25, C002\nC003 0.5") == [
        empties.EmptyBack("C001", Decimal("16.250")),
        empties.EmptyBack("C002"),
        empties.EmptyBack("C003", Decimal("0.500")),
    ]
    assert empties.parse(["c1xx", {"code": "C2XX", "gross_kg": "17"}]) == [
        empties.EmptyBack("C1XX"),
        empties.EmptyBack("C2XX", Decimal("17.000")),
    ]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("16.2 C001", "weight_without_code"),
        ("C001 16.2 17", "weight_without_code"),
        ("C001 C001", "duplicate_scan"),
        ("C001 0", "invalid_mass"),
    ],
)
def test_it_refuses_a_garbled_scan(text, code):
    with pytest.raises(InvalidInput) as info:
        empties.parse(text)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("gross", "code"),
    [("14.999", "negative_mass"), ("29.001", "residual_above_fill")],
)
def test_it_refuses_an_impossible_weight_and_writes_nothing(held, gross, code):
    events = CylinderEvent.objects.count()
    with pytest.raises(InvalidInput) as info:
        orders.deliver(held["order"], f"{held['old'].code} {gross}")
    assert info.value.code == code and held["old"].code in info.value.message
    assert info.value.fields == {"back_codes": [info.value.message]}
    held["order"].refresh_from_db()
    assert held["order"].status == OrderStatus.OUT
    assert Cylinder.objects.get(pk=held["old"].pk).status == "at_customer"
    assert CylinderEvent.objects.count() == events
    assert not ResidualWeighing.objects.exists()
    assert LedgerEntry.objects.count() == 2  # the first delivery's sale and deposit only


def test_it_shows_the_residual_in_the_history_page_and_api(client, personas, held):
    orders.deliver(held["order"], f"{held['old'].code} 15.800")
    client.force_login(personas["dispatcher"])
    page = client.get(f"/cylinders/c/{held['old'].code}/").content.decode()
    assert "Empty returned" in page and "0.800" in page and "13.200" in page  # residual, used
    history = client.get(f"/api/v1/cylinders/{held['old'].code}/").json()["history"]
    returned = [e for e in history if e["kind"] == "returned"]
    assert returned == [
        {
            "kind": "returned",
            "from_status": "at_customer",
            "to_status": "empty_in_station",
            "customer": held["customer"].pk,
            "order": held["order"].pk,
            "mass_kg": "0.800",
            "note": "gross 15.800 kg, used 13.200 kg",
            "at": returned[0]["at"],
        }
    ]


def test_it_weighs_empties_from_the_delivery_page(client, personas, held):
    client.force_login(personas["dispatcher"])
    url = f"/cylinders/orders/{held['order'].pk}/"
    bad = client.post(url, {"step": "deliver", "back_codes": f"{held['old'].code} 40", "take_deposits": "on"})
    assert bad.status_code == 200 and "more gas than its last fill" in bad.content.decode()
    assert not ResidualWeighing.objects.exists()
    ok = client.post(url, {"step": "deliver", "back_codes": f"{held['old'].code} 16", "take_deposits": "on"})
    assert ok.status_code == 302
    assert ResidualWeighing.objects.get().residual_kg == Decimal("1.000")
    assert "1.000 kg left" in client.get(url).content.decode()
