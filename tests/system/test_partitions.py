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


ENTRIES = "billing_ledgerentry"


def _insert_entry(cursor, account_id, kind, amount, key, at, reverses=None) -> int:
    cursor.execute(
        "INSERT INTO billing_ledgerentry (account_id, kind, amount, balance_after, reference,"
        " idempotency_key, reverses_id, created_at) VALUES (%s, %s, %s, 0, '', %s, %s, %s) RETURNING id",
        [account_id, kind, amount, key, reverses, at],
    )
    return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_ledger_migration_keeps_every_entry_each_key_once_and_one_reversal_per_entry():
    from gasworks.billing import ledger
    from gasworks.billing.models import LedgerEntry

    customer = make_customer()
    account_id = ledger.account_for(customer).pk
    try:
        _migrate([("billing", "0013_entry_refs_unconstrained")])
        with connection.cursor() as cursor:
            assert not partitions.is_partitioned(cursor, ENTRIES)
            charge = _insert_entry(cursor, account_id, "charge", "-50.00", "bill:1", local(this_month(-2), 3))
            paid = _insert_entry(
                cursor, account_id, "payment", "20.00", "payment:1", local(this_month(-1), 4)
            )
            _insert_entry(
                cursor, account_id, "reversal", "50.00", f"reversal:{charge}", local(this_month(0), 1), charge
            )
            _insert_entry(cursor, account_id, "adjustment", "1.00", None, local(this_month(0), 2))
        before = list(
            LedgerEntry.objects.order_by("pk").values_list(
                "pk", "kind", "amount", "idempotency_key", "reverses_id"
            )
        )
        _migrate(_leaves())
        with connection.cursor() as cursor:
            assert partitions.is_partitioned(cursor, ENTRIES)
            cursor.execute("SELECT key, entry_id FROM billing_ledgerkey ORDER BY entry_id")
            assert [key for key, _ in cursor.fetchall()] == ["bill:1", "payment:1", f"reversal:{charge}"]
        after = list(
            LedgerEntry.objects.order_by("pk").values_list(
                "pk", "kind", "amount", "idempotency_key", "reverses_id"
            )
        )
        assert after == before
        for key, reverses in [("payment:1", None), (f"reversal:{charge}", charge), ("other", charge)]:
            with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
                _insert_entry(cursor, account_id, "reversal", "5.00", key, local(this_month(1), 1), reverses)
        # The service's own idempotency finds the first entry (a lookup across the partitions).
        again = ledger.post(customer, "payment", Decimal("20.00"), idempotency_key="payment:1")
        assert again.pk == paid
        fresh = ledger.post(customer, "payment", Decimal("7.00"), idempotency_key="payment:2")
        assert fresh.pk > max(row[0] for row in before)
        assert LedgerEntry.objects.count() == len(before) + 1
    finally:
        _migrate(_leaves())


@pytest.mark.django_db
def test_hot_ledger_queries_read_only_their_months():
    from gasworks.billing import ledger
    from gasworks.billing.models import LedgerEntry
    from gasworks.reports.collections import store as collections_report

    partitions.ensure_months(ENTRIES, "created_at", ahead=3, today=this_month(-3))
    month = this_month(-1)
    customer = make_customer()
    for n, m in enumerate([this_month(-2), month, this_month(0)]):
        ledger.post(customer, "payment", Decimal(10 + n), idempotency_key=f"payment:{n}", at=local(m, 5))
    wanted = {partitions.partition_name(ENTRIES, month)}
    start, end = local(month), local(partitions.add_months(month, 1))
    # An account's entries in a date range (a statement).
    qs = LedgerEntry.objects.filter(
        account__customer_id=customer.pk, created_at__gte=start, created_at__lt=end
    )
    assert plans_of(lambda: list(qs)) == wanted
    # The collections rollup of a day: its entries (and the entries they reverse, by id).
    day = local(month, 5)
    assert plans_of(lambda: collections_report.money_rows(day, day + dt.timedelta(days=1))) >= wanted
