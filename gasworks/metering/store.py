"""Set-based reading storage shared by the batch paths (device ingest, file import, demo data).

Every function costs one statement whatever the number of meters or readings: the VEE state of
many meters (``baselines``), which (meter, time) pairs are already stored (``existing``), the
accounts billed at many premises (``billing_customers``) and the write itself (``write``: COPY
on PostgreSQL, bulk_create elsewhere). Readings travel as plain tuples in ``COLUMNS`` order, so
the hot paths never build a model instance per reading.
"""

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection
from django.db.models import F, Max, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from gasworks.customers.models import Customer
from gasworks.customers.models import Status as CustomerStatus
from gasworks.metering import vee
from gasworks.metering.models import BILLABLE_STATUSES, Reading, ReadingStatus

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


def _array(values) -> str:
    """A PostgreSQL array literal of ints or aware datetimes (no element needs quoting). Django
    binds parameters client-side, and psycopg quotes a list of 20,000 datetimes element by
    element in Python; one string cast by the server costs a fraction of that."""
    return "{" + ",".join(v.isoformat() if isinstance(v, dt.datetime) else str(int(v)) for v in values) + "}"


def start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# ---------------------------------------------------------------- baselines

# Per meter, newest first: up to %(size)s billable readings (h), the newest stored one of any
# status but rejected (l), the newest billable one with a non-zero volume (m) and the newest
# billable one that is not an estimate (r). Each part walks the (meter, taken_at) index
# backwards from the end, so the cost does not grow with a meter's history.
_BASELINE_SQL = """
SELECT m.id, 'h', x.value, x.taken_at, x.status, x.consumption
  FROM unnest(%(ids)s::bigint[]) AS m(id) CROSS JOIN LATERAL (
    SELECT value, taken_at, status, consumption FROM metering_reading
     WHERE meter_id = m.id AND status <> ALL(%(not_billable)s) {before}
     ORDER BY taken_at DESC LIMIT %(size)s) x
UNION ALL
SELECT m.id, 'l', x.value, x.taken_at, NULL, NULL
  FROM unnest(%(ids)s::bigint[]) AS m(id) CROSS JOIN LATERAL (
    SELECT value, taken_at FROM metering_reading
     WHERE meter_id = m.id AND status <> 'rejected' ORDER BY taken_at DESC LIMIT 1) x
UNION ALL
SELECT m.id, 'm', NULL, x.taken_at, NULL, NULL
  FROM unnest(%(ids)s::bigint[]) AS m(id) CROSS JOIN LATERAL (
    SELECT taken_at FROM metering_reading
     WHERE meter_id = m.id AND status <> ALL(%(not_billable)s) AND consumption <> 0 {before}
     ORDER BY taken_at DESC LIMIT 1) x
UNION ALL
SELECT m.id, 'r', x.value, x.taken_at, NULL, NULL
  FROM unnest(%(ids)s::bigint[]) AS m(id) CROSS JOIN LATERAL (
    SELECT value, taken_at FROM metering_reading
     WHERE meter_id = m.id AND status <> ALL(%(not_real)s) {before}
     ORDER BY taken_at DESC LIMIT 1) x
"""


def _state_rows(ids: list[int], size: int, before: dt.datetime | None) -> list[tuple]:
    """(meter_id, part, value, taken_at, status, consumption) rows, see _BASELINE_SQL."""
    if _is_postgres():
        sql = _BASELINE_SQL.format(before="AND taken_at < %(before)s" if before is not None else "")
        params = {
            "ids": _array(ids),
            "not_billable": _NOT_BILLABLE,
            "not_real": _NOT_REAL,
            "size": size,
            "before": before,
        }
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    # Elsewhere (SQLite in tests): the same parts with window functions.
    live = Reading.objects.filter(meter_id__in=ids)
    billable = live.filter(status__in=BILLABLE_STATUSES)
    if before is not None:
        billable = billable.filter(taken_at__lt=before)
    newest = Window(RowNumber(), partition_by=[F("meter_id")], order_by=F("taken_at").desc())
    out: list[tuple] = []
    for row in (
        billable.annotate(rank=newest)
        .filter(rank__lte=size)
        .values_list("meter_id", "value", "taken_at", "status", "consumption")
    ):
        out.append((row[0], "h", *row[1:]))
    for meter_id, value, at in (
        live.exclude(status=ReadingStatus.REJECTED)
        .annotate(rank=newest)
        .filter(rank=1)
        .values_list("meter_id", "value", "taken_at")
    ):
        out.append((meter_id, "l", value, at, None, None))
    for meter_id, at in (
        billable.exclude(Q(consumption=0) | Q(consumption=None))
        .values("meter_id")
        .annotate(at=Max("taken_at"))
        .values_list("meter_id", "at")
    ):
        out.append((meter_id, "m", None, at, None, None))
    for meter_id, value, at in (
        billable.exclude(status=ReadingStatus.ESTIMATED)
        .annotate(rank=newest)
        .filter(rank=1)
        .values_list("meter_id", "value", "taken_at")
    ):
        out.append((meter_id, "r", value, at, None, None))
    return out


