from decimal import Decimal

import pytest

from gasworks.billing import ledger
from gasworks.billing.models import LedgerEntry
from gasworks.errors import DomainError, InvalidInput
from gasworks.payments import services
from gasworks.payments.models import Payment, PaymentStatus, ReceiptCounter, Shift, ShiftStatus

pytestmark = pytest.mark.django_db


def test_it_takes_cash_with_change_and_posts_once(personas):
    customer, cashier = personas["own_customer"], personas["cashier"]
    payment = services.take_counter_payment(customer, "88.50", "cash", cashier, tendered="100")
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.change_given == Decimal("11.50")
    assert payment.receipt_no.startswith("R") and payment.receipt_no.endswith("-000001")
    assert ledger.balance(customer) == Decimal("88.50")
    entries = LedgerEntry.objects.filter(idempotency_key=f"payment:{payment.pk}")
    assert entries.count() == 1 and entries[0].amount == Decimal("88.50")


def test_it_numbers_receipts_without_gaps_after_a_refusal(personas):
    customer, cashier = personas["own_customer"], personas["cashier"]
    first = services.take_counter_payment(customer, "10", "cash", cashier)
    with pytest.raises(InvalidInput):
        services.take_counter_payment(customer, "10", "cash", cashier, tendered="5")
    second = services.take_counter_payment(customer, "10", "card", cashier)
    n1, n2 = (int(p.receipt_no.rsplit("-", 1)[1]) for p in (first, second))
    assert n2 == n1 + 1
    assert ReceiptCounter.objects.get().last == n2


@pytest.mark.parametrize(
    ("amount", "method", "tendered", "code"),
    [
        ("0", "cash", None, "invalid_amount"),
        ("-5", "cash", None, "invalid_amount"),
        ("1.005", "cash", None, "invalid_amount"),
        ("abc", "cash", None, "invalid_amount"),
        ("10", "online", None, "invalid_method"),
        ("10", "card", "20", "tendered_not_cash"),
        ("10", "cash", "9.99", "tendered_too_little"),
        ("1000000", "cash", None, "amount_too_large"),
    ],
)
def test_it_refuses_bad_counter_input_and_writes_nothing(personas, amount, method, tendered, code):
    with pytest.raises(InvalidInput) as err:
        services.take_counter_payment(personas["own_customer"], amount, method, personas["cashier"], tendered)
    assert err.value.code == code
    assert Payment.objects.count() == 0
    assert LedgerEntry.objects.count() == 0
    assert Shift.objects.count() == 0


def test_it_closes_a_shift_with_totals_and_locks_it(personas):
    customer, cashier = personas["own_customer"], personas["cashier"]
    services.take_counter_payment(customer, "10", "cash", cashier)
    services.take_counter_payment(customer, "20", "cash", cashier)
    services.take_counter_payment(customer, "5.50", "card", cashier)
    shift = Shift.objects.get(cashier=cashier)
    closed = services.close_shift(shift, cashier, cash_counted="29", handed_to="王会计")
    assert closed.status == ShiftStatus.CLOSED
    assert closed.totals["methods"]["cash"] == {"count": 2, "total": "30.00"}
    assert closed.totals["methods"]["card"] == {"count": 1, "total": "5.50"}
    assert closed.totals["total"] == "35.50"
    assert closed.totals["cash_difference"] == "-1.00"
    with pytest.raises(DomainError) as err:
        services.close_shift(closed, cashier)
    assert err.value.code == "shift_closed"
    # The next payment opens a new shift; the closed one gains nothing.
    later = services.take_counter_payment(customer, "1", "cash", cashier)
    assert later.shift_id != closed.pk
    assert closed.payments.count() == 3


def test_it_lets_only_the_cashier_or_a_supervisor_close(personas):
    from gasworks.errors import NotAllowed
    from tests.factories import make_user

    cashier = personas["cashier"]
    services.take_counter_payment(personas["own_customer"], "10", "cash", cashier)
    shift = Shift.objects.get(cashier=cashier)
    with pytest.raises(NotAllowed):
        services.close_shift(shift, make_user("cashier"))
    assert services.close_shift(shift, personas["admin"]).status == ShiftStatus.CLOSED


def test_it_shows_what_is_due_from_the_ledger(personas):
    from gasworks.billing.models import EntryKind

    customer = personas["own_customer"]
    ledger.post(customer, EntryKind.CHARGE, Decimal("-120.00"), idempotency_key="t:charge")
    due = services.due_summary(customer)
    assert due["owed"] == Decimal("120.00")
    services.take_counter_payment(customer, "120", "cash", personas["cashier"])
    assert services.due_summary(customer)["owed"] == Decimal("0.00")


def test_receipt_numbers_keep_six_digits_and_grow_past_a_million(personas):
    customer, cashier = personas["own_customer"], personas["cashier"]
    first = services.take_counter_payment(customer, "10", "cash", cashier)  # opens the year's book
    year = int(first.receipt_no[1:5])
    assert first.receipt_no == services.receipt_no(year, 1) == f"R{year}-000001"
    ReceiptCounter.objects.update(last=999_998)
    numbers = [services.take_counter_payment(customer, "10", "cash", cashier).receipt_no for _ in range(2)]
    assert numbers == [f"R{year}-999999", f"R{year}-1000000"]
    assert numbers == [services.receipt_no(year, n) for n in (999_999, 1_000_000)]
    assert sorted(Payment.objects.values_list("receipt_no", flat=True)) == sorted(
        [first.receipt_no, *numbers]
    )


def test_a_lowered_counter_limit_applies_to_the_next_payment(personas):
    from gasworks.system.services import set_parameters

    customer, cashier = personas["own_customer"], personas["cashier"]
    services.take_counter_payment(customer, "500", "cash", cashier)  # the limit is read (and cached)
    set_parameters({"counter_max_amount": "100"})
    with pytest.raises(InvalidInput) as err:
        services.take_counter_payment(customer, "500", "cash", cashier)
    assert err.value.code == "amount_too_large"
    assert Payment.objects.count() == 1
