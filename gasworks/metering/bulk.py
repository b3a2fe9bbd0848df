"""File import of readings (CSV / Excel rows): a preview that checks every row, then an
all-or-nothing import validated by VEE and written set-based (store.write: COPY on PostgreSQL)."""

import csv
import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from gasworks.errors import DomainError, InvalidInput
from gasworks.lib.consumption import ConsumptionError, register_span
from gasworks.lib.dates import start_of_day
from gasworks.lib.gcpause import gc_paused
from gasworks.metering import store, vee
from gasworks.metering.models import (
    MeterStatus,
    ReadingImport,
    ReadingReason,
    ReadingSource,
    ReadingStatus,
    TamperAlert,
)
from gasworks.metering.services import alert_rows

MILLI = Decimal("0.001")
IMPORT = str(ReadingSource.IMPORT)
ACCEPTED, FLAGGED = str(ReadingStatus.ACCEPTED), str(ReadingStatus.FLAGGED)
COLUMNS = ["serial_no", "value", "taken_at", "reason"]


# ---------------------------------------------------------------- file import


class Row(NamedTuple):  # a tuple: one per file row, built cheaply
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


def _parse_time(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text)  # what parse_datetime tries first, without a call
    except ValueError:
        pass
    try:
        return parse_datetime(text) if text else None
    except ValueError:  # well formed but impossible, e.g. month 13
        return None


@gc_paused()
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
    at_serial, at_value, at_time = col["serial_no"], col["value"], col["taken_at"]
    at_reason = col.get("reason")
    default_tz = timezone.get_current_timezone()
    serials = {r[at_serial].strip() for r in table[1:] if len(r) > at_serial}
    meters = store.meters_by_serial(serials)
    customers = store.billing_customers(m.premises_id for m in meters.values())
    # Per meter once: why it takes no readings (or None), its register span and install time.
    meter_problem, span, installed_at = {}, {}, {}
    meter: store.MeterState | None
    for serial, meter in meters.items():
        if meter.status != MeterStatus.INSTALLED:
            meter_problem[serial] = _("Meter %(s)s is removed.") % {"s": serial}
        elif not meter.is_supply and meter.premises_id not in customers:
            meter_problem[serial] = _("No open account at the meter's premises.")
        span[serial] = register_span(meter.digits)
        installed_at[serial] = start_of_day(meter.installed_on, default_tz)
    reasons = set(ReadingReason.values)
    rows: list[Row] = []
    errors: dict[int, list[str]] = {}
    seen: set = set()
    # In the file's zone: aware times with the same tzinfo compare without utcoffset() calls.
    limit = (now + dt.timedelta(hours=general.future_reject_hours)).astimezone(default_tz)
    width = len(header)
    for line, raw in enumerate(table[1:], start=2):
        cells = raw if len(raw) >= width else raw + [""] * (width - len(raw))
        problems = []
        serial = cells[at_serial].strip()
        meter = meters.get(serial)
        if meter is None:
            problems.append(_("Unknown meter %(s)s.") % {"s": serial})
        elif serial in meter_problem:
            problems.append(meter_problem[serial])
        try:
            value = Decimal(cells[at_value].strip())
            if not value.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            value = None
            problems.append(_("Value is not a number."))
        if value is not None:
            if value < 0:
                problems.append(_("Value is negative."))
            elif meter is not None and value >= span[serial]:
                problems.append(_("Value is larger than the register can show."))
            elif value != value.quantize(MILLI):
                problems.append(_("At most 3 decimals."))
        taken = _parse_time(cells[at_time].strip().replace("/", "-"))
        if taken is None:
            problems.append(_("Time is not a date and time (YYYY-MM-DD HH:MM)."))
        else:
            if taken.tzinfo is None:
                taken = taken.replace(tzinfo=default_tz)  # timezone.make_aware for zoneinfo
            if taken > limit:
                problems.append(_("Time is in the future."))
            elif meter is not None and taken < installed_at[serial]:
                problems.append(_("Taken before the meter was installed."))
        reason = (cells[at_reason].strip() if at_reason is not None else "") or ReadingReason.PERIODIC
        if reason not in reasons:
            problems.append(_("Unknown reason %(r)s.") % {"r": reason})
        if meter is not None and taken is not None:
            key = (serial, taken)
            if key in seen:
                problems.append(_("The same meter and time appear twice in the file."))
            seen.add(key)
        if problems:
            errors[line] = problems
        else:
            assert value is not None and taken is not None  # each was a problem otherwise
            rows.append(Row(line, serial, value, taken, str(reason)))
    ids = {serial: m.pk for serial, m in meters.items()}
    stored = store.existing((ids[r.serial_no], r.taken_at) for r in rows)
    if stored:
        for row in rows:
            if (ids[row.serial_no], row.taken_at) in stored:
                errors.setdefault(row.line, []).append(_("This meter already has a reading at that time."))
        rows = [r for r in rows if r.line not in errors]
    return rows, errors


