"""Two clerks moving out the same account at once: one wins, the other a clear 409, one final
bill (real concurrency on PostgreSQL)."""

import threading

import pytest
import time_machine
from django.db import connection

from gasworks.billing.models import Bill
from gasworks.errors import DomainError
from gasworks.service.moveout import services
from gasworks.service.moveout.models import MoveOut
from tests.moveout.helpers import MOVE_DAY, billed_account, order


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_clerks_moving_out_one_account_make_one_final_bill(personas):
    with time_machine.travel(MOVE_DAY, tick=False):
        customer, meter = billed_account()
        barrier = threading.Barrier(2)
        results: list = []

        def clerk(value):
            try:
                barrier.wait()
                results.append(
                    services.move_out(customer, order(meter, value=value), by=personas["cashier"]).pk
                )
            except DomainError as exc:
                results.append((exc.code, exc.status))
            finally:
                connection.close()

        threads = [threading.Thread(target=clerk, args=(v,)) for v in ("1400", "1401")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    errors = [r for r in results if isinstance(r, tuple)]
    assert len(results) == 2 and errors == [("account_closed", 409)], results
    assert MoveOut.objects.count() == 1
    assert Bill.objects.filter(customer=customer, period="2026-11").count() == 1
