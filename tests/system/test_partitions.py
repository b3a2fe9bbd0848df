"""Monthly partitions of the history tables on PostgreSQL: the migration from the plain tables
keeps every row and rule, so does the one from the DEFAULT partition to the two range edges,
hot queries read only their months' partitions (newest-first reads stop at the newest month),
and the command keeps the coming months (split off the upper edge with the rows already there)
and detaches old ones by parameter."""

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
        assert {f"{READINGS}_before", f"{READINGS}_after"} <= set(names)
        assert f"{READINGS}_default" not in names
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


def where_is(reading_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {READINGS} WHERE id = %s", [reading_id])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_command_creates_coming_months_once_and_splits_them_off_the_upper_edge(capsys):
    far = this_month(8)
    meter = make_meter()
    with connection.cursor() as cursor:
        waiting = _insert_reading(cursor, meter, None, Decimal(100), local(far, 3))
    assert where_is(waiting) == f"{READINGS}_after"  # no month of its own yet: taken all the same
    call_command("partitions", "--ahead", "4")
    out = capsys.readouterr().out
    assert partitions.partition_name(READINGS, this_month(4)) in out
    assert where_is(waiting) == f"{READINGS}_after"  # beyond the months asked for: stays in the edge
    call_command("partitions", "--ahead", "8")
    assert partitions.partition_name(READINGS, far) in capsys.readouterr().out
    assert where_is(waiting) == partitions.partition_name(READINGS, far)  # moved out of the edge
    with connection.cursor() as cursor:
        names = partitions.attached(cursor, READINGS)
    wanted = {partitions.partition_name(READINGS, this_month(n)) for n in range(9)}
    assert wanted | {f"{READINGS}_before", f"{READINGS}_after"} <= set(names)
    call_command("partitions", "--ahead", "8")
    assert "created none" in capsys.readouterr().out
    with connection.cursor() as cursor:
        assert partitions.attached(cursor, READINGS) == names
    with connection.cursor() as cursor:  # after the last month, still taken: the edge again
        later = _insert_reading(cursor, meter, None, Decimal(200), local(this_month(30), 1))
    assert where_is(later) == f"{READINGS}_after"


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
    # A row of a detached month written later is still taken: the lower edge now reaches the
    # oldest month kept.
    with connection.cursor() as cursor:
        late = _insert_reading(cursor, meter, None, Decimal(90), local(old, 20))
    assert where_is(late) == f"{READINGS}_before"
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


def executed(sql: str, params=()) -> tuple[set[str], str]:
    """The history partitions a statement actually read (EXPLAIN ANALYZE: a partition the
    executor never started shows no loops), and the plan's node types. Index paths forced: with
    a test's handful of rows PostgreSQL would sort a sequential scan, which it never does for a
    meter's history at scale."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    plan = plan if not isinstance(plan, str) else json.loads(plan)
    read, kinds = set(), []

    def walk(node):
        kinds.append(node["Node Type"])
        name = node.get("Relation Name", "")
        if re.match(r"(metering_reading|billing_ledgerentry)_\w+$", name) and node.get("Actual Loops", 0) > 0:
            read.add(name)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return read, " ".join(kinds)


@pytest.mark.django_db
def test_newest_first_reads_stop_at_the_newest_month_and_month_reads_prune_to_it():
    partitions.ensure_months(READINGS, "taken_at", ahead=2, today=this_month(-4))
    meter = make_meter()
    with connection.cursor() as cursor:
        for n in (-4, -3, -2):
            _insert_reading(cursor, meter, None, Decimal(100 + n), local(this_month(n), 10))
    newest = partitions.partition_name(READINGS, this_month(-2))
    # A meter's newest reading (the VEE's and the baselines' walk): an ordered Append that the
    # executor stops in the newest month with a row, never a Merge Append over every month.
    newest_first = f"SELECT id FROM {READINGS} WHERE meter_id = %s ORDER BY taken_at DESC LIMIT 1"
    read, kinds = executed(newest_first, [meter.pk])
    assert "Merge Append" not in kinds and "Sort" not in kinds, kinds
    assert read <= {
        f"{READINGS}_after",
        newest,
        *(partitions.partition_name(READINGS, this_month(n)) for n in (-1, 0, 1, 2, 3)),
    }
    assert newest in read and partitions.partition_name(READINGS, this_month(-4)) not in read
    # A month's read: that month only, neither edge.
    month = this_month(-3)
    start, end = local(month), local(partitions.add_months(month, 1))
    month_read = f"SELECT id FROM {READINGS} WHERE taken_at >= %s AND taken_at < %s"
    assert partitions_read(month_read, [start, end]) == {partitions.partition_name(READINGS, month)}
    # Long before the first month and after the last: the edge alone.
    assert partitions_read(month_read, [local(dt.date(2001, 1, 1)), local(dt.date(2001, 2, 1))]) == {
        f"{READINGS}_before"
    }
    assert partitions_read(month_read, [local(this_month(40)), local(this_month(41))]) == {
        f"{READINGS}_after"
    }


def _where(table: str, ids) -> dict[int, str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, tableoid::regclass::text FROM {table} WHERE id = ANY(%s)", [list(ids)])
        return dict(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_the_edges_migration_moves_every_default_row_to_its_edge_and_back():
    from gasworks.billing import ledger
    from gasworks.billing.models import LedgerEntry

    customer = make_customer()
    meter, account_id = make_meter(customer), ledger.account_for(customer).pk
    past, future = dt.date(2001, 3, 1), this_month(30)
    try:
        _migrate([("metering", "0010_reading_no_use_index"), ("billing", "0014_partition_ledger")])
        with connection.cursor() as cursor:
            assert f"{READINGS}_default" in partitions.attached(cursor, READINGS)
            readings = [
                _insert_reading(cursor, meter, customer.pk, Decimal(v), local(m, 5))
                for v, m in ((10, past), (20, this_month(0)), (30, future))
            ]
            entries = [
                _insert_entry(cursor, account_id, "payment", "5.00", f"payment:edge{n}", local(m, 5))
                for n, m in enumerate((past, this_month(0), future))
            ]
            cursor.execute("SELECT key, entry_id FROM billing_ledgerkey ORDER BY key")
            keys = cursor.fetchall()
        assert set(_where(READINGS, readings).values()) == {
            f"{READINGS}_default",
            partitions.partition_name(READINGS, this_month(0)),
        }
        before = list(Reading.objects.order_by("pk").values_list("pk", "value", "taken_at"))
        money = list(LedgerEntry.objects.order_by("pk").values_list("pk", "amount", "created_at"))
        _migrate(_leaves())
        month = partitions.partition_name(READINGS, this_month(0))
        assert _where(READINGS, readings) == dict(
            zip(readings, [f"{READINGS}_before", month, f"{READINGS}_after"], strict=True)
        )
        assert _where(ENTRIES, entries) == dict(
            zip(
                entries,
                [f"{ENTRIES}_before", partitions.partition_name(ENTRIES, this_month(0)), f"{ENTRIES}_after"],
                strict=True,
            )
        )
        with connection.cursor() as cursor:
            assert f"{READINGS}_default" not in partitions.attached(cursor, READINGS)
            assert f"{ENTRIES}_default" not in partitions.attached(cursor, ENTRIES)
            cursor.execute("SELECT key, entry_id FROM billing_ledgerkey ORDER BY key")
            assert cursor.fetchall() == keys  # moved between partitions: the keys untouched
        assert list(Reading.objects.order_by("pk").values_list("pk", "value", "taken_at")) == before
        assert list(LedgerEntry.objects.order_by("pk").values_list("pk", "amount", "created_at")) == money
        # Back: the edges' rows in DEFAULT again, every one kept.
        _migrate([("metering", "0010_reading_no_use_index"), ("billing", "0014_partition_ledger")])
        assert _where(READINGS, readings)[readings[0]] == f"{READINGS}_default"
        assert _where(ENTRIES, entries)[entries[2]] == f"{ENTRIES}_default"
        assert list(Reading.objects.order_by("pk").values_list("pk", "value", "taken_at")) == before
    finally:
        _migrate(_leaves())


@pytest.mark.django_db
def test_history_written_before_the_first_month_gets_its_months_from_the_command(capsys):
    """A history imported after the migration (generate_data's year, a legacy system's) lands
    in the lower edge; the command gives each of its months a partition, up to ten years back."""
    meter = make_meter()
    with connection.cursor() as cursor:
        first = partitions.months_attached(cursor, READINGS)[0]
        history = _insert_reading(
            cursor, meter, None, Decimal(50), local(partitions.add_months(first, -5), 7)
        )
        typo = _insert_reading(cursor, meter, None, Decimal(40), local(dt.date(2001, 7, 1), 7))
    assert where_is(history) == where_is(typo) == f"{READINGS}_before"
    call_command("partitions")
    out = capsys.readouterr().out
    months = [partitions.add_months(first, n) for n in range(-5, 0)]
    assert all(partitions.partition_name(READINGS, m) in out for m in months), out
    assert where_is(history) == partitions.partition_name(READINGS, months[0])
    assert where_is(typo) == f"{READINGS}_before"  # older than ten years: stays in the edge
    call_command("partitions")
    assert "created none" in capsys.readouterr().out
