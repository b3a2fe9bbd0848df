"""Metering business rules: meters (install, remove, replace), readings with VEE, review,
estimation and true-up. Plain functions in transactions; views, the API and commands call them."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gasworks.customers.models import Customer
from gasworks.customers.models import Status as CustomerStatus
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib.consumption import ConsumptionError, register_span, volume_used
from gasworks.lib.dates import start_of_day
from gasworks.lib.db import DecimalSum
from gasworks.lib.events import publish
from gasworks.lib.money import round_volume
from gasworks.lib.status import Transitions
from gasworks.metering import billable, events, store, vee
from gasworks.metering.events import ReadingsStored
from gasworks.metering.models import (
    BILLABLE_STATUSES,
    AlertKind,
    Meter,
    MeterEvent,
    MeterKind,
    MeterStatus,
    Reading,
    ReadingReason,
    ReadingSource,
    ReadingStatus,
    TamperAlert,
)
from gasworks.system import audit

# Review moves: a flagged reading is decided once; nothing else changes status by review.
REVIEW_TRANSITIONS = Transitions(
    {ReadingStatus.FLAGGED: {ReadingStatus.APPROVED, ReadingStatus.REJECTED}},
    code="wrong_state",
    message=gettext_lazy("A %(from)s reading cannot be reviewed."),
    labels=ReadingStatus,
)
MAX_DIGITS = 10


def to_volume(raw, field: str = "value") -> Decimal:
    """Text or number to a register value: finite, not negative, at most 3 decimals."""
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput("invalid", _("Not a number."), {field: [_("Enter a number.")]}) from None
    if not value.is_finite():
        raise InvalidInput("invalid", _("Not a number."), {field: [_("Enter a number.")]})
    if value < 0:
        raise InvalidInput(
            "invalid", _("A register value cannot be negative."), {field: [_("Must not be negative.")]}
        )
    if value != value.quantize(Decimal("0.001")):
        raise InvalidInput("invalid", _("At most 3 decimals."), {field: [_("At most 3 decimals.")]})
    return value


def billing_customer(premises_id: int | None) -> Customer | None:
    """The account billed for gas at the premises: the newest account that is not closed
    (None without a premises: a supply meter bills nobody)."""
    if premises_id is None:
        return None
    return (
        Customer.objects.filter(premises_id=premises_id)
        .exclude(status=CustomerStatus.CLOSED)
        .order_by("-opened_on", "-pk")
        .first()
    )


# ---------------------------------------------------------------- meters


@transaction.atomic
def install_meter(
    serial_no: str,
    premises,
    kind: str = MeterKind.DIAPHRAGM,
    digits: int = 5,
    initial_reading=Decimal(0),
    installed_on: dt.date | None = None,
    by=None,
    correction_factor=None,
    max_flow_m3h=None,
    district: str = "",
) -> Meter:
    """A meter at a premises, or (kind ``district``) a supply meter of a district: exactly one
    of ``premises`` and ``district`` is given, as the table's constraint demands."""
    serial_no = (serial_no or "").strip()
    district = (district or "").strip()
    errors: dict[str, list[str]] = {}
    if not serial_no:
        errors["serial_no"] = [_("Required.")]
    if kind not in MeterKind.values:
        errors["kind"] = [_("Unknown meter kind.")]
    elif kind == MeterKind.DISTRICT:
        if not district:
            errors["district"] = [_("A supply meter needs its district.")]
        if premises is not None:
            errors["customer"] = [_("A supply meter belongs to a district, not to a customer.")]
    else:
        if premises is None:
            errors["customer"] = [_("Required.")]
        if district:
            errors["district"] = [_("Only a supply meter (kind district) has a district.")]
    if len(district) > 64:
        errors["district"] = [_("At most 64 characters.")]
    if not isinstance(digits, int) or not 3 <= digits <= MAX_DIGITS:
        errors["digits"] = [_("Between 3 and 10 digits.")]
    if not errors:
        initial = to_volume(initial_reading, "initial_reading")
        if initial >= register_span(digits):
            errors["initial_reading"] = [_("Larger than the register can show.")]
    if errors:
        raise InvalidInput("invalid", _("The meter data is not valid."), errors)
    if Meter.objects.filter(serial_no=serial_no).exists():
        raise DomainError(
            "duplicate_serial",
            _("A meter with this serial number exists."),
            {"serial_no": [_("Already used.")]},
        )
    on = installed_on or timezone.localdate()
    meter = Meter(
        serial_no=serial_no,
        premises=premises,
        district=district,
        kind=kind,
        digits=digits,
        initial_reading=initial,
        installed_on=on,
        correction_factor=correction_factor,
    )
    if max_flow_m3h is not None:
        meter.max_flow_m3h = max_flow_m3h
    try:
        with transaction.atomic():
            meter.save()
    except IntegrityError:
        raise DomainError("duplicate_serial", _("A meter with this serial number exists.")) from None
    MeterEvent.objects.create(
        meter=meter, kind=MeterEvent.Kind.INSTALLED, on=on, register_value=initial, by=by
    )
    audit.record("install", meter, None, audit.snapshot(meter), actor=by)
    return meter


