"""Smart meter ingest, shared by the HTTP endpoint and the MQTT consumer.

A message is the raw JSON body ``{"readings": [{"seq", "value", "taken_at", "flags"?}, ...]}``
signed with HMAC-SHA256 under the device's key (the 32 bytes its 64 hex characters encode),
hex-encoded. Over HTTP the signature travels in ``X-Signature`` and the device in ``X-Device``;
over MQTT the topic ``gasworks/meters/<serial_no>/readings`` names the device and the payload is
``{"body": "<the same JSON text>", "signature": "<hex>"}``.

A group of messages is processed in one transaction: the device and meter rows are locked
(meter pk order), so two batches of one device are applied one after the other and the counter
only grows, and no manual reading or import slips into a meter's chain meanwhile. Every
check runs before any write; readings, alerts and counters are then written set-based.
"""

import datetime as dt
import hashlib
import hmac
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.errors import DomainError
from gasworks.lib import safejson
from gasworks.lib.consumption import ConsumptionError, register_span
from gasworks.lib.dates import start_of_day
from gasworks.lib.gcpause import gc_paused
from gasworks.metering import services, store, vee
from gasworks.metering.models import (
    AlertKind,
    DeadLetter,
    DeviceKey,
    Meter,
    MeterKind,
    MeterStatus,
    ReadingReason,
    ReadingSource,
    ReadingStatus,
    TamperAlert,
)
from gasworks.system import audit, parameters

MAX_BATCH = 1000
MILLI = Decimal("0.001")
MAX_SEQ = 2**62
NO_FLAGS: list = []  # shared, never modified
PERIODIC, DEVICE = str(ReadingReason.PERIODIC), str(ReadingSource.DEVICE)
ACCEPTED, FLAGGED = str(ReadingStatus.ACCEPTED), str(ReadingStatus.FLAGGED)
DEVICE_FLAGS = {"tamper", "magnet"}
# Meters that send their own signed readings: smart meters, industrial correctors, and the
# supply meters at gate stations and district regulators (usually on telemetry).
CONNECTED_KINDS = {MeterKind.SMART, MeterKind.INDUSTRIAL, MeterKind.DISTRICT}


def sign(key_hex: str, body: bytes) -> str:
    return hmac.new(bytes.fromhex(key_hex), body, hashlib.sha256).hexdigest()


@transaction.atomic
def issue_key(meter: Meter, by=None) -> str:
    """A new key for the device, returned this once; the old key stops working. The message
    counter is kept, so messages captured under the old key stay replays."""
    if meter.kind not in CONNECTED_KINDS:
        raise DomainError("not_connected", _("Only smart, industrial and supply meters have device keys."))
    key = secrets.token_hex(32)
    now = timezone.now()
    device, created = DeviceKey.objects.select_for_update().get_or_create(
        meter=meter, defaults={"key": key, "rotated_at": now}
    )
    if not created:
        device.key, device.rotated_at, device.signature_failures = key, now, 0
        device.save(update_fields=["key", "rotated_at", "signature_failures"])
    audit.record("new_key", meter, None, {"rotated": not created}, actor=by)
    return key


@dataclass
class Message:
    serial_no: str
    body: bytes
    signature: str


def dead_letter(letters: list[DeadLetter]) -> None:
    """Keep messages that could not be read at all (the MQTT consumer's dead letters)."""
    DeadLetter.objects.bulk_create(letters)


@dataclass
class Outcome:
    status: int
    body: dict
    readings: int = 0  # stored by this message


@dataclass
class _Item:
    seq: int
    value: Decimal
    taken_at: dt.datetime
    flags: list = field(default_factory=list)


def _refusal(status: int, code: str, message: str, fields: dict | None = None) -> Outcome:
    return Outcome(status, {"error": {"code": code, "message": message, "fields": fields or {}}})


