"""Cylinders back for good: the deposits paid come back through the ledger, once."""

from decimal import Decimal

import pytest

from gasworks.billing import ledger
from gasworks.billing.models import LedgerEntry
from gasworks.cylinders import deposits, orders
from gasworks.cylinders.models import Cylinder, CylinderEvent, CylinderReturn, EventKind, ResidualWeighing
from gasworks.errors import DomainError, InvalidInput
from gasworks.system.models import Parameter
from tests.cylinders.helpers import delivered, make_full
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(db):
    return make_customer()


def _codes(cylinders):
    return [c.code for c in cylinders]


def test_it_refunds_every_deposit_when_all_cylinders_come_back(customer):
    _order, fulls = delivered(customer, 2)  # 2 × 110 charged, 2 × 100 deposit
    assert ledger.balance(customer) == Decimal("-420.00")
    made, created = deposits.return_for_good(customer, _codes(fulls), "k-1")
    assert created and (made.deposits_refunded, made.amount) == (2, Decimal("200.00"))
    entry = made.entry
    assert (entry.kind, entry.amount) == ("deposit", Decimal("200.00"))
    assert ledger.balance(customer) == Decimal("-220.00")
    assert orders.customer_cylinders(customer) == {
        "held": 0,
        "deposits": 0,
        "deposit_amount": Decimal("0.00"),
        "empties_owed": 0,
    }
    for cylinder in Cylinder.objects.filter(pk__in=[c.pk for c in fulls]):
        assert (cylinder.status, cylinder.customer) == ("empty_in_station", None)
        last = cylinder.events.order_by("-at", "-pk").first()
        assert (last.kind, last.customer, last.note) == (EventKind.RETURNED, customer, f"return #{made.pk}")


def test_it_answers_a_repeated_request_with_the_first_return(customer):
    _order, fulls = delivered(customer, 1)
    first, _ = deposits.return_for_good(customer, _codes(fulls), "k-1")
    again, created = deposits.return_for_good(customer, [c.code.lower() for c in fulls], "k-1")
    assert (again.pk, created) == (first.pk, False)
    assert LedgerEntry.objects.filter(kind="deposit", amount__gt=0).count() == 1
    assert CylinderReturn.objects.count() == 1


def test_it_refuses_a_key_reused_for_another_return(customer):
    _order, fulls = delivered(customer, 2)
    deposits.return_for_good(customer, _codes(fulls[:1]), "k-1")
    with pytest.raises(DomainError) as info:
        deposits.return_for_good(customer, _codes(fulls[1:]), "k-1")
    assert (info.value.code, info.value.status) == ("idempotency_key_reused", 409)
    assert Cylinder.objects.get(pk=fulls[1].pk).status == "at_customer"
    assert LedgerEntry.objects.filter(kind="deposit", amount__gt=0).count() == 1


def test_it_settles_empties_owed_before_refunding(customer):
    delivered(customer, 2, take_deposits=False)  # two empties owed
    delivered(customer, 1)  # one deposit
    held = list(Cylinder.objects.filter(customer=customer).order_by("pk"))
    assert orders.customer_cylinders(customer)["empties_owed"] == 2
    made, _ = deposits.return_for_good(customer, _codes(held[:2]), "k-1")
    assert (made.deposits_refunded, made.amount, made.entry) == (0, Decimal("0.00"), None)
    assert orders.customer_cylinders(customer) == {
        "held": 1,
        "deposits": 1,
        "deposit_amount": Decimal("100.00"),
        "empties_owed": 0,
    }
    made, _ = deposits.return_for_good(customer, _codes(held[2:]), "k-2")
    assert (made.deposits_refunded, made.amount) == (1, Decimal("100.00"))