@transaction.atomic
def remove_meter(
    meter: Meter, final_value, removed_on: dt.date, by=None, taken_at=None, note: str = ""
) -> Reading | None:
    """Take the meter out with its final register value (a removal reading, billed as usual)."""
    meter = Meter.objects.select_for_update().get(pk=meter.pk)
    if meter.status != MeterStatus.INSTALLED:
        raise DomainError("meter_removed", _("This meter is already removed."))
    if removed_on < meter.installed_on:
        raise InvalidInput(
            "invalid", _("Removed before it was installed."), {"removed_on": [_("Too early.")]}
        )
    reading = None
    if final_value is not None:
        when = taken_at or timezone.make_aware(dt.datetime.combine(removed_on, dt.time(12)))
        reading = record_reading(
            meter, final_value, when, reason=ReadingReason.REMOVAL, by=by, allow_removed=True
        )
    meter.status, meter.removed_on = MeterStatus.REMOVED, removed_on
    meter.save(update_fields=["status", "removed_on"])
    MeterEvent.objects.create(
        meter=meter,
        kind=MeterEvent.Kind.REMOVED,
        on=removed_on,
        register_value=None if final_value is None else to_volume(final_value),
        by=by,
        note=note,
    )
    audit.record(
        "remove", meter, None, {"final_value": str(final_value), "removed_on": str(removed_on)}, actor=by
    )
    return reading


@transaction.atomic
def replace_meter(
    old: Meter,
    final_value,
    new_serial_no: str,
    on: dt.date,
    new_initial=Decimal(0),
    new_kind: str | None = None,
    new_digits: int | None = None,
    by=None,
    taken_at=None,
) -> Meter:
    """Final reading of the old meter, initial reading of the new one, both at the same premises.
    The period's volume is then the old part plus the new part (each reading carries its own).
    ``taken_at``: when the final reading was taken (noon of ``on`` when not given)."""
    remove_meter(
        old, final_value, on, by=by, taken_at=taken_at, note=_("replaced by %(s)s") % {"s": new_serial_no}
    )
    new = install_meter(
        new_serial_no,
        old.premises,
        kind=new_kind or old.kind,
        digits=new_digits or old.digits,
        initial_reading=new_initial,
        installed_on=on,
        by=by,
        correction_factor=old.correction_factor,
        max_flow_m3h=old.max_flow_m3h,
        district=old.district,
    )
    MeterEvent.objects.create(meter=old, kind=MeterEvent.Kind.REPLACED, on=on, note=new.serial_no, by=by)
    return new


# ---------------------------------------------------------------- baseline


def baseline(
    meter: Meter, before: dt.datetime | None = None, th: vee.Thresholds | None = None
) -> vee.Baseline:
    """The meter's state before a reading at ``before`` (or now): previous billable reading,
    the newest stored reading, when the register last moved and the usual rate. The batch
    paths compute the same state for many meters at once (store.baselines)."""
    return store.baselines([meter], th or vee.Thresholds.current(meter), before=before)[meter.pk]


# ---------------------------------------------------------------- readings


def _opt_decimal(raw, field: str) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise InvalidInput("invalid", _("Not a number."), {field: [_("Enter a number.")]}) from None
    if not value.is_finite() or abs(value) >= Decimal("1e6"):
        raise InvalidInput("invalid", _("Not a plausible number."), {field: [_("Enter a plausible number.")]})
    return value


