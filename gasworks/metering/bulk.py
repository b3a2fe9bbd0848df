"""Set-based reading paths: baselines of many meters in three queries, and the all-or-nothing
file import (CSV / Excel rows) that writes by COPY on PostgreSQL and bulk_create elsewhere."""

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.db.models import F, Max, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from gasworks.customers.models import Customer
from gasworks.customers.models import Status as CustomerStatus
from gasworks.errors import InvalidInput
from gasworks.lib.consumption import ConsumptionError, register_span
from gasworks.metering import vee
from gasworks.metering.models import (
    BILLABLE_STATUSES,
    Meter,
    MeterStatus,
    Reading,
    ReadingReason,
    ReadingSource,
    ReadingStatus,
    TamperAlert,
)

COLUMNS = ["serial_no", "value", "taken_at", "reason"]


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def baselines(meters: list[Meter], general: vee.Thresholds) -> dict[int, vee.Baseline]:
    """vee.Baseline of each meter (as of now), in three queries whatever the number of meters."""
    ids = [m.pk for m in meters]
    size = general.history_size + 1
    history: dict[int, list] = defaultdict(list)
    ranked = (
        Reading.objects.filter(meter_id__in=ids, status__in=BILLABLE_STATUSES)
        .annotate(rank=Window(RowNumber(), partition_by=[F("meter_id")], order_by=F("taken_at").desc()))
        .filter(rank__lte=size)
        .values("meter_id", "value", "taken_at", "status", "consumption")
    )
    for row in ranked:
        history[row["meter_id"]].append(row)
    latest = {
        row["meter_id"]: row
        for row in Reading.objects.filter(meter_id__in=ids)
        .exclude(status=ReadingStatus.REJECTED)
        .annotate(rank=Window(RowNumber(), partition_by=[F("meter_id")], order_by=F("taken_at").desc()))
        .filter(rank=1)
        .values("meter_id", "value", "taken_at")
    }
    moved = dict(
        Reading.objects.filter(meter_id__in=ids, status__in=BILLABLE_STATUSES)
        .exclude(Q(consumption=0) | Q(consumption=None))
        .values("meter_id")
        .annotate(at=Max("taken_at"))
        .values_list("meter_id", "at")
    )
    out = {}
    for meter in meters:
        rows = sorted(history.get(meter.pk, []), key=lambda r: r["taken_at"], reverse=True)
        installed_at = _start_of(meter.installed_on)
        if not rows:
            base = vee.Baseline(meter.initial_reading, installed_at, real_value=meter.initial_reading)
        else:
            base = vee.Baseline(
                rows[0]["value"], rows[0]["taken_at"], rows[0]["status"] == ReadingStatus.ESTIMATED
            )
            real = next((r for r in rows if r["status"] != ReadingStatus.ESTIMATED), None)
            base.real_value = real["value"] if real else meter.initial_reading
            if len(rows) >= 3:
                used = sum((r["consumption"] or Decimal(0)) for r in rows[:-1])
                hours = vee._hours(rows[0]["taken_at"], rows[-1]["taken_at"])
                if used > 0 and hours > 0:
                    base.rate_per_hour = used / hours
        if meter.pk in latest:
            base.latest_at, base.latest_value = latest[meter.pk]["taken_at"], latest[meter.pk]["value"]
        base.last_change_at = moved.get(meter.pk, installed_at)
        out[meter.pk] = base
    return out


def billing_customers(premises_ids) -> dict[int, int]:
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


# ---------------------------------------------------------------- file import


@dataclass
class Row:
    line: int
    serial_no: str
    value: Decimal
    taken_at: dt.datetime
    reason: str


def read_table(name: str, data: bytes) -> list[list[str]]:
    """Rows of a CSV (UTF-8, with or without BOM) or Excel file, header included, as text."""
    if name.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise InvalidInput(
                "invalid_file", _("This is not a readable Excel file."), {"file": [str(exc)]}
            ) from None
        table = []
        for values in sheet.iter_rows(values_only=True):
            table.append(
                [
                    "" if v is None else (v.isoformat() if isinstance(v, dt.datetime) else str(v))
                    for v in values
                ]
            )
        return table
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            "invalid_file", _("The CSV file must be UTF-8."), {"file": [_("Not UTF-8.")]}
        ) from None
    return [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]


