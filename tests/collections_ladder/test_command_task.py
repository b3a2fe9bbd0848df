"""The daily run from cron (manage.py collections_run) and from beat (the Celery task)."""

from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from gasworks.service.collections import tasks
from gasworks.service.collections.models import CollectionRun, CollectionStep
from tests.collections_ladder.helpers import NOW, overdue_bill
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_command_runs_a_day_and_says_what_it_took():
    overdue_bill(make_customer())
    out = StringIO()
    call_command("collections_run", "--as-of", "2026-10-20", stdout=out)
    assert out.getvalue().strip() == "1 reminders, 0 final notices, 0 disconnection orders"
    assert CollectionStep.objects.get().created_on.isoformat() == "2026-10-20"


def test_the_command_refuses_a_bad_day():
    with pytest.raises(CommandError):
        call_command("collections_run", "--as-of", "20-10-2026")
    assert not CollectionRun.objects.exists()


def test_the_beat_task_runs_today():
    overdue_bill(make_customer())
    assert tasks.daily_collections.delay().get() == {
        "reminders": 1,
        "final_notices": 0,
        "disconnection_orders": 0,
    }
    assert CollectionRun.objects.get().as_of == NOW.date()