def check_taken_at(
    taken_at: dt.datetime, now: dt.datetime, th: vee.Thresholds, field: str = "taken_at"
) -> None:
    """A time a little ahead (a clock running fast) is stored and flagged future_time; one more
    than vee_future_reject_hours ahead is bad input."""
    if timezone.is_naive(taken_at):
        raise InvalidInput("invalid", _("The time needs a time zone."), {field: [_("Give the offset.")]})
    if taken_at > now + dt.timedelta(hours=th.future_reject_hours):
        raise InvalidInput(
            "future_time", _("The reading is in the future."), {"taken_at": [_("In the future.")]}
        )


def record_reading(
    meter: Meter,
    value,
    taken_at: dt.datetime,
    reason: str = ReadingReason.PERIODIC,
    pressure_kpa=None,
    temperature_c=None,
    by=None,
    source: str = ReadingSource.MANUAL,
    allow_removed: bool = False,
    now: dt.datetime | None = None,
) -> Reading:
    """Validate and store one reading. Flagged readings are stored with their rule codes and
    are not billable. Bad input raises InvalidInput and stores nothing."""
    now = now or timezone.now()
    value = to_volume(value)
    pressure = _opt_decimal(pressure_kpa, "pressure_kpa")
    temperature = _opt_decimal(temperature_c, "temperature_c")
    if reason not in ReadingReason.values:
        raise InvalidInput("invalid", _("Unknown reason."), {"reason": [_("Unknown reason.")]})
    if value >= register_span(meter.digits):
        raise InvalidInput(
            "invalid",
            _("Larger than the register can show."),
            {"value": [_("Larger than the register can show.")]},
        )
    with transaction.atomic():
        meter = Meter.objects.select_for_update().get(pk=meter.pk)  # one chain writer per meter
        th = vee.Thresholds.current(meter)
        check_taken_at(taken_at, now, th)
        if meter.status != MeterStatus.INSTALLED and not allow_removed:
            raise DomainError("meter_removed", _("This meter is removed: it takes no readings."))
        if taken_at < start_of_day(meter.installed_on):
            raise InvalidInput(
                "invalid", _("Taken before the meter was installed."), {"taken_at": [_("Too early.")]}
            )
        customer = reading_customer(meter)
        existing = Reading.objects.filter(meter=meter, taken_at=taken_at).first()
        if existing is not None:
            raise DomainError(
                "duplicate_reading",
                _("This meter already has a reading at that time."),
                {"taken_at": [_("Already recorded.")]},
            )
        base = baseline(meter, th=th)
        try:
            verdict = vee.evaluate(meter.digits, meter.max_flow_m3h, base, value, taken_at, now, th)
        except ConsumptionError as exc:
            raise InvalidInput("invalid", exc.message, {"value": [exc.message]}) from None
        try:
            corrected = vee.correction(
                meter, verdict.consumption, pressure, temperature, vee.base_conditions()
            )
        except ConsumptionError as exc:
            raise InvalidInput("invalid", exc.message, {"temperature_c": [exc.message]}) from None
        reading = Reading(
            meter=meter,
            customer=customer,
            value=value,
            taken_at=taken_at,
            reason=reason,
            status=ReadingStatus.ACCEPTED if verdict.billable else ReadingStatus.FLAGGED,
            flags=verdict.flags,
            consumption=verdict.consumption,
            corrected_consumption=corrected,
            pressure_kpa=pressure,
            temperature_c=temperature,
            source=source,
            note=_("true-up of an estimate") if verdict.true_up else "",
        )
        try:
            with transaction.atomic():
                reading.save()
        except IntegrityError:
            raise DomainError(
                "duplicate_reading", _("This meter already has a reading at that time.")
            ) from None
        raise_alerts(meter, customer, reading, verdict, now)
        if reading.customer_id is not None:  # a supply meter's reading bills nobody
            publish(ReadingsStored((reading.customer_id,)))
        if reading.status == ReadingStatus.FLAGGED:
            flagged = events.FlaggedReading(
                meter.pk, reading.customer_id, taken_at, tuple(reading.flags or ())
            )
            publish(events.ReadingsFlagged((flagged,)))
    return reading


def reading_customer(meter: Meter) -> Customer | None:
    """Who a new reading of the meter is billed to: the premises' open account, or nobody for
    a supply meter. A customer meter without an open account takes no reading."""
    if meter.is_supply:
        return None
    customer = billing_customer(meter.premises_id)
    if customer is None:
        raise DomainError("no_customer", _("No open account at this meter's premises to bill."))
    return customer


