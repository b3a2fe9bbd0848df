import threading
from decimal import Decimal

import pytest
from django.db import connection

from gasworks.cylinders import services
from gasworks.cylinders.models import Filling
from gasworks.errors import DomainError
from tests.cylinders.helpers import make_cylinder


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_fills_a_cylinder_once_when_two_fillers_race():
    cylinder = make_cylinder()
    barrier = threading.Barrier(4)
    results: list = []

    def fill():
        try:
            barrier.wait()
            services.record_filling(cylinder.code, Decimal("29.000"))
            results.append("filled")
        except DomainError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=fill) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["filled", "wrong_status", "wrong_status", "wrong_status"]
    assert Filling.objects.filter(cylinder=cylinder).count() == 1


def _race(n, work):
    barrier = threading.Barrier(n)
    results: list = []

    def run():
        try:
            barrier.wait()
            results.append(work())
        except DomainError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_delivers_and_charges_once_when_a_delivery_is_submitted_twice_at_once():
    from gasworks.billing.models import LedgerEntry
    from gasworks.cylinders import orders
    from tests.cylinders.helpers import loaded
    from tests.factories import make_customer

    order, _fulls = loaded(make_customer(), 2)
    results = _race(3, lambda: orders.deliver(order).status)
    assert sorted(results) == ["already_delivered", "already_delivered", "delivered"]
    assert LedgerEntry.objects.filter(kind="lpg_sale").count() == 1
    assert LedgerEntry.objects.filter(kind="deposit").count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_refunds_deposits_once_when_returns_race():
    from gasworks.billing import ledger
    from gasworks.cylinders import deposits
    from gasworks.cylinders.models import CylinderReturn
    from tests.cylinders.helpers import delivered
    from tests.factories import make_customer

    customer = make_customer()
    _order, (a, b) = delivered(customer, 2)
    # The same request twice (one key) and a second cylinder under its own key at the same time.
    jobs = iter([("k-1", a.code), ("k-1", a.code), ("k-2", b.code)])
    lock = threading.Lock()

    def work():
        with lock:
            key, code = next(jobs)
        made, created = deposits.return_for_good(customer, [code], key)
        return (made.idempotency_key, created)

    results = _race(3, work)
    assert sorted(results) == [("k-1", False), ("k-1", True), ("k-2", True)]
    assert CylinderReturn.objects.count() == 2
    assert ledger.balance(customer) == Decimal("-220.00")  # both deposits back, once each
