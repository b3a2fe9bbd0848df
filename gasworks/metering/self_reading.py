"""Self-reading (自报读数): a customer reads the meter at home and sends the value with a photo
of the register from the portal. The reading goes through VEE like any other (record_reading,
source "self"): a flagged one waits in the review queue, where staff see the photo. Refused
before anything is stored: a meter not at the customer's premises, no photo or not a photo, a
value going backwards, a time in the future or before today, a second reading the same minute,
and more than self_readings_per_day readings of one meter in a day."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.errors import DomainError, InvalidInput
from gasworks.lib import images
from gasworks.lib.dates import start_of_day
from gasworks.metering import services
from gasworks.metering.models import Meter, MeterKind, MeterStatus, Reading, ReadingPhoto, ReadingSource
from gasworks.system import parameters


def customer_meters(customer):
    """The meters a customer may read: installed at their premises, not a scale."""
    return (
        Meter.objects.filter(premises_id=customer.premises_id, status=MeterStatus.INSTALLED)
        .exclude(kind__in=(MeterKind.DISTRICT, MeterKind.LPG_SCALE))
        .order_by("serial_no")
    )


def _refuse(code: str, message: str, field: str) -> InvalidInput:
    return InvalidInput(code, message, {field: [message]})


def _taken_at(read_at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """When the register was read, to the minute: now unless the customer says earlier today."""
    when = (read_at or now).replace(second=0, microsecond=0)
    if when > now:
        raise _refuse("future_time", _("That time is in the future."), "read_at")
    if when < start_of_day(timezone.localdate(now)):
        raise _refuse("not_today", _("Send the reading you take today."), "read_at")
    return when


def submit(customer, meter_id, value, photo, *, by, read_at=None, now=None) -> Reading:
    """Store a customer's reading of one of their meters with its photo; returns the reading
    (accepted, or flagged for review with its reasons)."""
    now = now or timezone.now()
    meter = customer_meters(customer).filter(pk=meter_id).first() if meter_id else None
    if meter is None:
        raise _refuse("unknown_meter", _("Choose one of your meters."), "meter")
    value = services.to_volume(value)
    taken_at = _taken_at(read_at, now)
    if photo is None:
        raise _refuse("photo_required", _("Add a photo of the meter's register."), "photo")
    content = images.prepare(
        photo, parameters.get("reading_photo_max_mb"), parameters.get("reading_photo_max_px")
    )
    with transaction.atomic():
        Meter.objects.select_for_update().get(pk=meter.pk)  # the day's count is read under the lock
        limit = parameters.get("self_readings_per_day")
        sent = Reading.objects.filter(
            meter=meter, source=ReadingSource.SELF, taken_at__gte=start_of_day(timezone.localdate(now))
        ).count()
        if sent >= limit:
            raise DomainError(
                "daily_limit",
                _("You have already sent a reading of this meter today: send the next one tomorrow."),
            )
        previous = services.goes_backwards(meter, value, taken_at)
        if previous is not None:
            raise _refuse(
                "goes_backwards",
                _("%(value)s is below the last reading %(previous)s: check the digits (black ones only).")
                % {"value": value, "previous": previous},
                "value",
            )
        if Reading.objects.filter(meter=meter, taken_at=taken_at).exists():
            raise _refuse(
                "same_minute",
                _("A reading of this meter was already sent at %(time)s: wait a minute.")
                % {"time": timezone.localtime(taken_at).strftime("%H:%M")},
                "value",
            )
        reading = services.record_reading(meter, value, taken_at, by=by, source=ReadingSource.SELF, now=now)
        stored = ReadingPhoto(reading=reading, uploaded_at=now, uploaded_by=by)
        stored.image.save(content.name or "meter.jpg", content, save=False)
        stored.save()
    return reading


def recent(customer, count: int = 10):
    """The customer's latest self-readings with their photos, newest first."""
    return (
        Reading.objects.filter(customer_id=customer.pk, source=ReadingSource.SELF)
        .select_related("meter", "photo")
        .order_by("-taken_at")[:count]
    )
