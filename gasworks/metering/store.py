"""Set-based reading storage shared by the batch paths (device ingest, file import, demo data).

Every function costs one statement whatever the number of meters or readings: the VEE state of
many meters (``baselines``), which (meter, time) pairs are already stored (``existing``), the
accounts billed at many premises (``billing_customers``) and the write itself (``write``: COPY
on PostgreSQL, bulk_create elsewhere). Readings travel as plain tuples in ``COLUMNS`` order, so
the hot paths never build a model instance per reading.
"""

import datetime as dt
import json
import queue
import sys
import threading
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import F, Max, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from gasworks.customers.models import Customer
from gasworks.customers.models import Status as CustomerStatus
from gasworks.lib.dates import start_of_day
from gasworks.lib.db import COPY_NULL, array_literal, copy_rows, copy_text
from gasworks.lib.events import publish
from gasworks.metering import events, vee
from gasworks.metering.models import (
    BILLABLE_STATUSES,
    DeviceKey,
    Meter,
    MeterKind,
    Reading,
    ReadingStatus,
)

# A stored reading, in this order (pressure and temperature stay empty on the batch paths).
COLUMNS = (
    "meter_id",
    "customer_id",
    "value",
    "taken_at",
    "reason",
    "status",
    "flags",
    "consumption",
    "corrected_consumption",
    "created_at",
    "source",
    "seq",
    "note",
)
# The statuses a part skips. Written as "status <> ALL(...)" the filter cannot use the
# (status, taken_at) index, so PostgreSQL always walks (meter_id, taken_at) backwards and stops
# after LIMIT rows; "status = ANY(billable)" let stale statistics pick a scan of every billable
# reading of the table per meter (seconds for a batch).
_NOT_BILLABLE = [s for s in ReadingStatus.values if s not in BILLABLE_STATUSES]
_NOT_REAL = [*_NOT_BILLABLE, str(ReadingStatus.ESTIMATED)]


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


start_of = start_of_day  # midnight starting a day (gasworks.lib.dates): one definition

# ---------------------------------------------------------------- baselines

# One row per meter. h: its newest %(size)s billable readings: how many, the newest one's value
# and status, and every one's time and volume, newest first (the usual rate); l: the newest
# reading of any status but rejected; m: the newest billable one with a non-zero volume; r: the
# newest billable one that is not an estimate. Each part walks the (meter, taken_at) index
# backwards from the end, so the cost does not grow with a meter's history.
_BASELINE_SQL = """
SELECT m.id, h.n, h.value, h.status, h.times, h.volumes, l.value, l.taken_at, mv.taken_at, r.value
  FROM unnest(%(ids)s::bigint[]) AS m(id)
  CROSS JOIN LATERAL (
    SELECT count(*) AS n, (array_agg(value ORDER BY taken_at DESC))[1] AS value,
           (array_agg(status ORDER BY taken_at DESC))[1] AS status,
           array_agg(taken_at ORDER BY taken_at DESC) AS times,
           array_agg(consumption ORDER BY taken_at DESC) AS volumes
      FROM (SELECT value, taken_at, status, consumption FROM metering_reading
             WHERE meter_id = m.id AND status <> ALL(%(not_billable)s) {before}
             ORDER BY taken_at DESC LIMIT %(size)s) x) h
  LEFT JOIN LATERAL (
    SELECT value, taken_at FROM metering_reading
     WHERE meter_id = m.id AND status <> 'rejected' ORDER BY taken_at DESC LIMIT 1) l ON true
  LEFT JOIN LATERAL (
    SELECT taken_at FROM metering_reading
     WHERE meter_id = m.id AND status <> ALL(%(not_billable)s) AND consumption <> 0 {before}
     ORDER BY taken_at DESC LIMIT 1) mv ON true
  LEFT JOIN LATERAL (
    SELECT value FROM metering_reading
     WHERE meter_id = m.id AND status <> ALL(%(not_real)s) {before}
     ORDER BY taken_at DESC LIMIT 1) r ON true
"""