def parse_body(body: bytes, span: Decimal, limit: dt.datetime) -> list[_Item]:
    """The readings of a message, or DomainError(400) naming every bad field. ``span``: the
    meter's register span; ``limit``: readings taken later are refused as in the future."""
    try:
        data = safejson.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise DomainError("invalid", _("The body is not JSON."), status=400) from None
    readings = data.get("readings") if isinstance(data, dict) else None
    if not isinstance(readings, list) or not readings:
        raise DomainError(
            "invalid", _("Send a non-empty list of readings."), {"readings": [_("Required.")]}, 400
        )
    if len(readings) > MAX_BATCH:
        raise DomainError(
            "batch_too_large",
            _("At most %(n)d readings per batch.") % {"n": MAX_BATCH},
            {"readings": [_("Too many.")]},
            400,
        )
    items, errors = [], {}
    for index, raw in enumerate(readings):
        # JSON gives exact types, so type() tests stand in for isinstance (and keep bool out).
        if type(raw) is not dict:
            errors[f"readings.{index}"] = [_("Expected an object.")]
            continue
        seq, value, taken = raw.get("seq"), raw.get("value"), raw.get("taken_at")
        flags = raw.get("flags", NO_FLAGS)
        bad = {}
        if type(seq) is not int or not 0 < seq < MAX_SEQ:
            bad["seq"] = [_("A positive integer.")]
        try:
            number = Decimal(value) if type(value) is str or type(value) is int else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            bad["value"] = [_("Enter a number.")]
        elif number < 0 or number >= span:
            bad["value"] = [_("Outside the register range 0 to %(s)s.") % {"s": span}]
        elif number != number.quantize(MILLI):
            bad["value"] = [_("At most 3 decimals.")]
        try:
            when = dt.datetime.fromisoformat(taken) if type(taken) is str else None
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            bad["taken_at"] = [_("An ISO 8601 time with offset.")]
        elif when > limit:
            bad["taken_at"] = [_("In the future.")]
        if type(flags) is not list or (
            flags and not all(type(f) is str and f in DEVICE_FLAGS for f in flags)
        ):
            bad["flags"] = [_("Only tamper and magnet.")]
        if bad:
            errors.update({f"readings.{index}.{name}": problem for name, problem in bad.items()})
        else:
            assert seq is not None and number is not None and when is not None  # else a problem
            items.append(_Item(seq, number, when, flags))
    if errors:
        raise DomainError("invalid", _("Some readings are not valid; nothing was stored."), errors, 400)
    return items


@gc_paused()
def ingest(messages: list[Message], now: dt.datetime | None = None) -> list[Outcome]:
    """Verify, validate and store a group of device messages; one Outcome per message.

    One transaction and a fixed number of statements for the whole group: lock the devices,
    load every meter's VEE state, look up stored (meter, time) pairs, COPY the new readings,
    update the counters. A message is answered only after the group has committed."""
    now = now or timezone.now()
    outcomes: list[Outcome | None] = [None] * len(messages)
    failed: dict[int, int] = defaultdict(int)  # DeviceKey pk -> signature failures
    general = vee.Thresholds.current()
    with transaction.atomic():
        serials = {m.serial_no for m in messages}
        # The device rows keep each device's counter in order; the meter rows make this the
        # only writer of the meters' reading chains, as manual entry and file import (which
        # lock meters in pk order too, so no two of them can deadlock).
        devices = {
            d.meter.serial_no: d
            for d in DeviceKey.objects.select_for_update(of=("self", "meter"))
            .select_related("meter")
            .filter(meter__serial_no__in=serials)
            .order_by("meter_id")
        }
        work: dict[DeviceKey, list] = defaultdict(list)
        # Meters override only the spike factor, so every device shares this limit.
        limit = now + dt.timedelta(hours=general.future_reject_hours)
        for index, message in enumerate(messages):
            device = devices.get(message.serial_no)
            if device is None:
                outcomes[index] = _refusal(401, "unknown_device", _("Unknown device or no key issued."))
                continue
            expected = sign(device.key, message.body)
            if not hmac.compare_digest(expected, (message.signature or "").strip().lower()):
                failed[device.pk] += 1
                outcomes[index] = _refusal(401, "bad_signature", _("The signature does not match."))
                continue
            try:
                items = parse_body(message.body, register_span(device.meter.digits), limit)
            except DomainError as exc:
                outcomes[index] = _refusal(exc.status, exc.code, str(exc.message), exc.fields)
                continue
            work[device].append((index, items))
        if work:
            batch = _Batch(now, general, [d.meter for d in work])
            batch.existing = store.existing(
                (d.meter_id, item.taken_at)
                for d, jobs in work.items()
                for _i, items in jobs
                for item in items
            )
            for device, jobs in work.items():
                batch.apply(device, jobs, outcomes)
            batch.save()
            _save_counters(work)
    if failed:
        _count_failures(failed, now)
    return outcomes  # type: ignore[return-value]


def _save_counters(devices) -> None:
    """New message counters (and a reset failure run) of the locked devices, in one UPDATE."""
    store.save_device_counters({d.pk: d.last_seq for d in devices})


