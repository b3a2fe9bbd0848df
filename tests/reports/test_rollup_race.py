"""Two refreshes of one rollup at once (a Celery task redelivered beside the run still going,
the nightly refresh beside a billing run's), on PostgreSQL with real connections: the first is
held inside a key's transaction, its rows deleted and inserted and not committed, while the
second refreshes the same key. The second waits at the rollup's lock, so the key ends with its
rows once: no duplicate, no unique-key error."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection

from gasworks.reports import rollups
from gasworks.reports.safety.models import SafetyInspectionDay

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
DAY = dt.date(2026, 11, 2)


@pytest.fixture
def held_rollup():
    """A rollup of one key whose first rebuild is held (0.6 s) after its delete and insert."""
    holding = threading.Event()

    def rebuild(keys):
        SafetyInspectionDay.objects.filter(day__in=keys, district="race").delete()
        SafetyInspectionDay.objects.bulk_create(
            [SafetyInspectionDay(day=k, district="race", due=1) for k in keys]
        )
        if not holding.is_set():
            holding.set()
            time.sleep(0.6)

    rollup = rollups.register(rollups.Rollup("race-test", lambda since: {DAY}, rebuild, lambda: [DAY]))
    yield rollup, holding
    rollups.ROLLUPS.pop(rollup.name)


def test_two_refreshes_at_once_rebuild_a_key_once(held_rollup):
    _rollup, holding = held_rollup
    errors: list[Exception] = []

    def refresh():
        try:
            rollups.refresh(["race-test"], full=True)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=refresh)
    first.start()
    assert holding.wait(10)
    second = threading.Thread(target=refresh)
    second.start()
    first.join(20), second.join(20)
    assert errors == []
    assert list(SafetyInspectionDay.objects.filter(district="race").values_list("day", "due")) == [(DAY, 1)]
