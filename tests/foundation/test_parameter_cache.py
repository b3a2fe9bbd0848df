"""Parameters are read from a short-lived per-process copy; a change made here is seen at once."""

from decimal import Decimal

import pytest
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