# The common case (the batch paths, as of now): one index walk per meter fetches its newest
# readings of any status, and Python picks the four parts out of them. Three times cheaper for
# the server than _BASELINE_SQL; a meter whose parts are not all within the window (a long run
# of flagged or zero readings) is read again with _BASELINE_SQL.
_WINDOW_SQL = """
SELECT m.id, w.values, w.times, w.statuses, w.volumes
  FROM unnest(%(ids)s::bigint[]) AS m(id)
  CROSS JOIN LATERAL (
    SELECT array_agg(value ORDER BY taken_at DESC) AS values,
           array_agg(taken_at ORDER BY taken_at DESC) AS times,
           array_agg(status ORDER BY taken_at DESC) AS statuses,
           array_agg(consumption ORDER BY taken_at DESC) AS volumes
      FROM (SELECT value, taken_at, status, consumption FROM metering_reading
             WHERE meter_id = m.id ORDER BY taken_at DESC LIMIT %(window)s) x) w
"""
_BILLABLE = frozenset(str(s) for s in BILLABLE_STATUSES)
_REJECTED, _ESTIMATED = str(ReadingStatus.REJECTED), str(ReadingStatus.ESTIMATED)


def _state_from_window(meter_id, values, times, statuses, volumes, size: int, window: int):
    """The _BASELINE_SQL row of a meter from its newest readings (newest first), or None when
    the window may not hold every part."""
    if values is None:  # no readings at all
        return (meter_id, 0, None, None, [], [], None, None, None, None)
    full = len(values) == window
    every_billable = [i for i, status in enumerate(statuses) if status in _BILLABLE]
    billable = every_billable[:size]
    latest = next((i for i, status in enumerate(statuses) if status != _REJECTED), None)
    # The last move and the last real value may lie beyond the newest `size` billable readings,
    # as in the full query: look through every billable reading in the window.
    moved = next((i for i in every_billable if volumes[i]), None)  # not None and not zero
    real = next((i for i in every_billable if statuses[i] != _ESTIMATED), None)
    if full and (len(billable) < size or latest is None or moved is None or real is None):
        return None
    first = billable[0] if billable else None
    return (
        meter_id,
        len(billable),
        None if first is None else values[first],
        None if first is None else statuses[first],
        [times[i] for i in billable],
        [volumes[i] for i in billable],
        None if latest is None else values[latest],
        None if latest is None else times[latest],
        None if moved is None else times[moved],
        None if real is None else values[real],
    )


