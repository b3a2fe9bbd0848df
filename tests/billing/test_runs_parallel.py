"""A run in several processes: each chunk on its own connection, so these need committed data
(transaction=True) and PostgreSQL."""

from decimal import Decimal

import pytest

from gasworks.billing import ledger, runs
from gasworks.billing.models import Bill, BillingRun, LedgerEntry, RunStatus
from gasworks.billing.verify import verify_ledger
from tests.billing.helpers import beijing, flat, local, read
from tests.factories import make_customer

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch):
    # postgres_only: worker processes need a database other connections can see.
    monkeypatch.setattr(runs, "CHUNK_SPAN", 3)


def _accounts(n=11):
    beijing()
    flat()
    customers = []
    for i in range(n):
        c = make_customer(category="commercial" if i % 4 == 0 else "residential")
        read(c, 10 + 7 * i, local(2026, 10, 3))
        customers.append(c)
    return customers


def _expected(c, i) -> Decimal:
    return Decimal(10 + 7 * i) * Decimal("2.63" if i % 4 == 0 else "2.61")


def test_it_bills_every_account_once_in_two_processes():
    customers = _accounts()
    done = runs.execute(runs.start_run("2026-10"), workers=2)
    assert (done.status, done.bills_created, done.chunks_done, done.chunks_total) == (
        RunStatus.DONE,
        11,
        4,
        4,
    )
    totals = dict(Bill.objects.values_list("customer_id", "total"))
    assert totals == {c.pk: _expected(c, i) for i, c in enumerate(customers)}
    assert {c.pk: ledger.balance(c) for c in customers} == {c.pk: -totals[c.pk] for c in customers}
    assert LedgerEntry.objects.count() == 11
    assert verify_ledger()[1] == []


def test_it_fails_the_run_when_a_worker_crashes_and_a_rerun_completes_it(monkeypatch):
    customers = _accounts()
    crash_in = customers[4].pk  # inside the second chunk

    def crash(name):
        if name == "ledger" and Bill.objects.filter(customer_id=crash_in).exists():
            raise RuntimeError("power cut")

    monkeypatch.setattr(runs, "stage", crash)  # inherited by the forked workers
    with pytest.raises(runs.RunFailed, match="power cut"):
        runs.execute(runs.start_run("2026-10"), workers=2)
    failed = BillingRun.objects.get()
    assert failed.status == RunStatus.FAILED and "power cut" in failed.error
    assert not Bill.objects.filter(customer_id=crash_in).exists()  # the chunk rolled back whole

    monkeypatch.setattr(runs, "stage", lambda name: None)
    resumed = runs.execute(runs.start_run("2026-10"), workers=2)
    assert resumed.pk == failed.pk and resumed.status == RunStatus.DONE
    totals = dict(Bill.objects.values_list("customer_id", "total"))
    assert totals == {c.pk: _expected(c, i) for i, c in enumerate(customers)}
    assert LedgerEntry.objects.count() == 11
    assert verify_ledger()[1] == []