def baselines(meters: Iterable, general: vee.Thresholds, before: dt.datetime | None = None) -> dict:
    """vee.Baseline of each meter (as of now, or of the billable chain before ``before``), in
    one query whatever the number of meters. ``meters`` need pk, installed_on, initial_reading."""
    meters = list(meters)
    if not meters:
        return {}
    size = general.history_size + 1
    history: dict[int, list] = defaultdict(list)
    latest, moved, real = {}, {}, {}
    for meter_id, part, value, at, status, consumption in _state_rows([m.pk for m in meters], size, before):
        if part == "h":
            history[meter_id].append((value, at, status, consumption))
        elif part == "l":
            latest[meter_id] = (value, at)
        elif part == "m":
            moved[meter_id] = at
        else:
            real[meter_id] = value
    out = {}
    for meter in meters:
        rows = sorted(history.get(meter.pk, ()), key=lambda r: r[1], reverse=True)
        installed_at = start_of(meter.installed_on)
        if not rows:
            base = vee.Baseline(meter.initial_reading, installed_at, real_value=meter.initial_reading)
        else:
            value, at, status, _c = rows[0]
            base = vee.Baseline(value, at, status == ReadingStatus.ESTIMATED)
            base.real_value = real.get(meter.pk, meter.initial_reading)
            if len(rows) >= 3:
                used = sum((r[3] or Decimal(0)) for r in rows[:-1])
                hours = vee._hours(rows[0][1], rows[-1][1])
                if used > 0 and hours > 0:
                    base.rate_per_hour = used / hours
        if meter.pk in latest:
            base.latest_value, base.latest_at = latest[meter.pk]
        base.last_change_at = moved.get(meter.pk, installed_at)
        out[meter.pk] = base
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
                [_array(ids)],
            )
            return dict(cursor.fetchall())
    rows = Reading.objects.filter(meter_id__in=ids).values("meter_id").annotate(at=Max("taken_at"))
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
                [_array(p[0] for p in pairs), _array(p[1] for p in pairs)],
            )
            return {(m, at): value for m, at, value in cursor.fetchall()}
    wanted = set(pairs)
    rows = Reading.objects.filter(
        meter_id__in={p[0] for p in pairs},
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


def billing_customers(premises_ids: Iterable[int]) -> dict[int, int]:
    """premises id -> id of the account billed there (newest not closed)."""
    found: dict[int, int] = {}
    rows = (
        Customer.objects.filter(premises_id__in=set(premises_ids))
        .exclude(status=CustomerStatus.CLOSED)
        .order_by("premises_id", "-opened_on", "-pk")
        .values_list("premises_id", "pk")
    )
    for premises_id, pk in rows:
        found.setdefault(premises_id, pk)
    return found


# ---------------------------------------------------------------- writing


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


def _text(value) -> str:
    """A text field of COPY's text format."""
    return value.translate(_COPY_ESCAPES)


def _copy_lines(rows: list[tuple]) -> str:
    """Rows in COPY text format. Formatting each line directly is about twice as fast as
    Copy.write_row; strings that could hold a tab or backslash are escaped, numbers and times
    cannot."""
    texts: dict = {}  # the few distinct strings and flag lists of a batch, escaped once

    def text(value) -> str:
        key = tuple(value) if isinstance(value, list) else value
        found = texts.get(key)
        if found is None:
            if isinstance(value, list):
                raw = json.dumps(value)
            elif isinstance(value, dt.datetime):
                raw = value.isoformat()
            else:
                raw = value
            found = texts[key] = _text(raw)
        return found

    lines = []
    for m, c, v, at, reason, status, flags, cons, corr, created, source, seq, note in rows:
        lines.append(
            f"{m}\t{c}\t{v}\t{at.isoformat()}\t{text(reason)}\t{text(status)}\t{text(flags)}\t"
            f"{_NULL if cons is None else cons}\t{_NULL if corr is None else corr}\t{text(created)}\t"
            f"{text(source)}\t{_NULL if seq is None else seq}\t{text(note)}\n"
        )
    return "".join(lines)


class Writer:
    """Readings written as they are produced: on PostgreSQL one COPY stays open and takes a
    chunk every few thousand rows, so the server indexes one chunk while Python validates the
    next (two cores at work instead of one after the other). Elsewhere rows are collected and
    bulk-created on close. Use inside the caller's transaction; run no other query while open."""

    CHUNK = 2000

    def __init__(self):
        self.rows: list[tuple] = []
        self.count = 0
        self._copy = None

    def __enter__(self) -> "Writer":
        if _is_postgres():
            self._cursor = connection.cursor()
            self._context = self._cursor.copy(f"COPY metering_reading ({', '.join(COLUMNS)}) FROM STDIN")
            self._copy = self._context.__enter__()
        return self

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        self.count += 1
        if self._copy is not None and len(self.rows) >= self.CHUNK:
            self._copy.write(_copy_lines(self.rows))
            self.rows = []

    def __exit__(self, *exc) -> None:
        if self._copy is None:
            if exc[0] is None and self.rows:
                Reading.objects.bulk_create(
                    [Reading(**dict(zip(COLUMNS, row, strict=True))) for row in self.rows], batch_size=2000
                )
            return
        try:
            if exc[0] is None and self.rows:
                self._copy.write(_copy_lines(self.rows))
        finally:
            self.rows = []
            try:
                self._context.__exit__(*exc)
            finally:
                self._cursor.close()


def write(rows: list[tuple]) -> None:
    """Insert readings given as tuples in COLUMNS order (flags as a list), inside the caller's
    transaction. The (meter, taken_at) constraint still guards: callers check ``existing``
    first under their locks, so a conflict here is a bug, not a user error."""
    with Writer() as writer:
        for row in rows:
            writer.add(row)
