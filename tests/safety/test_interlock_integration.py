"""The supply interlock with the real supply actions of main: an IC-card top-up (payments) and an
LPG delivery (cylinders). A real open major hazard refuses both with supply_blocked and writes
nothing; closing the hazard, or an administrator's audited override, lets them through."""

import datetime
from decimal import Decimal

import pytest

from gasworks.billing.models import LedgerEntry
from gasworks.cylinders import orders
from gasworks.cylinders.models import Cylinder, CylinderStatus, DeliveryLine, LpgOrder, LpgPrice, OrderStatus
from gasworks.errors import DomainError, NotAllowed
from gasworks.payments import cards
from gasworks.payments.models import CardPurchase, Payment
from gasworks.safety import interlock
from gasworks.safety.services import hazards
from gasworks.system.models import AuditEntry
from tests.cylinders.helpers import make_full


@pytest.fixture
def supply(personas, tmp_path, monkeypatch):
    """A customer with an IC card and an LPG order loaded on the van, before any hazard."""
    monkeypatch.setenv("PAYMENTS_CARD_DIR", str(tmp_path / "cards"))
    LpgPrice.objects.create(
        model="YSP35.5", per_kg=False, price=Decimal("110"), effective_from=datetime.date(2020, 1, 1)
    )
    customer = personas["own_customer"]
    card = cards.issue_card(customer, personas["cashier"])
    order = orders.place_order(customer, "YSP35.5", 1, "phone")
    orders.assign(order, personas["dispatcher"], "京A12345")
    cylinder = make_full()
    orders.load(order, cylinder.code)
    return {"customer": customer, "card": card, "order": order, "cylinder": cylinder}


def _written() -> tuple:
    return (
        Payment.objects.count(),
        CardPurchase.objects.count(),
        LedgerEntry.objects.count(),
        LpgOrder.objects.count(),
        DeliveryLine.objects.count(),
    )


def _assert_blocked(supply, cashier) -> None:
    before = _written()
    with pytest.raises(DomainError) as top_up:
        cards.top_up(supply["card"], "100", "cash", cashier)
    assert top_up.value.code == "supply_blocked"
    with pytest.raises(DomainError) as delivery:
        orders.deliver(supply["order"])
    assert delivery.value.code == "supply_blocked"
    with pytest.raises(DomainError) as new_order:
        orders.place_order(supply["customer"], "YSP35.5", 1, "phone")
    assert new_order.value.code == "supply_blocked"
    # Nothing was written: no payment, no card load, no ledger entry, no order, no delivery line.
    assert _written() == before
    supply["card"].refresh_from_db()
    assert supply["card"].purchases == 0
    assert LpgOrder.objects.get(pk=supply["order"].pk).status == OrderStatus.OUT
    assert Cylinder.objects.get(pk=supply["cylinder"].pk).status == CylinderStatus.OUT_FOR_DELIVERY


def _assert_allowed(supply, cashier) -> None:
    purchase = cards.top_up(supply["card"], "100", "cash", cashier)
    assert purchase.amount == Decimal("100.00") and purchase.sequence == 1
    delivered = orders.deliver(supply["order"])
    assert delivered.status == OrderStatus.DELIVERED and delivered.amount == Decimal("110.00")
    assert Cylinder.objects.get(pk=supply["cylinder"].pk).status == CylinderStatus.AT_CUSTOMER
    assert LedgerEntry.objects.filter(kind="lpg_sale").count() == 1


def test_it_blocks_supply_until_the_major_hazard_is_closed(supply, personas):
    inspector, cashier = personas["inspector"], personas["cashier"]
    hazard = hazards.raise_hazard(supply["customer"], "major", "表前阀漏气", by=inspector)
    _assert_blocked(supply, cashier)
    # Rectified is not closed yet: still blocked until the re-inspection closes it.
    hazards.rectify(hazard, "更换表前阀", by=inspector)
    _assert_blocked(supply, cashier)
    hazards.close(hazard, "复检合格", by=inspector)
    _assert_allowed(supply, cashier)


def test_it_lets_supply_go_on_after_an_audited_admin_override(supply, personas):
    cashier = personas["cashier"]
    hazard = hazards.raise_hazard(supply["customer"], "major", "软管老化开裂", by=personas["inspector"])
    _assert_blocked(supply, cashier)
    with pytest.raises(NotAllowed):
        interlock.grant_override(hazard, "cashier would like to", by=cashier)
    _assert_blocked(supply, cashier)
    override = interlock.grant_override(hazard, "医院食堂，停气影响病人供餐", by=personas["admin"])
    entry = AuditEntry.objects.filter(note__contains="supply interlock overridden").get()
    assert entry.actor == personas["admin"] and "医院食堂" in entry.note
    assert override.granted_by == personas["admin"]
    _assert_allowed(supply, cashier)
    # A new major hazard blocks again: the override covered only the first one.
    hazards.raise_hazard(supply["customer"], "major", "另一处漏气", by=personas["inspector"])
    with pytest.raises(DomainError) as again:
        cards.top_up(supply["card"], "50", "cash", cashier)
    assert again.value.code == "supply_blocked"


def test_it_does_not_block_for_a_key_hazard(supply, personas):
    hazards.raise_hazard(supply["customer"], "key", "通风不良", by=personas["inspector"])
    _assert_allowed(supply, personas["cashier"])