# A reading far below the previous one: backwards, and more than a rollover explains.
BACKWARDS_FLAGS = frozenset({"reverse", "rollover_implausible"})


def goes_backwards(meter: Meter, value, taken_at: dt.datetime) -> Decimal | None:
    """The previous register value when ``value`` would be stored flagged as going backwards
    (reverse, or a rollover the meter could not have made), else None. Stores nothing: a form
    asks the reader to confirm such a value before record_reading keeps it flagged. Bad input
    gives None here; record_reading refuses it with the reason."""
    try:
        value = to_volume(value)
        th = vee.Thresholds.current(meter)
        base = baseline(meter, th=th)
        verdict = vee.evaluate(meter.digits, meter.max_flow_m3h, base, value, taken_at, timezone.now(), th)
    except (DomainError, ConsumptionError):
        return None
    return base.value if BACKWARDS_FLAGS & set(verdict.flags) else None


def raise_alerts(meter, customer, reading, verdict, now, device_flags=()) -> list[TamperAlert]:
    rows = alert_rows(meter.pk, customer.pk if customer else None, reading.value, verdict, now, device_flags)
    alerts = [TamperAlert(**a, reading=reading) for a in rows]
    return TamperAlert.objects.bulk_create(alerts) if alerts else []


def alert_rows(meter_id, customer_id, value, verdict, now, device_flags=()) -> list[dict]:
    """Tamper signs of one reading (its register ``value``): reverse flow, an implausible jump,
    a device's own alarms. The caller links each row to the stored reading."""
    rows = []
    common = {"meter_id": meter_id, "customer_id": customer_id, "raised_at": now}
    if "reverse" in verdict.flags:
        rows.append({**common, "kind": AlertKind.REVERSE_FLOW, "detail": f"{verdict.consumption} m³"})
    if verdict.jump or "rollover_implausible" in verdict.flags:
        rows.append({**common, "kind": AlertKind.IMPLAUSIBLE_JUMP, "detail": f"{value}"})
    for flag in device_flags:
        if flag == "tamper":
            rows.append({**common, "kind": AlertKind.DEVICE_TAMPER, "detail": ""})
        elif flag == "magnet":
            rows.append({**common, "kind": AlertKind.MAGNET, "detail": ""})
    return rows


# ---------------------------------------------------------------- review


def _reviewable(reading: Reading, to_status: str) -> Reading:
    reading = Reading.objects.select_for_update().select_related("meter").get(pk=reading.pk)
    REVIEW_TRANSITIONS.check(reading.status, to_status)
    return reading


def _chain_volume(meter: Meter, value: Decimal, taken_at: dt.datetime) -> Decimal:
    """Consumption against the previous billable reading as a person decided it: a backwards
    value within the register's tenth is a rollover, else a (negative) reverse."""
    base = baseline(meter, before=taken_at)
    return volume_used(base.value, value, digits=meter.digits).volume


def _rechain_next(meter: Meter, after: dt.datetime) -> None:
    """An approved reading slotted into the past: the next billable reading now follows it."""
    nxt = (
        Reading.objects.select_for_update()
        .filter(meter=meter, taken_at__gt=after, status__in=BILLABLE_STATUSES)
        .order_by("taken_at")
        .first()
    )
    if nxt is None:
        return
    before = {"consumption": str(nxt.consumption)}
    nxt.consumption = _chain_volume(meter, nxt.value, nxt.taken_at)
    nxt.corrected_consumption = vee.correction(
        meter, nxt.consumption, nxt.pressure_kpa, nxt.temperature_c, vee.base_conditions()
    )
    nxt.save(update_fields=["consumption", "corrected_consumption"])
    audit.record(
        "rechain", nxt, before, {"consumption": str(nxt.consumption)}, note="after an approved reading"
    )


@transaction.atomic
def approve(reading: Reading, by=None, note: str = "") -> Reading:
    Meter.objects.select_for_update().get(pk=reading.meter_id)
    reading = _reviewable(reading, ReadingStatus.APPROVED)
    return _decide(reading, ReadingStatus.APPROVED, reading.value, by, note, "approve")


