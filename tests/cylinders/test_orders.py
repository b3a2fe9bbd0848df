import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from gasworks.billing import ledger
from gasworks.billing.models import LedgerEntry
from gasworks.cylinders import orders
from gasworks.cylinders.models import Cylinder, CylinderStatus, LpgPrice, OrderStatus
from gasworks.errors import DomainError, InvalidInput
from gasworks.safety import interlock
from tests.cylinders.helpers import make_full
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db
S = CylinderStatus


@pytest.fixture
def setup(db):
    LpgPrice.objects.create(
        model="YSP35.5", per_kg=False, price=Decimal("110"), effective_from=datetime.date(2020, 1, 1)
    )
    return {"customer": make_customer(), "worker": make_user("dispatcher")}


def _loaded(setup, n=2):
    order = orders.place_order(setup["customer"], "YSP35.5", n, "phone")
    orders.assign(order, setup["worker"], "京A12345")
    fulls = [make_full() for _ in range(n)]
    orders.load(order, " ".join(c.code for c in fulls))
    return order, fulls


def test_it_delivers_charges_once_and_takes_deposits(setup):
    order, fulls = _loaded(setup)
    assert {c.status for c in Cylinder.objects.filter(pk__in=[c.pk for c in fulls])} == {S.OUT_FOR_DELIVERY}
    order = orders.deliver(order)
    assert order.status == OrderStatus.DELIVERED
    assert order.amount == Decimal("220.00")
    assert order.deposits_taken == 2
    assert ledger.balance(setup["customer"]) == Decimal("-420.00")
    assert orders.customer_cylinders(setup["customer"]) == {
        "held": 2,
        "deposits": 2,
        "deposit_amount": Decimal("200.00"),
        "empties_owed": 0,
    }
    # A repeated submit is refused as such and charges nothing more.
    with pytest.raises(DomainError) as info:
        orders.deliver(order)
    assert (info.value.code, info.value.status) == ("already_delivered", 409)
    assert LedgerEntry.objects.count() == 2


def test_it_takes_empties_back_in_exchange(setup):
    first, fulls = _loaded(setup, 1)
    orders.deliver(first, take_deposits=False)
    assert orders.customer_cylinders(setup["customer"])["empties_owed"] == 1
    second, _new = _loaded(setup, 1)
    second = orders.deliver(second, back_codes=[fulls[0].code])
    fulls[0].refresh_from_db()
    assert fulls[0].status == S.EMPTY_IN_STATION and fulls[0].customer is None
    assert second.empties_returned == 1 and second.deposits_taken == 0
    assert orders.customer_cylinders(setup["customer"]) == {
        "held": 1,
        "deposits": 0,
        "deposit_amount": Decimal("0.00"),
        "empties_owed": 1,
    }
    assert ledger.balance(setup["customer"]) == Decimal("-220.00")


def test_it_prices_per_kg_by_date(setup):
    LpgPrice.objects.all().delete()
    today = timezone.localdate()
    LpgPrice.objects.create(
        per_kg=True, price=Decimal("7.00"), effective_from=today - datetime.timedelta(days=30)
    )
    LpgPrice.objects.create(
        per_kg=True, price=Decimal("8.00"), effective_from=today + datetime.timedelta(days=1)
    )
    order, _fulls = _loaded(setup, 1)  # each fill is 14 kg
    order = orders.deliver(order, take_deposits=False)
    assert order.amount == Decimal("98.00")


def test_it_refuses_a_blocked_customer_and_writes_nothing(setup, monkeypatch):
    order, fulls = _loaded(setup, 1)

    def blocked(customer):
        raise interlock.SupplyBlocked("supply_blocked", "major hazard")

    monkeypatch.setattr(orders, "check_supply_allowed", blocked)
    with pytest.raises(DomainError) as info:
        orders.deliver(order)
    assert info.value.code == "supply_blocked"
    order.refresh_from_db()
    assert order.status == OrderStatus.OUT
    assert Cylinder.objects.get(pk=fulls[0].pk).status == S.OUT_FOR_DELIVERY
    assert not LedgerEntry.objects.exists()


def test_it_refuses_loading_the_wrong_cylinders(setup):
    order = orders.place_order(setup["customer"], "YSP35.5", 1, "phone")
    orders.assign(order, setup["worker"], "京A1")
    small = make_full(model="YSP12", tare="9", gross="13")
    with pytest.raises(DomainError) as info:
        orders.load(order, small.code)
    assert info.value.code == "wrong_model"
    with pytest.raises(InvalidInput):
        orders.load(order, "")
    order.refresh_from_db()
    assert order.status == OrderStatus.ASSIGNED
    assert Cylinder.objects.get(pk=small.pk).status == S.FULL_IN_STATION


def test_it_refuses_an_empty_that_is_not_the_customers(setup):
    order, _fulls = _loaded(setup, 1)
    stranger = make_full()
    with pytest.raises(DomainError) as info:
        orders.deliver(order, back_codes=[stranger.code])
    assert info.value.code == "not_at_customer"
    assert not LedgerEntry.objects.exists()


def test_it_refuses_a_delivery_without_a_price(setup):
    LpgPrice.objects.all().delete()
    order, _fulls = _loaded(setup, 1)
    with pytest.raises(DomainError) as info:
        orders.deliver(order)
    assert info.value.code == "no_price"
    order.refresh_from_db()
    assert order.status == OrderStatus.OUT


@pytest.mark.parametrize("quantity", [0, 21, "2"])
def test_it_refuses_bad_quantities(setup, quantity):
    with pytest.raises(InvalidInput):
        orders.place_order(setup["customer"], "YSP35.5", quantity, "phone")


def test_it_refuses_delivering_an_order_not_loaded(setup):
    order = orders.place_order(setup["customer"], "YSP35.5", 1, "portal")
    with pytest.raises(DomainError) as info:
        orders.deliver(order)
    assert info.value.code == "illegal_transition"
