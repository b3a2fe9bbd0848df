"""Real concurrency on PostgreSQL: threads with their own connections hit the row locks."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from gasworks.billing import ledger
from gasworks.billing.models import Account, EntryKind, LedgerEntry
from gasworks.errors import DomainError
from gasworks.payments import services
from gasworks.payments.gateways import sandbox
from gasworks.payments.models import CallbackOutcome, GatewayEvent, Payment, PaymentStatus
from tests.factories import make_customer, make_user

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
WORKERS = 24


def _run_all(jobs):
    """Race the jobs: one thread per lane (at most WORKERS lanes, each with its own connection),
    all released at once by one barrier, each lane then running its share back to back, so every
    job meets the others until the last. Returns the results in the jobs' order. A thread that
    never reaches the barrier breaks it, and the test fails rather than running unsynchronised."""
    lanes = min(WORKERS, len(jobs))
    barrier = threading.Barrier(lanes)
    results = [None] * len(jobs)

    def lane(first):
        try:
            barrier.wait(timeout=60)
            for i in range(first, len(jobs), lanes):
                results[i] = jobs[i]()
        finally:
            connection.close()

    with ThreadPoolExecutor(lanes) as pool:
        for done in [pool.submit(lane, k) for k in range(lanes)]:
            done.result()
    return results


def test_it_credits_exactly_150_of_200_concurrent_callbacks():
    customers = [make_customer() for _ in range(8)]
    orders = [services.create_online_order(customers[i % 8], f"{10 + i}.25", None) for i in range(160)]
    notes = []
    for i, order in enumerate(orders[:150]):
        notes.append(sandbox.signed_notification(order.order_no, f"SBXOK{i:04d}", order.amount, "CNY"))
    duplicates = [notes[i * 3] for i in range(40)]
    conflicts = [
        sandbox.signed_notification(order.order_no, f"SBXBAD{i:04d}", order.amount + 1, "CNY")
        for i, order in enumerate(orders[150:])
    ]
    batch = notes + duplicates + conflicts
    assert len(batch) == 200
    outcomes = _run_all([lambda n=n: services.handle_callback("sandbox", *n)[0] for n in batch])

    assert outcomes.count(CallbackOutcome.CREDITED) == 150
    assert outcomes.count(CallbackOutcome.DUPLICATE) == 40
    assert outcomes.count(CallbackOutcome.CONFLICT) == 10
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 150
    assert Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count() == 150
    assert Payment.objects.filter(needs_review=True, status=PaymentStatus.PENDING).count() == 10
    assert GatewayEvent.objects.count() == 200
    for account in Account.objects.all():
        total = LedgerEntry.objects.filter(account=account).aggregate(t=Sum("amount"))["t"]
        assert account.balance == total
    numbers = sorted(int(p.receipt_no.rsplit("-", 1)[1]) for p in Payment.objects.exclude(receipt_no=None))
    assert numbers == list(range(1, 151))  # no gaps, no duplicates


def test_it_never_takes_a_prepaid_balance_below_zero():
    customer = make_customer()
    ledger.post(customer, EntryKind.PAYMENT, Decimal("100"), idempotency_key="seed")
    Account.objects.filter(customer=customer).update(prepaid=True, credit_limit=0)

    def debit(i):
        try:
            ledger.post(
                customer,
                EntryKind.PREPAID_CHARGE,
                Decimal("-10"),
                idempotency_key=f"d{i}",
                allow_below_limit=False,
            )
            return True
        except DomainError:
            return False

    results = _run_all([lambda i=i: debit(i) for i in range(50)])
    assert results.count(True) == 10
    assert ledger.balance(customer) == Decimal("0.00")
    assert LedgerEntry.objects.filter(balance_after__lt=0).count() == 0


def test_parallel_requests_with_one_key_make_one_payment(live_server):
    import json
    import urllib.request

    customer = make_customer()
    cashier = make_user("cashier")
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=cashier).key
    body = json.dumps({"customer": customer.pk, "amount": "42.00", "method": "cash"}).encode()

    def post():
        request = urllib.request.Request(
            f"{live_server.url}/api/v1/payments/",
            data=body,
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": "same-key",
                "Authorization": f"Token {token}",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())

    answers = _run_all([post for _ in range(12)])
    assert {status for status, _body in answers} == {201}
    assert len({json.dumps(b, sort_keys=True) for _s, b in answers}) == 1
    assert Payment.objects.count() == 1
    assert ledger.balance(customer) == Decimal("42.00")


def test_concurrent_counter_payments_number_receipts_without_gaps():
    cashiers = [make_user("cashier") for _ in range(6)]
    customer = make_customer()
    jobs = [
        lambda i=i: services.take_counter_payment(customer, "5", "cash", cashiers[i % 6]) for i in range(60)
    ]
    _run_all(jobs)
    numbers = sorted(int(p.receipt_no.rsplit("-", 1)[1]) for p in Payment.objects.all())
    assert numbers == list(range(1, 61))
    assert ledger.balance(customer) == Decimal("300.00")


def test_concurrent_statement_imports_and_counter_payments_keep_every_guarantee(tmp_path):
    import csv

    from gasworks.payments import bankstatement

    customers = [make_customer() for _ in range(15)]
    cashiers = [make_user("cashier") for _ in range(5)]
    path = tmp_path / "statement.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account_no", "amount", "bank_txn_id"])
        for i in range(300):
            writer.writerow([customers[i % 15].account_no, f"{1 + i % 7}.50", f"CC{i:05d}"])
    imports = [lambda: bankstatement.import_file(path, chunk=40) for _ in range(3)]
    counter = [
        lambda i=i: services.take_counter_payment(customers[i % 15], "2", "cash", cashiers[i % 5])
        for i in range(30)
    ]
    results = _run_all(imports + counter)
    statements = results[:3]
    assert sum(r.created for r in statements) == 300
    assert all(r.created + r.duplicates == 300 and not r.errors for r in statements)
    assert Payment.objects.filter(gateway="bank").count() == 300
    numbers = sorted(int(p.receipt_no.rsplit("-", 1)[1]) for p in Payment.objects.all())
    assert numbers == list(range(1, 331))
    assert LedgerEntry.objects.count() == 330
    for account in Account.objects.all():
        running = Decimal("0.00")
        for entry in account.entries.order_by("pk"):
            running += entry.amount
            assert entry.balance_after == running
        assert account.balance == running
