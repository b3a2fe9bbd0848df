"""Monthly partitions of the history tables on PostgreSQL: the migration from the plain tables
keeps every row and rule, hot queries read only their months' partitions, and the command keeps
the coming months (moving rows that waited in DEFAULT) and detaches old ones by parameter."""

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gasworks.billing import store as billing_store
from gasworks.billing.periods import Period
from gasworks.lib import partitions
from gasworks.metering import billable
from gasworks.metering.models import Reading
from gasworks.reports.reading import store as reading_report
from gasworks.system.services import set_parameters
from tests.factories import make_customer
from tests.metering.helpers import make_meter

READINGS = "metering_reading"
pytestmark = pytest.mark.postgres_only


def local(month: dt.date, day: int = 1, hour: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(month.year, month.month, day, hour))


def this_month(offset: int = 0) -> dt.date:
    return partitions.add_months(partitions.month_start(timezone.localdate()), offset)


def partitions_read(sql: str, params=()) -> set[str]:
    """The partitions of the history tables a statement's plan reads."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    text = json.dumps(plan if not isinstance(plan, str) else json.loads(plan))
    return set(re.findall(r'"Relation Name": "((?:metering_reading|billing_ledgerentry)_\w+)"', text))


def plans_of(action) -> set[str]:
    """The partitions read by every statement ``action`` runs (each EXPLAINed as it was sent)."""
    with CaptureQueriesContext(connection) as queries:
        action()
    touched: set[str] = set()
    for query in queries.captured_queries:
        sql = query["sql"]
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            touched |= partitions_read(sql)
    return touched


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _insert_reading(cursor, meter, customer_id, value, taken_at) -> int:
    cursor.execute(
        "INSERT INTO metering_reading (meter_id, customer_id, value, taken_at, reason, status, flags,"
        " consumption, created_at, source, note) VALUES (%s, %s, %s, %s, 'periodic', 'accepted', '[]',"
        " NULL, %s, 'import', '') RETURNING id",
        [meter.pk, customer_id, value, taken_at, taken_at],
    )
    return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_readings_migration_keeps_every_row_and_the_one_reading_per_meter_and_time_rule():
    customer = make_customer()
    meter, customer_id = make_meter(customer), customer.pk
    months = [this_month(-2), this_month(-1), this_month(0)]
    try:
        _migrate([("metering", "0008_reading_refs_unconstrained")])
        with connection.cursor() as cursor:
            assert not partitions.is_partitioned(cursor, READINGS)
            ids = [
                _insert_reading(cursor, meter, customer_id, Decimal(100 + n), local(month, 15, 9))
                for n, month in enumerate(months)
            ]
            before = list(Reading.objects.order_by("pk").values_list("pk", "meter_id", "value", "taken_at"))
        _migrate(_leaves())
        with connection.cursor() as cursor:
            assert partitions.is_partitioned(cursor, READINGS)
            names = partitions.attached(cursor, READINGS)
        assert {partitions.partition_name(READINGS, m) for m in months} <= set(names)
        assert f"{READINGS}_default" in names
        assert (
            list(Reading.objects.order_by("pk").values_list("pk", "meter_id", "value", "taken_at")) == before
        )
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            _insert_reading(cursor, meter, customer_id, Decimal(500), local(months[1], 15, 9))
        with connection.cursor() as cursor:  # the sequence goes on after the copied ids
            assert _insert_reading(cursor, meter, customer_id, Decimal(600), local(months[2], 20)) > max(ids)
    finally:
        _migrate(_leaves())


@pytest.mark.django_db
def test_hot_reading_queries_read_only_their_months():
    partitions.ensure_months(READINGS, "taken_at", ahead=3, today=this_month(-3))
    month = this_month(-1)
    period = Period(f"{month:%Y-%m}", month, partitions.add_months(month, 1))
    customer = make_customer()
    meter, customer_id = make_meter(customer), customer.pk
    Reading.objects.bulk_create(
        Reading(meter=meter, customer_id=customer_id, value=Decimal(100 + n), taken_at=local(m, 10))
        for n, m in enumerate([this_month(-2), month, this_month(0)])
    )
    wanted = {partitions.partition_name(READINGS, month)}
    # A customer's readings of a period.
    qs = billable.readings(period.start_at, period.end_at).filter(customer_id=customer_id)
    assert plans_of(lambda: list(qs)) == wanted
    # A report's day (the rollup's refresh of one local day).
    assert plans_of(lambda: reading_report.reading_day_rows(month.replace(day=10))) == wanted
    # The billing run's chunk: the period's readings (older months only through prepaid charges'
    # readings of the tariff year, read by their id).
    touched = plans_of(lambda: billing_store.read_chunk(period, customer_id, customer_id, False))
    assert wanted <= touched
    assert partitions.partition_name(READINGS, this_month(0)) not in touched


@pytest.mark.django_db
def test_the_command_creates_coming_months_once_and_moves_rows_out_of_default(capsys):
    far = this_month(8)
    meter = make_meter()
    with connection.cursor() as cursor:
        waiting = _insert_reading(cursor, meter, None, Decimal(100), local(far, 3))
        cursor.execute(f"SELECT tableoid::regclass::text FROM {READINGS} WHERE id = %s", [waiting])
        assert cursor.fetchone() == (f"{READINGS}_default",)
    call_command("partitions", "--ahead", "4")
    out = capsys.readouterr().out
    assert partitions.partition_name(READINGS, this_month(4)) in out
    assert partitions.partition_name(READINGS, far) in out
    with connection.cursor() as cursor:
        names = partitions.attached(cursor, READINGS)
        cursor.execute(f"SELECT tableoid::regclass::text FROM {READINGS} WHERE id = %s", [waiting])
        assert cursor.fetchone() == (partitions.partition_name(READINGS, far),)
    assert partitions.partition_name(READINGS, this_month(4)) in names
    call_command("partitions", "--ahead", "4")
    assert "created none" in capsys.readouterr().out
    with connection.cursor() as cursor:
        assert partitions.attached(cursor, READINGS) == names


@pytest.mark.django_db
def test_old_months_are_detached_by_parameter_and_kept_as_tables(capsys):
    old = this_month(-14)
    partitions.ensure_months(READINGS, "taken_at", ahead=15, today=old)
    meter = make_meter()
    with connection.cursor() as cursor:
        kept = _insert_reading(cursor, meter, None, Decimal(100), local(old, 5))
    call_command("partitions")  # the parameter's default: never detach
    with connection.cursor() as cursor:
        assert partitions.partition_name(READINGS, old) in partitions.attached(cursor, READINGS)
    set_parameters({"partitions_keep_months": "12"})
    call_command("partitions")
    out = capsys.readouterr().out
    name = partitions.partition_name(READINGS, old)
    assert f"detached now {name}" in out
    with connection.cursor() as cursor:
        assert name not in partitions.attached(cursor, READINGS)
        assert partitions.partition_name(READINGS, this_month(-12)) in partitions.attached(cursor, READINGS)
        assert name in partitions.detached(cursor, READINGS)
        cursor.execute(f"SELECT id FROM {name}")  # the row is kept, out of the table
        assert cursor.fetchall() == [(kept,)]
    assert not Reading.objects.filter(pk=kept).exists()
    # A detached month is never re-created behind the kept table's back.
    with pytest.raises(ValueError, match="detached"):
        partitions.ensure_months(READINGS, "taken_at", ahead=0, today=old)


def test_the_command_refuses_a_negative_number_of_months():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("partitions", "--ahead", "-1")
