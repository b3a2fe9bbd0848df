"""The ledger's set-based entry point (SetPosting, used by the billing run) and the one account
lock it shares with post() and post_many(): the same validation, the same lock, the same
balance chain."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gasworks.billing import ledger
from gasworks.billing.models import Account, LedgerEntry
from gasworks.billing.verify import verify_ledger
from gasworks.errors import InvalidInput
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def _posted(customers, amounts, kind="charge"):
    batch = ledger.SetPosting(kind, "Gas bill 2026-10")
    batch.lock([c.pk for c in customers])
    before = batch.settle(dict(zip([c.pk for c in customers], amounts, strict=True)))
    batch.post("set:", {c.pk: c.pk for c in customers})
    return before


def test_it_appends_one_entry_per_customer_continuing_each_balance_chain():
    a, b = make_customer(), make_customer()
    ledger.post(a, "payment", Decimal("100.00"))
    before = _posted([a, b], [Decimal("-26.10"), Decimal("-12.00")])
    assert before == {a.pk: Decimal("100.00"), b.pk: Decimal("0.00")}
    assert ledger.balance(a) == Decimal("73.90") and ledger.balance(b) == Decimal("-12.00")
    entry = LedgerEntry.objects.get(idempotency_key=f"set:{b.pk}")
    assert (entry.kind, entry.amount, entry.balance_after, entry.reference) == (
        "charge",
        Decimal("-12.00"),
        Decimal("-12.00"),
        "Gas bill 2026-10",
    )
    assert verify_ledger()[1] == []


def test_it_opens_a_missing_account_with_its_balance_after_the_entry_in_one_insert():
    c = make_customer()
    batch = ledger.SetPosting("charge", "bill")
    batch.lock([c.pk])
    with CaptureQueriesContext(connection) as queries:
        assert batch.settle({c.pk: Decimal("-8.00")}) == {c.pk: Decimal("0.00")}
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert statements.count("INSERT") == 1 and "UPDATE" not in statements  # no second write
    assert Account.objects.get(customer=c).balance == Decimal("-8.00")
    batch.post("bill:", {c.pk: 1})
    assert verify_ledger()[1] == []


def test_it_validates_every_amount_as_post_does():
    c = make_customer()
    with pytest.raises(InvalidInput) as unknown:
        ledger.SetPosting("gift", "x")
    with pytest.raises(InvalidInput) as single:
        ledger.post(c, "gift", Decimal("1"))
    assert unknown.value.code == single.value.code == "invalid_entry_kind"
    batch = ledger.SetPosting("charge", "x")
    batch.lock([c.pk])
    with pytest.raises(ValueError, match="float"):
        batch.settle({c.pk: -2.5})  # a float is refused, as by post()
    with pytest.raises(ValueError, match="float"):
        ledger.post(c, "charge", -2.5)
    batch.settle({c.pk: Decimal("-1.005")})  # rounded half up to the fen, as by post()
    batch.post("k", {c.pk: 1})
    assert LedgerEntry.objects.get(idempotency_key="k1").amount == Decimal("-1.01")


def test_a_zero_amount_opens_the_account_but_posts_nothing():
    c = make_customer()
    assert _posted([c], [Decimal("0.00")]) == {c.pk: Decimal("0.00")}
    assert Account.objects.filter(customer=c).exists()
    assert not LedgerEntry.objects.exists()
    with pytest.raises(InvalidInput) as zero:
        ledger.post(c, "charge", Decimal("0.004"))  # post() still refuses a zero entry
    assert zero.value.code == "zero_amount"


def test_it_charges_an_account_a_concurrent_writer_created_after_the_lock():
    c = make_customer()
    batch = ledger.SetPosting("charge", "bill")
    assert batch.lock([c.pk]) == {}  # no account yet, nothing locked
    ledger.post(c, "payment", Decimal("50.00"))  # someone else opens it meanwhile
    assert batch.settle({c.pk: Decimal("-20.00")}) == {c.pk: Decimal("50.00")}
    batch.post("bill:", {c.pk: 7})
    assert ledger.balance(c) == Decimal("30.00")
    assert Account.objects.filter(customer=c).count() == 1
    assert verify_ledger()[1] == []


def test_one_lock_serves_every_entry_point(django_assert_num_queries):
    a, b = make_customer(), make_customer()
    ledger.post(b, "payment", Decimal("1.00"))
    ledger.post(a, "payment", Decimal("1.00"))
    with django_assert_num_queries(1):  # both accounts exist: one SELECT ... FOR UPDATE
        held = ledger.lock_accounts([b.pk, a.pk])
    assert held[a.pk].balance == Decimal("1.00") and held[b.pk].pk == Account.objects.get(customer=b).pk
    fresh = make_customer()
    assert ledger.lock_accounts([fresh.pk], create=False) == {}
    assert ledger.lock_accounts([fresh.pk])[fresh.pk].balance == Decimal("0.00")  # created at 0


def test_post_post_many_and_the_set_path_all_lock_through_lock_accounts(monkeypatch):
    a, b = make_customer(), make_customer()
    ledger.lock_accounts([a.pk, b.pk])  # both accounts exist: one call per entry point below
    calls = []
    real = ledger.lock_accounts

    def spy(customer_ids, create=True):
        calls.append(sorted(customer_ids))
        return real(customer_ids, create=create)

    monkeypatch.setattr(ledger, "lock_accounts", spy)
    ledger.post(a, "payment", Decimal("5.00"))
    ledger.post_many(
        [ledger.Posting(b.pk, "payment", Decimal("1.00")), ledger.Posting(a.pk, "charge", Decimal("-1"))]
    )
    _posted([a, b], [Decimal("-1.00"), Decimal("-1.00")])
    assert calls == [[a.pk], sorted([a.pk, b.pk]), sorted([a.pk, b.pk])]