def _full_states(ids: list[int], size: int, before: dt.datetime | None) -> list[tuple]:
    sql = _BASELINE_SQL.format(before="AND taken_at < %(before)s" if before is not None else "")
    params: dict[str, Any] = {
        "ids": array_literal(ids),
        "not_billable": _NOT_BILLABLE,
        "not_real": _NOT_REAL,
        "size": size,
        "before": before,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _state_rows(ids: list[int], size: int, before: dt.datetime | None) -> list[tuple]:
    """(meter_id, n, value, status, times, volumes, latest_value, latest_at, moved_at,
    real_value) per meter, see _BASELINE_SQL."""
    if _is_postgres():
        if before is not None:
            return _full_states(ids, size, before)
        window, out, again = size + 4, [], []
        with connection.cursor() as cursor:
            cursor.execute(_WINDOW_SQL, {"ids": array_literal(ids), "window": window})
            for row in cursor.fetchall():
                meter_id, values, times, statuses, volumes = row
                state = _state_from_window(meter_id, values, times, statuses, volumes, size, window)
                if state is None:
                    again.append(row[0])
                else:
                    out.append(state)
        return out + _full_states(again, size, None) if again else out
    # Elsewhere (SQLite in tests): the same figures from window queries.
    live = Reading.objects.filter(meter_id__any=ids)
    billable = live.filter(status__in=BILLABLE_STATUSES)
    if before is not None:
        billable = billable.filter(taken_at__lt=before)
    newest = Window(RowNumber(), partition_by=[F("meter_id")], order_by=F("taken_at").desc())
    history: dict[int, list] = defaultdict(list)
    for meter_id, *row in (
        billable.annotate(rank=newest)
        .filter(rank__lte=size)
        .values_list("meter_id", "value", "taken_at", "status", "consumption")
    ):
        history[meter_id].append(row)
    latest = {
        meter_id: (value, at)
        for meter_id, value, at in live.exclude(status=ReadingStatus.REJECTED)
        .annotate(rank=newest)
        .filter(rank=1)
        .values_list("meter_id", "value", "taken_at")
    }
    moved = dict(
        billable.exclude(Q(consumption=0) | Q(consumption=None))
        .values("meter_id")
        .annotate(at=Max("taken_at"))
        .values_list("meter_id", "at")
    )
    real = dict(
        billable.exclude(status=ReadingStatus.ESTIMATED)
        .annotate(rank=newest)
        .filter(rank=1)
        .values_list("meter_id", "value")
    )
    out = []
    for meter_id in ids:
        rows = sorted(history.get(meter_id, ()), key=lambda r: r[1], reverse=True)
        value, status = rows[0][0::2] if rows else (None, None)
        out.append(
            (meter_id, len(rows), value, status, [r[1] for r in rows], [r[3] for r in rows],
             *latest.get(meter_id, (None, None)), moved.get(meter_id), real.get(meter_id))
        )  # fmt: skip
    return out


def baselines(meters: Iterable, general: vee.Thresholds, before: dt.datetime | None = None) -> dict:
    """vee.Baseline of each meter (as of now, or of the billable chain before ``before``), in
    one query whatever the number of meters. ``meters`` need pk, installed_on, initial_reading."""
    meters = {m.pk: m for m in meters}
    if not meters:
        return {}
    out = {}
    tz = timezone.get_current_timezone()
    keep = general.history_size + 1
    for row in _state_rows(list(meters), keep, before):
        meter_id, n, value, status, times, volumes, latest_value, latest_at, moved_at, real_value = row
        meter = meters[meter_id]
        installed_at = start_of_day(meter.installed_on, tz)
        if not n:
            base = vee.Baseline(meter.initial_reading, installed_at, real_value=meter.initial_reading)
        else:
            base = vee.Baseline(value, times[0], status == ReadingStatus.ESTIMATED)
            base.real_value = meter.initial_reading if real_value is None else real_value
            base.history = list(zip(times, volumes, strict=True))
            base.rate_per_hour = vee.usual_rate(base.history)
        base.keep = keep
        if latest_at is not None:
            base.latest_value, base.latest_at = latest_value, latest_at
        base.last_change_at = moved_at or installed_at
        out[meter_id] = base
    return out


# ---------------------------------------------------------------- lookups


def newest_times(ids: Iterable[int]) -> dict[int, dt.datetime]:
    """meter id -> time of its newest stored reading of any status (meters with none left out)."""
    ids = list(set(ids))
    if not ids:
        return {}
    if _is_postgres():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT m.id, x.taken_at FROM unnest(%s::bigint[]) AS m(id) CROSS JOIN LATERAL ("
                " SELECT taken_at FROM metering_reading WHERE meter_id = m.id"
                " ORDER BY taken_at DESC LIMIT 1) x",
                [array_literal(ids)],
            )
            return dict(cursor.fetchall())
    rows = Reading.objects.filter(meter_id__any=ids).values("meter_id").annotate(at=Max("taken_at"))
    return {row["meter_id"]: row["at"] for row in rows}


def existing(pairs: Iterable[tuple[int, dt.datetime]]) -> dict[tuple[int, dt.datetime], Decimal]:
    """Stored readings (any status) at the given (meter id, time) pairs: pair -> value.

    New readings usually come after everything a meter holds, so each meter's newest time
    (one index step per meter) rules most pairs out; only the rest are looked up exactly."""
    pairs = set(pairs)
    if not pairs:
        return {}
    newest = newest_times(p[0] for p in pairs)
    pairs = [p for p in pairs if p[0] in newest and p[1] <= newest[p[0]]]
    if not pairs:
        return {}
    if _is_postgres():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT r.meter_id, r.taken_at, r.value FROM metering_reading r"
                " JOIN unnest(%s::bigint[], %s::timestamptz[]) AS k(meter_id, taken_at)"
                " ON r.meter_id = k.meter_id AND r.taken_at = k.taken_at",
                [array_literal(p[0] for p in pairs), array_literal(p[1] for p in pairs)],
            )
            return {(m, at): value for m, at, value in cursor.fetchall()}
    wanted = set(pairs)
    rows = Reading.objects.filter(
        meter_id__any={p[0] for p in pairs},
        taken_at__gte=min(p[1] for p in pairs),
        taken_at__lte=max(p[1] for p in pairs),
    ).values_list("meter_id", "taken_at", "value")
    return {(m, at): value for m, at, value in rows if (m, at) in wanted}