def test_it_refunds_what_was_paid_when_the_deposit_rate_changed(customer):
    _o, first = delivered(customer, 1)
    Parameter.objects.create(key="lpg_deposit_per_cylinder", value="150")
    _o, second = delivered(customer, 2)
    assert deposits.held_deposits(customer) == deposits.Deposits(3, Decimal("400.00"))
    made, _ = deposits.return_for_good(customer, _codes(first), "k-1")
    assert made.amount == Decimal("133.33")  # a third of what the three deposits hold
    made, _ = deposits.return_for_good(customer, _codes(second), "k-2")
    assert made.amount == Decimal("266.67")  # the whole remainder: nothing lost to rounding
    assert ledger.balance(customer) == Decimal("-330.00")  # the three fills only


def test_it_weighs_the_residual_of_a_cylinder_returned_for_good(customer):
    _o, (full,) = delivered(customer, 1)
    deposits.return_for_good(customer, f"{full.code} 15.5", "k-1")
    weighing = ResidualWeighing.objects.get()
    assert (weighing.residual_kg, weighing.used_kg, weighing.customer) == (
        Decimal("0.500"),
        Decimal("13.500"),
        customer,
    )
    event = CylinderEvent.objects.filter(cylinder=full, kind=EventKind.RETURNED).get()
    assert event.mass_kg == Decimal("0.500")


@pytest.mark.parametrize(
    ("case", "code", "status"),
    [
        ("stranger", "not_at_customer", 409),
        ("in_station", "not_at_customer", 409),
        ("unknown", "unknown_cylinder", 409),
        ("none", "nothing_returned", 400),
        ("no_key", "idempotency_key_required", 400),
        ("too_light", "negative_mass", 400),
    ],
)
def test_it_refuses_a_bad_return_and_writes_nothing(customer, case, code, status):
    _o, (mine,) = delivered(customer, 1)
    other = make_customer()
    _o, (theirs,) = delivered(other, 1)
    items, key = [mine.code], "k-1"
    if case == "stranger":
        items = [mine.code, theirs.code]
    elif case == "in_station":
        items = [mine.code, make_full().code]
    elif case == "unknown":
        items = [mine.code, "NOPE-0001"]
    elif case == "none":
        items = []
    elif case == "no_key":
        key = " "
    elif case == "too_light":
        items = f"{mine.code} 3"
    events, entries = CylinderEvent.objects.count(), LedgerEntry.objects.count()
    with pytest.raises(DomainError) as info:
        deposits.return_for_good(customer, items, key)
    assert (info.value.code, info.value.status) == (code, status)
    assert isinstance(info.value, InvalidInput) == (status == 400)
    assert not CylinderReturn.objects.exists()
    assert (CylinderEvent.objects.count(), LedgerEntry.objects.count()) == (events, entries)
    assert Cylinder.objects.get(pk=mine.pk).status == "at_customer"
    assert not ResidualWeighing.objects.exists()


def test_it_takes_cylinders_back_from_the_page(client, personas, customer):
    _o, fulls = delivered(customer, 2)
    client.force_login(personas["cashier"])
    detail = client.get(f"/customers/{customer.pk}/").content.decode()
    assert f"/cylinders/customers/{customer.pk}/return/" in detail
    url = f"/cylinders/customers/{customer.pk}/return/"
    page = client.get(url).content.decode()
    assert fulls[0].code in page and "¥200.00" in page
    bad = client.post(url, {"codes": "NOPE-0001", "token": "t1"})
    assert bad.status_code == 200 and "Unknown cylinder" in bad.content.decode()
    assert not CylinderReturn.objects.exists()
    body = {"codes": f"{fulls[0].code} 15.2\n{fulls[1].code}", "token": "t1"}
    ok = client.post(url, body)
    assert ok.status_code == 302 and ok["Location"] == f"/customers/{customer.pk}/"
    again = client.post(url, body, follow=True)
    assert "already recorded" in again.content.decode()
    made = CylinderReturn.objects.get()
    assert (made.amount, made.by) == (Decimal("200.00"), personas["cashier"])
    assert LedgerEntry.objects.filter(kind="deposit", amount__gt=0).count() == 1
