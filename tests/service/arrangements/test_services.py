"""Making an arrangement, its refusals (nothing written), payments meeting instalments, late fees
held while it holds, the counter's instalment line."""

from datetime import date
from decimal import Decimal

import pytest

from gasworks.billing import arrears, ledger
from gasworks.billing.models import EntryKind, LedgerEntry
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib.events import ask
from gasworks.payments import services as payments
from gasworks.payments.events import DueLines
from gasworks.service.arrangements import services
from gasworks.service.arrangements.models import Arrangement, ArrangementStatus, Instalment
from gasworks.system.models import Parameter
from tests.factories import make_customer
from tests.service.arrangements.helpers import bill, in_debt, pay

pytestmark = pytest.mark.django_db
D = Decimal


def make(customer, **terms):
    terms = {"down_payment": "100", "instalments": 3, "first_due_on": date(2026, 12, 20), **terms}
    return services.make_arrangement(customer, **terms)


def test_it_splits_the_overdue_debt_to_the_fen(frozen):
    customer = make_customer()
    in_debt(customer, "300.00", "200.01")
    arrangement = make(customer)
    parts = list(arrangement.instalments.order_by("seq").values_list("seq", "due_on", "amount"))
    assert arrangement.total == D("500.01") and arrangement.down_payment == D("100.00")
    assert parts == [
        (0, date(2026, 11, 27), D("100.00")),
        (1, date(2026, 12, 20), D("133.34")),
        (2, date(2027, 1, 20), D("133.34")),
        (3, date(2027, 2, 20), D("133.33")),
    ]
    assert sum(p[2] for p in parts) == arrangement.total


def test_it_leaves_bills_not_yet_due_outside(frozen):
    customer = make_customer()
    in_debt(customer, "300.00")
    bill(customer, "2026-11", "80.00", date(2026, 12, 10))  # due after today: normal rules
    assert make(customer, down_payment="0").total == D("300.00")


def test_it_takes_a_schedule_given_when_it_sums(frozen):
    customer = make_customer()
    in_debt(customer, "300.00")
    parts = [(date(2026, 12, 1), "50"), (date(2027, 3, 1), "150.00")]
    arrangement = services.make_arrangement(customer, down_payment="100", parts=parts)
    assert list(arrangement.instalments.values_list("amount", flat=True)) == [D(100), D(50), D(150)]


@pytest.mark.parametrize(
    ("terms", "code"),
    [
        ({"parts": [(date(2026, 12, 1), "50"), (date(2027, 1, 1), "149.99")]}, "schedule_does_not_sum"),
        ({"parts": [(date(2026, 12, 1), "200"), (date(2027, 1, 1), "0")]}, "schedule_does_not_sum"),
        ({"parts": [(date(2027, 1, 1), "100"), (date(2026, 12, 1), "100")]}, "dates_not_increasing"),
        ({"parts": [(date(2026, 12, 1), "100"), (date(2026, 12, 1), "100")]}, "dates_not_increasing"),
        ({"first_due_on": date(2026, 11, 27)}, "date_not_in_future"),
        ({"first_due_on": date(2026, 10, 1)}, "date_not_in_future"),
        ({"instalments": 0}, "invalid_instalments"),
        ({"instalments": 13}, "invalid_instalments"),
        ({"down_payment": "300"}, "down_payment_too_large"),
        ({"down_payment": "-1"}, "invalid_amount"),
        ({"down_payment": "abc"}, "invalid_amount"),
        ({"first_due_on": None}, "first_due_on_required"),
    ],
)
def test_it_refuses_bad_terms_and_writes_nothing(frozen, terms, code):
    customer = make_customer()
    in_debt(customer, "300.00")
    if "parts" in terms:
        terms = {"down_payment": "100", "instalments": None, "first_due_on": None, **terms}
    with pytest.raises(InvalidInput) as err:
        make(customer, **terms)
    assert err.value.code == code
    assert Arrangement.objects.count() == 0 and Instalment.objects.count() == 0


def test_it_refuses_an_account_without_overdue_debt(frozen):
    customer = make_customer()
    bill(customer, "2026-11", "80.00", date(2026, 12, 10))  # owed, not yet due
    with pytest.raises(DomainError) as err:
        make(customer, down_payment="0")
    assert err.value.code == "no_overdue_debt" and err.value.status == 409
    assert Arrangement.objects.count() == 0


