"""Bank statement import: set-based, idempotent by bank transaction id, gap-free receipts."""

import csv
from decimal import Decimal

import pytest
from django.db.models import Sum

from gasworks.billing import ledger
from gasworks.billing.models import Account, LedgerEntry
from gasworks.errors import DomainError
from gasworks.payments import bankstatement, services
from gasworks.payments.models import Method, Payment, PaymentStatus, ReceiptCounter
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def write(tmp_path, rows, name="statement.csv", header=("account_no", "amount", "bank_txn_id")):
    path = tmp_path / name
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def receipt_numbers():
    return sorted(int(p.receipt_no.rsplit("-", 1)[1]) for p in Payment.objects.all())


def assert_ledger_consistent():
    """Every balance equals its ledger sum, and balance_after runs along each account."""
    for account in Account.objects.all():
        running = Decimal("0.00")
        for entry in account.entries.order_by("pk"):
            running += entry.amount
            assert entry.balance_after == running
        total = account.entries.aggregate(t=Sum("amount"))["t"] or Decimal("0.00")
        assert account.balance == total == running


def test_it_posts_every_row_once_in_chunks_with_consecutive_receipts(tmp_path, personas):
    first = services.take_counter_payment(personas["own_customer"], "10", "cash", personas["cashier"])
    a, b = make_customer(), make_customer()
    rows = [(c.account_no, f"{10 + i}.25", f"TX{i:04d}") for i, c in enumerate([a, b, a, a, b, a, b])]
    result = bankstatement.import_file(write(tmp_path, rows), chunk=3)
    assert (result.created, result.duplicates, result.errors) == (7, 0, [])
    assert ledger.balance(a) == Decimal("10.25") + Decimal("12.25") + Decimal("13.25") + Decimal("15.25")
    assert ledger.balance(b) == Decimal("11.25") + Decimal("14.25") + Decimal("16.25")
    bank = Payment.objects.filter(method=Method.BANK).order_by("pk")
    assert [p.gateway_txn_id for p in bank] == [f"TX{i:04d}" for i in range(7)]
    assert {p.status for p in bank} == {PaymentStatus.SUCCEEDED}
    # file order, following the counter payment's number, no gaps
    assert [int(p.receipt_no.rsplit("-", 1)[1]) for p in bank] == list(range(2, 9))
    assert first.receipt_no.endswith("-000001")
    assert ReceiptCounter.objects.get().last == 8
    for payment in bank:
        entry = LedgerEntry.objects.get(idempotency_key=f"payment:{payment.pk}")
        assert entry.amount == payment.amount and entry.account.customer_id == payment.customer_id
    assert_ledger_consistent()


def test_it_skips_what_was_already_imported_and_repeats_within_the_file(tmp_path):
    customer = make_customer()
    path = write(tmp_path, [(customer.account_no, "20", "T1"), (customer.account_no, "30", "T2")])
    bankstatement.import_file(path)
    again = write(
        tmp_path,
        [
            (customer.account_no, "20", "T1"),
            (customer.account_no, "40", "T3"),
            (customer.account_no, "40", "T3"),
        ],
        name="again.csv",
    )
    result = bankstatement.import_file(again)
    assert (result.created, result.duplicates, result.errors) == (1, 2, [])
    result = bankstatement.import_file(again)
    assert (result.created, result.duplicates) == (0, 3)
    assert ledger.balance(customer) == Decimal("90.00")
    assert Payment.objects.count() == 3 and LedgerEntry.objects.count() == 3
    assert receipt_numbers() == [1, 2, 3]
    assert_ledger_consistent()


def test_it_reports_bad_rows_by_line_and_keeps_their_neighbours(tmp_path):
    customer = make_customer()
    rows = [
        (customer.account_no, "15.00", "G1"),
        ("9999999999", "10", "U1"),  # unknown account
        (customer.account_no, "abc", "B1"),
        (customer.account_no, "-3", "B2"),
        (customer.account_no, "1.005", "B3"),
        (customer.account_no, "10", ""),
        (customer.account_no, "10", "X" * 65),
        (customer.account_no, "1000000000000", "B4"),  # more than the column holds
        (customer.account_no, "5.00", "G2"),
    ]
    result = bankstatement.import_file(write(tmp_path, rows), chunk=4)
    assert result.created == 2
    assert [e.split(":")[0] for e in result.errors] == [f"line {n}" for n in range(3, 10)]
    assert "unknown account" in result.errors[0]
    assert ledger.balance(customer) == Decimal("20.00")
    assert receipt_numbers() == [1, 2]


def test_it_refuses_a_file_without_the_columns_and_writes_nothing(tmp_path):
    customer = make_customer()
    path = write(tmp_path, [(customer.account_no, "10")], header=("account_no", "amount"))
    with pytest.raises(DomainError):
        bankstatement.import_file(path)
    assert Payment.objects.count() == 0 and LedgerEntry.objects.count() == 0


def test_it_numbers_a_year_that_has_no_counter_yet(tmp_path):
    customer = make_customer()
    assert not ReceiptCounter.objects.exists()
    result = bankstatement.import_file(write(tmp_path, [(customer.account_no, "1", "Y1")]))
    assert result.created == 1
    assert Payment.objects.get().receipt_no.endswith("-000001")