def reading_ids(pairs: Iterable[tuple[int, dt.datetime]]) -> dict[tuple[int, dt.datetime], int]:
    """Primary keys of the readings at (meter id, time) pairs (readings written by COPY)."""
    pairs = list(set(pairs))
    if not pairs:
        return {}
    found = {}
    for start in range(0, len(pairs), 200):
        query = Q()
        for meter_id, at in pairs[start : start + 200]:
            query |= Q(meter_id=meter_id, taken_at=at)
        for pk, meter_id, at in Reading.objects.filter(query).values_list("pk", "meter_id", "taken_at"):
            found[(meter_id, at)] = pk
    return found


class MeterState(NamedTuple):
    """What the batch paths need of a meter: a model instance costs ten times more to build,
    which matters for a file with a reading for each of 100,000 meters."""

    pk: int
    serial_no: str
    status: str
    premises_id: int | None
    digits: int
    installed_on: dt.date
    initial_reading: Decimal
    max_flow_m3h: Decimal
    spike_factor: Decimal | None
    correction_factor: Decimal | None
    kind: str

    @property
    def is_supply(self) -> bool:  # a supply meter: no premises, readings bill nobody
        return self.kind == MeterKind.DISTRICT


def meters_by_serial(serials: Iterable[str], lock: bool = False) -> dict[str, MeterState]:
    """serial number -> MeterState of the meters with these serials; ``lock`` takes their row
    locks in primary-key order (as record_reading's lock, so writers never deadlock)."""
    meters = Meter.objects.filter(serial_no__any=set(serials)).order_by("pk")
    if lock:
        meters = meters.select_for_update()
    return {m.serial_no: m for m in map(MeterState._make, meters.values_list(*_METER_FIELDS))}


_METER_FIELDS = ("pk", *MeterState._fields[1:])


def billing_customers(premises_ids: Iterable[int | None]) -> dict[int, int]:
    """premises id -> id of the account billed there (newest not closed)."""
    found: dict[int, int] = {}
    wanted = {pk for pk in premises_ids if pk is not None}  # supply meters have no premises
    if not wanted:
        return found
    rows = (
        Customer.objects.filter(premises_id__any=wanted)
        .exclude(status=CustomerStatus.CLOSED)
        .order_by("premises_id", "-opened_on", "-pk")
        .values_list("premises_id", "pk")
    )
    for premises_id, pk in rows:
        found.setdefault(premises_id, pk)
    return found


# ---------------------------------------------------------------- writing


def _copy_lines(rows: list[tuple]) -> str:
    """Rows in COPY text format. Formatting each line directly is about twice as fast as
    Copy.write_row. Strings are escaped (once per distinct value: a batch has a handful of
    reasons, statuses and notes); numbers and ISO times need no escaping."""
    escaped: dict[str, str] = {}
    flag_texts: dict[tuple, str] = {}
    created_for, created_text = None, ""
    lines = []
    for m, c, v, at, reason, status, flags, cons, corr, created, source, seq, note in rows:
        texts = []
        for text in (reason, status, source, note):
            found = escaped.get(text)
            if found is None:
                found = escaped[text] = copy_text(text)
            texts.append(found)
        if flags:
            key = tuple(flags)
            flag_text = flag_texts.get(key)
            if flag_text is None:
                flag_text = flag_texts[key] = copy_text(json.dumps(flags))
        else:
            flag_text = "[]"
        if created is not created_for:
            created_for, created_text = created, created.isoformat()
        lines.append(
            f"{m}\t{COPY_NULL if c is None else c}\t{v}\t{at.isoformat()}\t{texts[0]}\t{texts[1]}\t{flag_text}\t"
            f"{COPY_NULL if cons is None else cons}\t{COPY_NULL if corr is None else corr}\t{created_text}\t"
            f"{texts[2]}\t{COPY_NULL if seq is None else seq}\t{texts[3]}\n"
        )
    return "".join(lines)


