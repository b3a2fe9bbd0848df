"""Two staff acting on the same request at the same moment, on real PostgreSQL connections."""

import threading

import pytest
from django.db import connection

from gasworks.errors import DomainError
from gasworks.metering.models import Meter, Reading
from gasworks.service.desk import completion, services
from gasworks.service.desk.models import RequestEvent, ServiceRequest
from tests.factories import make_customer, make_user
from tests.service.desk.conftest import make_meter, started


def _race(works):
    barrier = threading.Barrier(len(works))
    results: list = []

    def run(work):
        try:
            barrier.wait()
            work()
            results.append("ok")
        except DomainError as exc:
            results.append((exc.status, exc.code))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(w,)) for w in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results, key=str)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_staff_completing_one_meter_change_swap_one_meter():
    customer = make_customer()
    old = make_meter(customer)
    first, second = make_user("meter_reader"), make_user("meter_reader")
    req = started(customer, "meter_change", first)
    copies = [ServiceRequest.objects.get(pk=req.pk) for _ in range(2)]  # both saw it in progress

    def complete(copy, by, serial):
        work = completion.Work(old_reading="131", new_serial_no=serial, new_reading="0")
        return lambda: services.complete(copy, f"swapped by {by}", by=by, work=work)

    results = _race([complete(copies[0], first, "RACE-A"), complete(copies[1], second, "RACE-B")])
    assert results == [(409, "invalid_transition"), "ok"]
    assert Meter.objects.filter(serial_no__startswith="RACE-").count() == 1
    assert Reading.objects.filter(meter=old, reason="removal").count() == 1
    assert RequestEvent.objects.filter(request=req, action="completed").count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_assigning_at_once_one_wins():
    customer = make_customer()
    one, two = make_user("dispatcher"), make_user("dispatcher")
    req = services.open_request(customer, "repair", "leaking tap", source="phone", by=one)
    copies = [ServiceRequest.objects.get(pk=req.pk) for _ in range(2)]
    results = _race(
        [
            lambda: services.assign(copies[0], one, by=one),
            lambda: services.assign(copies[1], two, by=two),
        ]
    )
    assert results == [(409, "invalid_transition"), "ok"]
    assert RequestEvent.objects.filter(request=req, action="assigned").count() == 1
    winner = ServiceRequest.objects.get(pk=req.pk).assigned_to
    assert winner in (one, two)