def check_rows(
    table: list[list[str]], now: dt.datetime | None = None
) -> tuple[list[Row], dict[int, list[str]]]:
    """Parse and check every row; errors by line number (1 = header). Nothing is written."""
    now = now or timezone.now()
    general = vee.Thresholds.current()
    if not table:
        return [], {1: [_("The file is empty.")]}
    header = [h.strip().lower() for h in table[0]]
    missing = [c for c in COLUMNS[:3] if c not in header]
    if missing:
        return [], {1: [_("Missing columns: %(c)s") % {"c": ", ".join(missing)}]}
    col = {name: header.index(name) for name in COLUMNS if name in header}
    serials = {r[col["serial_no"]].strip() for r in table[1:] if len(r) > col["serial_no"]}
    meters = {m.serial_no: m for m in Meter.objects.filter(serial_no__in=serials)}
    customers = billing_customers(m.premises_id for m in meters.values())
    rows: list[Row] = []
    errors: dict[int, list[str]] = {}
    seen: set = set()
    limit = now + dt.timedelta(hours=general.future_reject_hours)
    default_tz = timezone.get_current_timezone()
    for line, raw in enumerate(table[1:], start=2):
        cells = raw + [""] * (len(header) - len(raw))
        problems = []
        serial = cells[col["serial_no"]].strip()
        meter = meters.get(serial)
        if meter is None:
            problems.append(_("Unknown meter %(s)s.") % {"s": serial})
        elif meter.status != MeterStatus.INSTALLED:
            problems.append(_("Meter %(s)s is removed.") % {"s": serial})
        elif meter.premises_id not in customers:
            problems.append(_("No open account at the meter's premises."))
        try:
            value = Decimal(cells[col["value"]].strip())
            if not value.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            value = None
            problems.append(_("Value is not a number."))
        if value is not None:
            if value < 0:
                problems.append(_("Value is negative."))
            elif meter is not None and value >= register_span(meter.digits):
                problems.append(_("Value is larger than the register can show."))
            elif value != value.quantize(Decimal("0.001")):
                problems.append(_("At most 3 decimals."))
        text = cells[col["taken_at"]].strip()
        taken = parse_datetime(text.replace("/", "-")) if text else None
        if taken is None:
            problems.append(_("Time is not a date and time (YYYY-MM-DD HH:MM)."))
        else:
            if timezone.is_naive(taken):
                taken = timezone.make_aware(taken, default_tz)
            if taken > limit:
                problems.append(_("Time is in the future."))
            elif meter is not None and taken < _start_of(meter.installed_on):
                problems.append(_("Taken before the meter was installed."))
        reason = cells[col["reason"]].strip() if "reason" in col else ""
        reason = reason or ReadingReason.PERIODIC
        if reason not in ReadingReason.values:
            problems.append(_("Unknown reason %(r)s.") % {"r": reason})
        if meter is not None and taken is not None:
            if (meter.pk, taken) in seen:
                problems.append(_("The same meter and time appear twice in the file."))
            seen.add((meter.pk, taken))
        if problems:
            errors[line] = problems
        else:
            rows.append(Row(line, serial, value, taken, reason))
    stored = _already_stored(meters, rows)
    for row in rows:
        if (row.serial_no, row.taken_at) in stored:
            errors.setdefault(row.line, []).append(_("This meter already has a reading at that time."))
    rows = [r for r in rows if r.line not in errors]
    return rows, errors


def _already_stored(meters: dict, rows: list[Row]) -> set:
    by_meter = defaultdict(list)
    for row in rows:
        by_meter[meters[row.serial_no].pk].append(row.taken_at)
    found = set()
    serial_of = {m.pk: s for s, m in meters.items()}
    for meter_id, times in by_meter.items():
        for start in range(0, len(times), 500):
            for at in Reading.objects.filter(
                meter_id=meter_id, taken_at__in=times[start : start + 500]
            ).values_list("taken_at", flat=True):
                found.add((serial_of[meter_id], at))
    return found


COPY_COLUMNS = [
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
    "note",
]


def import_rows(rows: list[Row], by=None, now: dt.datetime | None = None, check: bool = True) -> dict:
    """Store checked rows, all or nothing, each validated by VEE in time order per meter.
    Returns counts: imported, flagged."""
    now = now or timezone.now()
    if check and not rows:
        raise InvalidInput("empty", _("Nothing to import."))
    general = vee.Thresholds.current()
    with transaction.atomic():
        serials = {r.serial_no for r in rows}
        meters = {
            m.serial_no: m
            for m in Meter.objects.select_for_update().filter(serial_no__in=serials).order_by("pk")
        }
        customers = billing_customers(m.premises_id for m in meters.values())
        bases = baselines(list(meters.values()), general)
        out, alerts, flagged = [], [], 0
        per_meter = defaultdict(list)
        for row in rows:
            per_meter[row.serial_no].append(row)
        for serial, items in per_meter.items():
            meter = meters[serial]
            th = vee.Thresholds.current(meter, general)
            base = bases[meter.pk]
            customer_id = customers.get(meter.premises_id)
            if customer_id is None:
                raise InvalidInput(
                    "no_customer", _("No open account at the premises of %(s)s.") % {"s": serial}
                )
            for row in sorted(items, key=lambda r: r.taken_at):
                try:
                    verdict = vee.evaluate(
                        meter.digits, meter.max_flow_m3h, base, row.value, row.taken_at, now, th
                    )
                except ConsumptionError as exc:
                    raise InvalidInput(
                        "invalid", f"line {row.line}: {exc.message}", {str(row.line): [exc.message]}
                    ) from None
                corrected = vee.correction(meter, verdict.consumption, None, None, None)
                status = ReadingStatus.ACCEPTED if verdict.billable else ReadingStatus.FLAGGED
                flagged += not verdict.billable
                out.append(
                    (meter.pk, customer_id, row.value, row.taken_at, row.reason, status, verdict.flags,
                     verdict.consumption, corrected, now, ReadingSource.IMPORT, "")
                )  # fmt: skip
                if verdict.jump or {"reverse", "rollover_implausible"} & set(verdict.flags):
                    from gasworks.metering.services import alert_rows

                    alerts.extend(alert_rows(meter.pk, customer_id, None, verdict, now))
                vee.advance(base, row.value, row.taken_at, verdict, verdict.billable)
        _write(out)
        if alerts:
            TamperAlert.objects.bulk_create([TamperAlert(**a) for a in alerts])
    return {"imported": len(out), "flagged": flagged}


def _write(out: list[tuple]) -> None:
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY metering_reading ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy,
        ):
            for row in out:
                copy.write_row((*row[:6], json.dumps(row[6]), *row[7:]))
        return
    Reading.objects.bulk_create(
        [Reading(**dict(zip(COPY_COLUMNS, row, strict=True))) for row in out], batch_size=2000
    )