class Writer:
    """Readings written as they are produced. On PostgreSQL a large batch streams out in chunks
    of COPY from a second thread, so the server stores and checks one chunk while Python
    validates the next: two cores at work instead of one after the other. The foreign keys of
    those chunks are checked at the end of each COPY (SET CONSTRAINTS ... IMMEDIATE) instead of
    all together at commit, so that work overlaps too (it is four tenths of the server's share).
    A batch smaller than a chunk is one COPY in this thread. Elsewhere rows are collected and
    bulk-created on close. Use inside the caller's transaction; run no other query while open."""

    # Measured on 2 cores (bench_metering, 120,000 readings): 8,000-row chunks stored 71k/s
    # against 61k/s for 2,000 (fewer COPY round trips and end-of-statement waits).
    CHUNK = 8000
    QUEUED = 3  # chunks waiting for the sender at most (about 1 MB of text each)

    def __init__(self):
        self.rows: list[tuple] = []
        self.flagged: list[events.FlaggedReading] = []
        self.count = 0
        self.customers: set[int] = set()
        self._sender: _Sender | None = None

    def __enter__(self) -> "Writer":
        return self

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        self.customers.add(row[1])  # COLUMNS[1] is customer_id
        if row[5] == ReadingStatus.FLAGGED:  # COLUMNS[5] is status, [6] flags
            self.flagged.append(events.FlaggedReading(row[0], row[1], row[3], tuple(row[6] or ())))
        self.count += 1
        if len(self.rows) >= self.CHUNK and _is_postgres():
            if self._sender is None:
                self._sender = _Sender(self.QUEUED)
            self._sender.send(_copy_lines(self.rows))
            self.rows = []

    def __exit__(self, *exc) -> None:
        rows, self.rows = self.rows, []
        if self._sender is not None:
            self._sender.close(rows if exc[0] is None else None)
        elif exc[0] is None and rows:
            if _is_postgres():
                with connection.wrap_database_errors:
                    _copy(_raw(), _copy_lines(rows))
            else:
                _bulk_create_keeping_past_times(rows)
        if exc[0] is None:
            stored = events.stored(self.customers)
            if stored is not None:
                publish(stored)
            if self.flagged:
                publish(events.ReadingsFlagged(tuple(self.flagged)))


def _bulk_create_keeping_past_times(rows: list[tuple]) -> None:
    """bulk_create stamps the auto_now_add created_at with now, where COPY keeps the given
    time: a time given from the past (generated history, recorded near when it was taken) is
    written back, so SQLite holds what PostgreSQL does. Live writers give now: no second write."""
    made = [Reading(**dict(zip(COLUMNS, row, strict=True))) for row in rows]
    given = [reading.created_at for reading in made]
    Reading.objects.bulk_create(made, batch_size=2000)
    past = []
    for reading, at in zip(made, given, strict=True):
        if at is not None and at < reading.created_at - dt.timedelta(minutes=1):
            reading.created_at = at
            past.append(reading)
    if past:
        Reading.objects.bulk_update(past, ["created_at"], batch_size=2000)


_COPY_SQL = f"COPY metering_reading ({', '.join(COLUMNS)}) FROM STDIN"


def _raw():
    """The psycopg connection under Django's (open, inside the caller's transaction)."""
    connection.ensure_connection()
    return connection.connection


def _copy(raw, text: str) -> None:
    with raw.cursor() as cursor, cursor.copy(_COPY_SQL) as copy:
        copy.write(text)


_fk_names: list[str] = []


def _foreign_keys() -> str:
    """The reading table's foreign-key constraint names, quoted for SET CONSTRAINTS."""
    if not _fk_names:
        with connection.cursor() as cursor:
            found = connection.introspection.get_constraints(cursor, Reading._meta.db_table)
        _fk_names.extend(sorted(name for name, c in found.items() if c["foreign_key"]))
    return ", ".join(connection.ops.quote_name(name) for name in _fk_names)


