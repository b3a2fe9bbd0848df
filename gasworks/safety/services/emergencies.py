"""Emergencies (应急): 24-hour leak reports, dispatch, arrival, resolution, response times."""

import datetime
import math
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.errors import DomainError, InvalidInput
from gasworks.lib.events import publish
from gasworks.safety.events import EmergencyDispatched, EmergencyReported
from gasworks.safety.models import (
    EMERGENCY_TRANSITIONS,
    Crew,
    Emergency,
    EmergencyStatus,
    Priority,
)


class AlreadySubmitted(DomainError):
    """The page form was sent twice: the first submit made the report, here it is."""

    def __init__(self, emergency: Emergency):
        super().__init__(
            "already_submitted", _("This report was already recorded (E%(pk)s).") % {"pk": emergency.pk}
        )
        self.emergency = emergency


def report(
    *,
    address: str,
    description: str,
    priority: str,
    by,
    customer=None,
    contact_phone: str = "",
    form_token: uuid.UUID | None = None,
) -> Emergency:
    """Record a report. form_token is the page form's one-time token: the same token again (a
    double click, a resent form) finds the first report instead of making a second."""
    fields: dict[str, list[str]] = {}
    address = (address or "").strip() or (customer.premises.address if customer else "")
    if not address:
        fields["address"] = [_("Where is it? The address is required.")]
    if not (description or "").strip():
        fields["description"] = [_("Describe what is happening.")]
    if priority not in Priority.values:
        fields["priority"] = [_("Choose low, normal, high or critical.")]
    if fields:
        raise InvalidInput("invalid_emergency", _("The report is incomplete."), fields)
    try:
        with transaction.atomic():
            emergency = Emergency.objects.create(
                customer=customer,
                address=address[:255],
                description=description.strip(),
                priority=priority,
                contact_phone=(contact_phone or (customer.phone if customer else ""))[:32],
                reported_by=by,
                reported_at=timezone.now(),
                form_token=form_token,
            )
            publish(EmergencyReported(emergency.pk, emergency.priority, emergency.customer_id))
            return emergency
    except IntegrityError:
        first = Emergency.objects.filter(form_token=form_token).first() if form_token else None
        if first is None:
            raise
        if first.reported_by_id != getattr(by, "pk", None):
            # Not this user's form: do not reveal whose report it was.
            raise InvalidInput("form_expired", _("This form has expired: please send it again.")) from None
        raise AlreadySubmitted(first) from None


def _locked(emergency: Emergency) -> Emergency:
    return Emergency.objects.select_for_update().get(pk=emergency.pk)


def dispatch(emergency: Emergency, crew: Crew | None, *, by) -> Emergency:
    if crew is None or not crew.active:
        raise InvalidInput(
            "crew_required", _("Choose a crew on duty."), {"crew": [_("Choose a crew on duty.")]}
        )
    with transaction.atomic():
        locked = _locked(emergency)
        EMERGENCY_TRANSITIONS.move(locked, EmergencyStatus.DISPATCHED)
        locked.crew = crew
        locked.dispatched_by = by
        locked.dispatched_at = timezone.now()
        locked.save()
        publish(EmergencyDispatched(locked.pk, crew.pk))
    return locked


def arrive(emergency: Emergency, *, by) -> Emergency:
    with transaction.atomic():
        locked = _locked(emergency)
        EMERGENCY_TRANSITIONS.move(locked, EmergencyStatus.ARRIVED)
        locked.arrived_at = timezone.now()
        locked.save()
    return locked


def resolve(emergency: Emergency, resolution: str, *, by) -> Emergency:
    if not (resolution or "").strip():
        raise InvalidInput(
            "resolution_required", _("Say how it was resolved."), {"resolution": [_("Required.")]}
        )
    with transaction.atomic():
        locked = _locked(emergency)
        EMERGENCY_TRANSITIONS.move(locked, EmergencyStatus.RESOLVED)
        locked.resolved_at = timezone.now()
        locked.resolution = resolution.strip()
        locked.save()
    return locked


def cancel(emergency: Emergency, reason: str, *, by) -> Emergency:
    if not (reason or "").strip():
        raise InvalidInput("reason_required", _("Give a reason."), {"resolution": [_("Required.")]})
    with transaction.atomic():
        locked = _locked(emergency)
        EMERGENCY_TRANSITIONS.move(locked, EmergencyStatus.CANCELLED)
        locked.resolved_at = timezone.now()
        locked.resolution = reason.strip()
        locked.save()
    return locked


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `fraction` of values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class ResponseFigures:
    count: int
    dispatch_mean_min: float | None
    dispatch_p90_min: float | None
    arrival_mean_min: float | None
    arrival_p90_min: float | None


def _minutes(pairs) -> list[float]:
    return [(later - earlier).total_seconds() / 60 for earlier, later in pairs if later]


def response_figures(
    since: datetime.datetime | None = None, until: datetime.datetime | None = None
) -> ResponseFigures:
    """Mean and p90, in minutes, of dispatched − reported and arrived − reported."""
    rows = Emergency.objects.exclude(status=EmergencyStatus.CANCELLED)
    if since:
        rows = rows.filter(reported_at__gte=since)
    if until:
        rows = rows.filter(reported_at__lt=until)
    data = list(rows.values_list("reported_at", "dispatched_at", "arrived_at"))
    dispatch = _minutes((r, d) for r, d, _a in data)
    arrival = _minutes((r, a) for r, _d, a in data)

    def mean(values):
        return round(sum(values) / len(values), 1) if values else None

    def p90(values):
        value = percentile(values, 0.9)
        return None if value is None else round(value, 1)

    return ResponseFigures(len(data), mean(dispatch), p90(dispatch), mean(arrival), p90(arrival))
