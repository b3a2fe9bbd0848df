"""Real concurrency on PostgreSQL: threads with their own connections meet at the row locks.

- Two clerks making an arrangement for one account at once: one wins (201), the other gets 409
  (arrangement_exists), one arrangement written.
- A payment arriving while the daily run ends the arrangement: both lock the arrangement row, so
  the outcome is one of two, each consistent: the payment first (the instalment met, the
  arrangement held) or the run first (ended for the missed instalment, the payment counted
  toward nothing and left on the account under the normal rules). Never ended with the
  instalment met, never a payment counted toward an ended arrangement."""

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction

from gasworks.billing import ledger
from gasworks.errors import DomainError
from gasworks.service.arrangements import daily, services
from gasworks.service.arrangements.models import Arrangement, ArrangementStatus
from tests.factories import make_customer, make_user
from tests.service.arrangements.helpers import in_debt, pay

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
TERMS = {"down_payment": "100", "instalments": 3, "first_due_on": date(2026, 12, 20)}


def race(*jobs):
    """Run the jobs at once (one thread and connection each, released by one barrier); returns
    each one's result or the DomainError it raised."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def lane(i):
        try:
            barrier.wait(timeout=30)
            results[i] = jobs[i]()
        except DomainError as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=lane, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.fixture
def frozen_late():
    with time_machine.travel("2026-11-27 12:00 +0800", tick=False) as traveller:
        yield traveller


def test_two_clerks_at_once_one_wins_one_409(frozen_late):
    for _round in range(5):
        customer = make_customer()
        in_debt(customer, "400.00")
        results = race(
            lambda c=customer: services.make_arrangement(c, **TERMS),
            lambda c=customer: services.make_arrangement(c, **TERMS),
        )
        made = [r for r in results if isinstance(r, Arrangement)]
        refused = [r for r in results if isinstance(r, DomainError)]
        assert len(made) == 1 and len(refused) == 1
        assert refused[0].code == "arrangement_exists" and refused[0].status == 409
        assert Arrangement.objects.filter(customer=customer).count() == 1


def test_a_payment_racing_the_run_ends_one_way_or_the_other(frozen_late):
    cashier = make_user("cashier")
    outcomes = set()
    for _round in range(8):
        frozen_late.move_to("2026-11-27 12:00 +0800")
        customer = make_customer()
        in_debt(customer, "400.00")
        arrangement = services.make_arrangement(
            customer, down_payment="100", instalments=3, first_due_on=date(2026, 12, 20)
        )
        pay(customer, "100", cashier)
        frozen_late.move_to("2026-12-28 09:00 +0800")  # the December instalment is past its grace
        delay = _round * 0.01  # staggered so that both orders come up over the rounds
        race(
            lambda c=customer: pay(c, "100", cashier),
            lambda d=delay: (time.sleep(d), daily.end_broken(date(2026, 12, 28))),
        )
        arrangement.refresh_from_db()
        december = arrangement.instalments.get(seq=1)
        assert ledger.balance(customer) == Decimal("-200.00")  # the payment is never lost
        if arrangement.status == ArrangementStatus.ACTIVE:
            outcomes.add("payment first")
            assert arrangement.paid == Decimal("200.00") and december.met_on == date(2026, 12, 28)
        else:
            outcomes.add("run first")
            assert arrangement.status == ArrangementStatus.ENDED
            assert arrangement.end_reason == "missed_instalment"
            assert arrangement.paid == Decimal("100.00") and december.met_on is None
    print("outcomes seen:", sorted(outcomes))


def _in_debt_with_a_missed_december(frozen_late, cashier):
    frozen_late.move_to("2026-11-27 12:00 +0800")
    customer = make_customer()
    in_debt(customer, "400.00")
    arrangement = services.make_arrangement(
        customer, down_payment="100", instalments=3, first_due_on=date(2026, 12, 20)
    )
    pay(customer, "100", cashier)
    frozen_late.move_to("2026-12-28 09:00 +0800")
    return customer, arrangement


def _first_then(first, second):
    """Run ``first`` in a transaction that, once done, waits for ``second`` to start (on another
    connection, where it must queue for the locks ``first`` holds) before it commits."""
    started = threading.Event()

    def hold():
        with transaction.atomic():
            first()
            started.set()
            time.sleep(0.5)  # the other is meanwhile queued behind our locks (or not yet there)

    def follow():
        started.wait(30)
        second()

    race(hold, follow)


def test_the_payment_first_keeps_the_arrangement(frozen_late):
    cashier = make_user("cashier")
    customer, arrangement = _in_debt_with_a_missed_december(frozen_late, cashier)
    _first_then(lambda: pay(customer, "100", cashier), lambda: daily.end_broken(date(2026, 12, 28)))
    arrangement.refresh_from_db()
    assert arrangement.status == ArrangementStatus.ACTIVE and arrangement.paid == Decimal("200.00")
    assert arrangement.instalments.get(seq=1).met_on == date(2026, 12, 28)


def test_the_run_first_ends_it_and_the_payment_stays_on_the_account(frozen_late):
    cashier = make_user("cashier")
    customer, arrangement = _in_debt_with_a_missed_december(frozen_late, cashier)
    _first_then(lambda: daily.end_broken(date(2026, 12, 28)), lambda: pay(customer, "100", cashier))
    arrangement.refresh_from_db()
    assert arrangement.status == ArrangementStatus.ENDED and arrangement.paid == Decimal("100.00")
    assert arrangement.instalments.get(seq=1).met_on is None
    assert ledger.balance(customer) == Decimal("-200.00")