class _Sender:
    """A thread that COPYs text chunks over the transaction's connection (psycopg connections
    may be shared between threads; Django's wrapper is bypassed, the transaction is the same).
    The first error stops it and is raised in the producer at its next send or at close."""

    # While it streams, threads take turns every millisecond instead of Python's 5: the sender
    # wakes from each socket wait and needs the GIL for a moment to hand the server more work,
    # and otherwise waits for the producer's whole slice (store 71k -> 76k readings/s).
    SWITCH_SECONDS = 0.001

    def __init__(self, queued: int):
        self.switch = sys.getswitchinterval()
        sys.setswitchinterval(min(self.switch, self.SWITCH_SECONDS))
        self.raw = _raw()
        self.fks = _foreign_keys()
        with self.raw.cursor() as cursor:
            cursor.execute(f"SET CONSTRAINTS {self.fks} IMMEDIATE")
        self.queue: queue.Queue = queue.Queue(maxsize=queued)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="reading-copy", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (text := self.queue.get()) is not None:
            if self.error is None:
                try:
                    _copy(self.raw, text)
                except BaseException as exc:  # handed to the producer thread
                    self.error = exc

    def send(self, text: str) -> None:
        if self.error is not None:
            self.close(None)
        self.queue.put(text)

    def close(self, rows: list[tuple] | None) -> None:
        """Send the last rows (None: abandon the rest), wait for the thread, raise its error."""
        if self.thread.is_alive():
            if rows and self.error is None:
                self.queue.put(_copy_lines(rows))
            self.queue.put(None)
            self.thread.join()
        sys.setswitchinterval(self.switch)
        if self.error is not None:
            error, self.error = self.error, None
            with connection.wrap_database_errors:  # psycopg's error as Django's (IntegrityError...)
                raise error  # the transaction is aborted: the caller's atomic block rolls it back
        from psycopg import pq

        if self.raw.info.transaction_status == pq.TransactionStatus.INTRANS:
            with self.raw.cursor() as cursor:
                cursor.execute(f"SET CONSTRAINTS {self.fks} DEFERRED")  # Django's default again


def write(rows: list[tuple]) -> None:
    """Insert readings given as tuples in COLUMNS order (flags as a list), inside the caller's
    transaction. The (meter, taken_at) constraint still guards: callers check ``existing``
    first under their locks, so a conflict here is a bug, not a user error."""
    with Writer() as writer:
        for row in rows:
            writer.add(row)


def write_generated_meters(meters: list[tuple[str, int, dict]], installed_on: dt.date) -> dict[int, int]:
    """Benchmark meters (metering.demo.generate) given as (serial no, premises id, fields): one
    per premises, the model's defaults for every field not given; {premises id: meter id}.
    COPY on PostgreSQL (a million ORM objects would take minutes), bulk_create elsewhere."""
    if not meters:
        return {}
    if not _is_postgres():
        made = [
            Meter(serial_no=serial, premises_id=premises, installed_on=installed_on, **fields)
            for serial, premises, fields in meters
        ]
        Meter.objects.bulk_create(made, batch_size=5000)
        return {premises: meter.pk for meter, (_serial, premises, _fields) in zip(made, meters, strict=True)}
    columns = [f.attname for f in Meter._meta.concrete_fields if f.attname != "id"]
    templates: dict[tuple, list] = {}  # one model instance per set of given fields: its defaults
    rows = []
    for serial, premises, fields in meters:
        key = tuple(sorted(fields.items()))
        base = templates.get(key)
        if base is None:
            template = Meter(installed_on=installed_on, **fields)
            base = templates[key] = [getattr(template, c) for c in columns]
        row = list(base)
        row[columns.index("serial_no")], row[columns.index("premises_id")] = serial, premises
        rows.append(row)
    copy_rows(connection, Meter._meta.db_table, columns, rows)
    first, last = meters[0][1], meters[-1][1]
    return dict(
        Meter.objects.filter(premises_id__gte=min(first, last), premises_id__lte=max(first, last))
        .filter(serial_no__any=[serial for serial, _premises, _fields in meters])
        .values_list("premises_id", "pk")
    )


def save_device_counters(counters: dict[int, int]) -> None:
    """{device key pk: last message counter}: the counters, and a reset failure run, in one UPDATE."""
    if connection.vendor != "postgresql":
        for pk, seq in counters.items():
            DeviceKey.objects.filter(pk=pk).update(last_seq=seq, signature_failures=0)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {DeviceKey._meta.db_table} d SET last_seq = v.seq, signature_failures = 0"  # noqa: S608 (model's table)
            " FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, seq) WHERE d.id = v.id",
            [list(counters), list(counters.values())],
        )
