"""Delivery against the real supply interlock of the safety app (no monkeypatching): an open
major hazard refuses the delivery and nothing is written; closed after rectification, it goes."""

from decimal import Decimal

import pytest

from gasworks.billing import ledger
from gasworks.billing.models import LedgerEntry
from gasworks.cylinders import orders
from gasworks.cylinders.models import (
    Cylinder,
    CylinderEvent,
    DeliveryLine,
    LpgOrder,
    OrderStatus,
    ResidualWeighing,
)
from gasworks.errors import DomainError
from gasworks.safety.services import hazards
from tests.cylinders.helpers import delivered, loaded

pytestmark = pytest.mark.django_db


def _snapshot(order, cylinders):
    order.refresh_from_db()
    return (
        order.status,
        order.amount,
        order.delivered_at,
        [Cylinder.objects.get(pk=c.pk).status for c in cylinders],
        CylinderEvent.objects.count(),
        DeliveryLine.objects.count(),
        ResidualWeighing.objects.count(),
        LedgerEntry.objects.count(),
        ledger.balance(order.customer),
    )


def test_it_refuses_delivery_while_a_major_hazard_is_open_and_delivers_once_closed(personas):
    customer = personas["own_customer"]
    _first, (old,) = delivered(customer, 1)
    order, fulls = loaded(customer, 1)
    hazards.raise_hazard(customer, "ordinary", "Hose a little old", by=personas["inspector"])
    hazard = hazards.raise_hazard(customer, "major", "Cylinder kept in the bedroom", by=personas["inspector"])
    before = _snapshot(order, [old, *fulls])
    back = f"{old.code} 16.0"

    with pytest.raises(DomainError) as info:
        orders.deliver(order, back)
    assert (info.value.code, info.value.status) == ("supply_blocked", 409)
    assert hazard.notice_no in info.value.message
    assert _snapshot(order, [old, *fulls]) == before

    hazards.rectify(hazard, "Moved to the kitchen balcony", by=personas["customer"])
    with pytest.raises(DomainError) as info:  # rectified still waits for the re-inspection
        orders.deliver(order, back)
    assert info.value.code == "supply_blocked"
    assert _snapshot(order, [old, *fulls]) == before

    hazards.close(hazard, "Re-inspected: sound", by=personas["inspector"])
    done = orders.deliver(order, back)
    assert done.status == OrderStatus.DELIVERED and done.amount == Decimal("110.00")
    assert Cylinder.objects.get(pk=fulls[0].pk).status == "at_customer"
    assert ResidualWeighing.objects.get().residual_kg == Decimal("1.000")


def test_the_api_answers_supply_blocked_with_409_and_writes_nothing(client, personas):
    customer = personas["own_customer"]
    order, fulls = loaded(customer, 1)
    hazard = hazards.raise_hazard(customer, "major", "Gas smell at the valve", by=personas["inspector"])
    client.force_login(personas["dispatcher"])
    before = _snapshot(order, fulls)
    response = client.post(f"/api/v1/lpg-orders/{order.pk}/deliver/", {}, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "supply_blocked"
    assert _snapshot(order, fulls) == before
    # New orders are refused too while the hazard is open.
    placed = client.post(
        "/api/v1/lpg-orders/",
        {"customer": customer.pk, "model": "YSP35.5", "quantity": 1},
        content_type="application/json",
    )
    assert (placed.status_code, placed.json()["error"]["code"]) == (409, "supply_blocked")
    assert LpgOrder.objects.count() == 1
    hazards.rectify(hazard, "Valve replaced", by=personas["customer"])
    hazards.close(hazard, "Checked: no leak", by=personas["inspector"])
    response = client.post(f"/api/v1/lpg-orders/{order.pk}/deliver/", {}, content_type="application/json")
    assert (response.status_code, response.json()["status"]) == (200, "delivered")