@transaction.atomic
def correct(reading: Reading, value, by=None, note: str = "") -> Reading:
    value = to_volume(value)
    Meter.objects.select_for_update().get(pk=reading.meter_id)
    reading = _reviewable(reading, ReadingStatus.APPROVED)
    if value >= register_span(reading.meter.digits):
        raise InvalidInput("invalid", _("Larger than the register can show."), {"value": [_("Too large.")]})
    return _decide(reading, ReadingStatus.APPROVED, value, by, note, "correct")


@transaction.atomic
def reject(reading: Reading, by=None, note: str = "") -> Reading:
    reading = _reviewable(reading, ReadingStatus.REJECTED)
    before = {"status": reading.status}
    reading.status, reading.note = ReadingStatus.REJECTED, note[:255]
    reading.save(update_fields=["status", "note"])
    audit.record("reject", reading, before, {"status": reading.status}, note=note, actor=by)
    return reading


def _decide(reading: Reading, status: str, value: Decimal, by, note: str, action: str) -> Reading:
    meter = reading.meter
    before = {"status": reading.status, "value": str(reading.value), "consumption": str(reading.consumption)}
    reading.value = value
    reading.consumption = _chain_volume(meter, value, reading.taken_at)
    reading.corrected_consumption = vee.correction(
        meter, reading.consumption, reading.pressure_kpa, reading.temperature_c, vee.base_conditions()
    )
    reading.status, reading.note = status, note[:255]
    reading.save(update_fields=["value", "consumption", "corrected_consumption", "status", "note"])
    _rechain_next(meter, reading.taken_at)
    after = {"status": status, "value": str(value), "consumption": str(reading.consumption)}
    audit.record(action, reading, before, after, note=note, actor=by)
    return reading


def review_queue():
    return (
        Reading.objects.filter(status=ReadingStatus.FLAGGED)
        .select_related("meter", "customer", "photo")
        .order_by("taken_at")
    )


# ---------------------------------------------------------------- estimation


@transaction.atomic
def estimate_reading(meter: Meter, at: dt.datetime, by=None) -> Reading:
    """A missing reading estimated from the meter's usual rate, marked estimated (billable);
    the next real reading trues it up (its consumption is measured from the estimate)."""
    meter = Meter.objects.select_for_update().get(pk=meter.pk)
    if meter.status != MeterStatus.INSTALLED:
        raise DomainError("meter_removed", _("This meter is removed."))
    base = baseline(meter)
    if base.latest_at is not None and at <= base.latest_at:
        raise DomainError("out_of_order", _("Estimates only extend the newest reading."))
    if not base.rate_per_hour:
        raise DomainError("no_history", _("Not enough readings to estimate from."))
    customer = reading_customer(meter)
    volume = round_volume(base.rate_per_hour * vee._hours(at, base.at))
    value = (base.value + volume) % register_span(meter.digits)
    reading = Reading.objects.create(
        meter=meter,
        customer=customer,
        value=value,
        taken_at=at,
        reason=ReadingReason.PERIODIC,
        status=ReadingStatus.ESTIMATED,
        consumption=volume,
        corrected_consumption=vee.correction(meter, volume, None, None, None)
        if meter.correction_factor
        else None,
        source=ReadingSource.ESTIMATE,
    )
    audit.record("estimate", reading, None, {"value": str(value), "consumption": str(volume)}, actor=by)
    return reading


# ---------------------------------------------------------------- figures


def billable_volume(customer, start: dt.datetime, end: dt.datetime) -> Decimal:
    """The customer's billable volume in [start, end) (gasworks.metering.billable: the one
    definition the billing run uses too; the run leaves out readings a prepaid meter has
    already charged one by one)."""
    total = (
        billable.readings(start, end).filter(customer=customer).aggregate(v=DecimalSum(billable.VOLUME))["v"]
    )
    return total if total is not None else billable.ZERO


def open_alerts():
    return TamperAlert.objects.filter(closed_at__isnull=True)


@transaction.atomic
def close_alert(alert: TamperAlert, by=None, note: str = "") -> TamperAlert:
    alert = TamperAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.closed_at is not None:
        raise DomainError("wrong_state", _("This alert is already closed."))
    alert.closed_at, alert.closed_by = timezone.now(), by
    alert.save(update_fields=["closed_at", "closed_by"])
    audit.record("close", alert, None, {"closed": True}, note=note, actor=by)
    return alert
