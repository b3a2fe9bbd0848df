"""Parameters are read from a short-lived per-process copy; a change made here is seen at once."""

import os
import subprocess
import sys
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from gasworks.system import parameters
from gasworks.system.models import Parameter
from gasworks.system.services import set_parameters

pytestmark = pytest.mark.django_db


def test_it_reads_the_stored_values_once_for_many_gets():
    Parameter.objects.create(key="bill_due_days", value="20")
    with CaptureQueriesContext(connection) as queries:
        assert parameters.get("bill_due_days") == 20
        assert parameters.get("counter_max_amount") == Decimal("100000")
        assert parameters.get("bill_due_days") == 20
    assert len(queries) == 1


def test_a_saved_or_deleted_value_is_seen_at_once():
    assert parameters.get("bill_due_days") == 15
    set_parameters({"bill_due_days": "30"})
    assert parameters.get("bill_due_days") == 30
    Parameter.objects.get(key="bill_due_days").delete()
    assert parameters.get("bill_due_days") == 15


def test_a_value_read_inside_the_saving_transaction_is_read_again_after_commit(
    django_capture_on_commit_callbacks,
):
    assert parameters.get("bill_due_days") == 15
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Parameter.objects.create(key="bill_due_days", value="25")
        assert parameters.get("bill_due_days") == 25
    with CaptureQueriesContext(connection) as queries:
        assert parameters.get("bill_due_days") == 25
    assert len(queries) == 1  # the copy cached before the commit was dropped by it


def _cache_key(database_url: str) -> str:
    """The Redis cache key of the parameters in a process configured by the environment."""
    code = "import django; django.setup(); from django.core.cache import cache; print(cache.make_key('k'))"
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:6379/0", "DATABASE_URL": database_url}
    env.pop("CACHE_KEY_PREFIX", None)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_stations_sharing_one_redis_keep_their_cached_parameters_apart():
    one = _cache_key("postgres://gas@db:5432/station_a")
    other = _cache_key("postgres://gas@db:5432/station_b")
    assert one != other and one.startswith("station_a:")
