"""A payment that clears the debt while the run takes a step for the same account, on
PostgreSQL with real connections: either the step is never taken or it is cancelled, never left
open. Each order of the two is forced (the other side is held inside its transaction while the
first goes on), so the test fails every time when the run takes its steps without the accounts'
lock. And two runs at once take each step once."""

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import connection

from gasworks.payments import services as payments
from gasworks.service.collections import services, store
from gasworks.service.collections.models import CollectionStep
from tests.collections_ladder.helpers import NOW, overdue_bill
from tests.factories import make_customer, make_user

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
REMIND_ON, FINAL_ON = date(2026, 10, 20), date(2026, 11, 4)
HOLD = 0.6  # seconds a side is held inside its transaction while the other goes on


def _thread(work, errors):
    def run():
        try:
            work()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    return threading.Thread(target=run)


def _ready():
    customer, cashier = make_customer(), make_user("cashier")
    overdue_bill(customer, "300.00")
    services.run(REMIND_ON)
    return customer, cashier


def _open_final_notices(customer) -> list:
    return list(
        CollectionStep.objects.filter(customer=customer, step="final_notice").values_list("status", "live")
    )


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=True):
        yield


def _crossed(monkeypatch, module, name: str, first, second) -> None:
    """Run ``first`` in a thread; when it has called ``module.name`` it is held there, inside its
    transaction, while ``second`` runs in another thread."""
    reached = threading.Event()
    original = getattr(module, name)

    def held(*args, **kwargs):
        answer = original(*args, **kwargs)
        reached.set()
        time.sleep(HOLD)
        return answer

    monkeypatch.setattr(module, name, held)
    errors: list = []

    def then():
        reached.wait(10)
        second()

    threads = [_thread(first, errors), _thread(then, errors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors


def _pay(customer, cashier):
    return lambda: payments.take_counter_payment(customer, Decimal("300.00"), "cash", cashier)


def test_a_payment_arriving_while_the_run_holds_its_new_step_cancels_it(monkeypatch):
    customer, cashier = _ready()
    # The step is written, not committed, when the payment comes.
    _crossed(monkeypatch, store, "take_steps", lambda: services.run(FINAL_ON), _pay(customer, cashier))
    assert _open_final_notices(customer) == [("cancelled", False)]


def test_a_run_reaching_an_account_a_payment_holds_takes_no_step(monkeypatch):
    customer, cashier = _ready()
    # The payment is posted, not committed, when the run comes.
    _crossed(monkeypatch, services, "settle", _pay(customer, cashier), lambda: services.run(FINAL_ON))
    assert _open_final_notices(customer) == []
    assert set(CollectionStep.objects.filter(customer=customer).values_list("status", flat=True)) == {
        "cancelled"
    }


def test_two_runs_at_once_take_each_step_once():
    customers = [make_customer() for _ in range(30)]
    for customer in customers:
        overdue_bill(customer)
    barrier = threading.Barrier(3)
    answers: list = []
    errors: list = []

    def run():
        barrier.wait()
        answers.append(services.run(REMIND_ON, chunk=7))

    threads = [_thread(run, errors) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(a["reminders"] for a in answers) == 30
    assert CollectionStep.objects.count() == 30