class _Batch:
    """The readings and alerts of one ingest group, built as tuples and written at the end."""

    def __init__(self, now, general, meters):
        self.now, self.general = now, general
        self.bases = store.baselines(meters, general)
        self.customers = store.billing_customers(m.premises_id for m in meters if not m.is_supply)
        self.existing: dict = {}
        self.rows: list[tuple] = []
        self.alerts: list[tuple] = []  # (meter id, taken_at, alert row)
        self.true_up_note = _("true-up of an estimate")
        self.tz = timezone.get_current_timezone()

    def apply(self, device, jobs, outcomes) -> None:
        meter = device.meter
        th = vee.Thresholds.current(meter, self.general)
        base = self.bases[meter.pk]
        customer_id = self.customers.get(meter.premises_id)
        refuse = None
        if meter.status != MeterStatus.INSTALLED:
            refuse = "meter_removed"
        elif customer_id is None and not meter.is_supply:  # a supply meter bills nobody
            refuse = "no_customer"
        installed_at = start_of_day(meter.installed_on, self.tz)
        existing, rows, now = self.existing, self.rows, self.now
        meter_id, digits, max_flow = meter.pk, meter.digits, meter.max_flow_m3h
        last_seq = device.last_seq
        device.signature_failures = 0  # a good signature ends a run of failures
        for index, items in jobs:
            accepted = duplicates = 0
            rejected = []
            for item in sorted(items, key=lambda i: i.seq):
                key = (meter_id, item.taken_at)
                if item.seq <= last_seq:
                    # A redelivery of what we hold is a duplicate; anything else is a replay.
                    if existing.get(key) == item.value:
                        duplicates += 1
                    else:
                        rejected.append({"seq": item.seq, "reason": "replay"})
                    continue
                if key in existing:
                    duplicates += 1
                    last_seq = item.seq
                    continue
                if refuse:
                    rejected.append({"seq": item.seq, "reason": refuse})
                    continue
                if item.taken_at < installed_at:
                    rejected.append({"seq": item.seq, "reason": "before_install"})
                    continue
                try:
                    verdict = vee.evaluate(digits, max_flow, base, item.value, item.taken_at, now, th)
                    corrected = vee.correction(meter, verdict.consumption, None, None, None)
                except ConsumptionError as exc:
                    rejected.append({"seq": item.seq, "reason": exc.code})
                    continue
                billable = not verdict.flags
                rows.append(
                    (meter_id, customer_id, item.value, item.taken_at, PERIODIC,
                     ACCEPTED if billable else FLAGGED, verdict.flags, verdict.consumption, corrected,
                     now, DEVICE, item.seq, self.true_up_note if verdict.true_up else "")
                )  # fmt: skip
                if item.flags or verdict.flags:
                    for alert in services.alert_rows(
                        meter_id, customer_id, item.value, verdict, now, item.flags
                    ):
                        self.alerts.append((meter_id, item.taken_at, alert))
                existing[key] = item.value
                vee.advance(base, item.value, item.taken_at, verdict, billable)
                last_seq = item.seq
                accepted += 1
            outcomes[index] = Outcome(
                200, {"accepted": accepted, "duplicates": duplicates, "rejected": rejected}, readings=accepted
            )
        device.last_seq = last_seq

    def save(self) -> None:
        store.write(self.rows)
        if self.alerts:
            ids = store.reading_ids((m, at) for m, at, _a in self.alerts)
            TamperAlert.objects.bulk_create(
                [TamperAlert(**alert, reading_id=ids[(m, at)]) for m, at, alert in self.alerts]
            )


def _count_failures(failed: dict[int, int], now) -> None:
    """Signature failures are counted outside the refused work (which stores nothing); a run
    reaching the tamper_signature_failures parameter raises one alert."""
    limit = parameters.get("tamper_signature_failures")
    with transaction.atomic():
        for pk in sorted(failed):
            DeviceKey.objects.filter(pk=pk).update(signature_failures=F("signature_failures") + failed[pk])
            device = DeviceKey.objects.select_related("meter").get(pk=pk)
            before = device.signature_failures - failed[pk]
            if before < limit <= device.signature_failures:
                TamperAlert.objects.create(
                    meter=device.meter,
                    customer=services.billing_customer(device.meter.premises_id),  # None: supply
                    kind=AlertKind.SIGNATURE_FAILURES,
                    detail=_("%(n)d signature failures in a row") % {"n": device.signature_failures},
                    raised_at=now,
                )