def test_it_refuses_a_second_active_arrangement(frozen):
    customer = make_customer()
    in_debt(customer, "300.00")
    make(customer)
    with pytest.raises(DomainError) as err:
        make(customer)
    assert err.value.code == "arrangement_exists"
    assert Arrangement.objects.count() == 1 and Instalment.objects.count() == 4


def test_the_instalment_range_is_a_parameter(frozen):
    customer = make_customer()
    in_debt(customer, "300.00")
    Parameter.objects.create(key="arrangement_max_instalments", value="2")
    with pytest.raises(InvalidInput):
        make(customer)
    assert make(customer, instalments=2).instalments.count() == 3


def test_payments_meet_instalments_in_order_then_complete_it(frozen, personas):
    customer, cashier = make_customer(), personas["cashier"]
    in_debt(customer, "400.00")
    arrangement = make(customer)  # 100 now, then 3 × 100
    pay(customer, "150", cashier)
    arrangement.refresh_from_db()
    met = dict(arrangement.instalments.values_list("seq", "met_on"))
    assert arrangement.paid == D("150.00")
    assert met == {0: date(2026, 11, 27), 1: None, 2: None, 3: None}
    assert [owed for _p, owed in services.owed_on(arrangement)] == [D(0), D(50), D(100), D(100)]
    pay(customer, "500", cashier)  # more than the rest: the arrangement is paid, the extra is credit
    arrangement.refresh_from_db()
    assert arrangement.status == ArrangementStatus.COMPLETED and arrangement.paid == D("400.00")
    assert not arrangement.instalments.filter(met_on=None).exists()
    assert ledger.balance(customer) == D("250.00")


def test_an_ic_card_top_up_does_not_count(frozen, personas):
    customer = make_customer()
    in_debt(customer, "400.00")
    arrangement = make(customer)
    payments.take_counter_payment(customer, "100", "cash", personas["cashier"], purpose="ic_card")
    arrangement.refresh_from_db()
    assert arrangement.paid == 0


def test_no_late_fee_while_it_holds_and_again_once_it_is_cancelled(frozen, personas):
    held, other = make_customer(), make_customer()
    in_debt(held, "400.00")
    in_debt(other, "400.00")
    arrangement = make(held)
    assert services.held_customer_ids(date(2026, 11, 27)) == {held.pk}
    assert arrears.apply_late_fees(date(2026, 11, 27)) == 1
    assert not LedgerEntry.objects.filter(account__customer=held, kind=EntryKind.LATE_FEE).exists()
    services.cancel(arrangement, by=personas["manager"])
    assert services.held_customer_ids(date(2026, 11, 28)) == set()
    assert services.held_customer_ids(date(2026, 11, 26)) == set()  # not made yet
    assert arrears.apply_late_fees(date(2026, 11, 28)) == 2
    assert LedgerEntry.objects.filter(account__customer=held, kind=EntryKind.LATE_FEE).count() == 1


def test_a_cancelled_arrangement_cannot_be_cancelled_again(frozen, personas):
    customer = make_customer()
    in_debt(customer, "400.00")
    arrangement = services.cancel(make(customer), by=personas["manager"])
    assert arrangement.status == ArrangementStatus.CANCELLED and arrangement.end_reason == "cancelled"
    with pytest.raises(DomainError) as err:
        services.cancel(arrangement)
    assert err.value.code == "arrangement_not_active"


def test_the_counter_shows_the_instalment_due(frozen, personas):
    customer = make_customer()
    in_debt(customer, "400.00")
    make(customer)
    pay(customer, "130", personas["cashier"])
    lines = [line for answer in ask(DueLines(customer)) for line in answer]
    instalment = [line for line in lines if line.get("instalment")]
    assert instalment == [
        {
            "label": "Due under the arrangement: Arrangement instalment 1",
            "amount": D("70.00"),
            "due_on": date(2026, 12, 20),
            "bill_id": None,
            "instalment": True,
        }
    ]
    assert sum(line["amount"] for line in lines if not line.get("instalment")) == D("270.00")