@gc_paused()
def import_rows(rows: list[Row], by=None, now: dt.datetime | None = None, check: bool = True) -> dict:
    """Store checked rows, all or nothing, each validated by VEE in time order per meter.
    Returns counts: imported, flagged."""
    now = now or timezone.now()
    if check and not rows:
        raise InvalidInput("empty", _("Nothing to import."))
    general = vee.Thresholds.current()
    with transaction.atomic():
        serials = {r.serial_no for r in rows}
        # The meter locks make this the only chain writer of these meters (as record_reading).
        meters = store.meters_by_serial(serials, lock=True)
        unknown = sorted({r.line for r in rows if r.serial_no not in meters})
        if unknown:
            raise InvalidInput(
                "invalid", _("Unknown meter."), {str(n): [_("Unknown meter.")] for n in unknown}
            )
        # Checked at preview, but a reading may have been stored since: refuse, write nothing.
        ids = {serial: m.pk for serial, m in meters.items()}
        taken = store.existing((ids[r.serial_no], r.taken_at) for r in rows)
        if taken:
            lines = [r.line for r in rows if (ids[r.serial_no], r.taken_at) in taken]
            message = _("This meter already has a reading at that time.")
            raise DomainError("duplicate_reading", message, {str(n): [message] for n in lines})
        customers = store.billing_customers(m.premises_id for m in meters.values())
        missing = sorted(s for s, m in meters.items() if not m.is_supply and m.premises_id not in customers)
        if missing:
            raise InvalidInput(
                "no_customer", _("No open account at the premises of %(s)s.") % {"s": ", ".join(missing)}
            )
        bases = store.baselines(meters.values(), general)
        per_meter = defaultdict(list)
        for row in rows:
            per_meter[row.serial_no].append(row)
        alerts, flagged = [], 0
        true_up_note = _("true-up of an estimate")
        with store.Writer() as writer:
            for serial, items in per_meter.items():
                meter = meters[serial]
                th = vee.Thresholds.current(meter, general)
                base = bases[meter.pk]
                meter_id, digits, max_flow = meter.pk, meter.digits, meter.max_flow_m3h
                customer_id = None if meter.premises_id is None else customers[meter.premises_id]
                items.sort(key=lambda r: r.taken_at)
                for row in items:
                    try:
                        verdict = vee.evaluate(digits, max_flow, base, row.value, row.taken_at, now, th)
                    except ConsumptionError as exc:
                        raise InvalidInput(
                            "invalid", f"line {row.line}: {exc.message}", {str(row.line): [exc.message]}
                        ) from None
                    corrected = vee.correction(meter, verdict.consumption, None, None, None)
                    billable = not verdict.flags
                    flagged += not billable
                    writer.add(
                        (meter_id, customer_id, row.value, row.taken_at, row.reason,
                         ACCEPTED if billable else FLAGGED, verdict.flags, verdict.consumption, corrected,
                         now, IMPORT, None, true_up_note if verdict.true_up else "")
                    )  # fmt: skip
                    if verdict.jump or "reverse" in verdict.flags or "rollover_implausible" in verdict.flags:
                        for alert in alert_rows(meter_id, customer_id, row.value, verdict, now):
                            alerts.append((meter_id, row.taken_at, alert))
                    vee.advance(base, row.value, row.taken_at, verdict, billable)
        if alerts:
            reading_ids = store.reading_ids((m, at) for m, at, _a in alerts)
            TamperAlert.objects.bulk_create(
                [TamperAlert(**alert, reading_id=reading_ids[(m, at)]) for m, at, alert in alerts]
            )
    return {"imported": writer.count, "flagged": flagged}


def stage_file(name: str, data: bytes, by=None) -> ReadingImport:
    """Read an uploaded file and keep its rows for the preview (a bad file is a 400, nothing kept)."""
    table = read_table(name, data)
    return ReadingImport.objects.create(file_name=name[:200], rows=table, created_by=by)


def import_batch(batch: ReadingImport, by=None, now: dt.datetime | None = None) -> dict:
    """Import a previewed file: the readings and the batch's "imported" mark in one transaction,
    so a file is imported once (a second confirmation, even a concurrent one, is refused) and a
    failure leaves neither readings nor the mark. Returns import_rows' counts."""
    with transaction.atomic():
        locked = ReadingImport.objects.select_for_update().get(pk=batch.pk)
        if locked.imported_at is not None:
            raise DomainError("already_imported", _("This file was already imported."))
        rows, errors = check_rows(locked.rows, now=now)
        if errors:
            raise InvalidInput(
                "invalid_rows",
                _("Fix the rows with errors first: nothing was imported."),
                {str(line): problems for line, problems in errors.items()},
            )
        result = import_rows(rows, by=by, now=now)
        locked.imported_at, locked.imported = timezone.now(), result["imported"]
        locked.save(update_fields=["imported_at", "imported"])
    batch.imported_at, batch.imported = locked.imported_at, locked.imported
    return result
