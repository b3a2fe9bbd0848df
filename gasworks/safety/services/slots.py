"""The visiting slots the portal offers for a home inspection: a grid of equal slots on each
working day (no weekends, no listed holidays) between two hours, for the inspector of the
customer's district, from the minimum notice up to a number of days ahead, less the visits that
inspector already has. Every figure is a parameter (gasworks/safety/params.py)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.errors import DomainError, InvalidInput
from gasworks.safety.models import OPEN_TASK_STATUSES, InspectionTask, InspectorArea
from gasworks.system import parameters


@dataclass(frozen=True)
class Slot:
    starts_at: dt.datetime
    ends_at: dt.datetime


@dataclass(frozen=True)
class Rules:
    minutes: int
    first_hour: int
    last_hour: int
    notice: dt.timedelta
    days_ahead: int
    holidays: frozenset[dt.date]

    @classmethod
    def current(cls) -> "Rules":
        return cls(
            minutes=parameters.get("inspection_slot_minutes"),
            first_hour=parameters.get("inspection_day_start_hour"),
            last_hour=min(24, parameters.get("inspection_day_end_hour")),
            notice=dt.timedelta(hours=parameters.get("inspection_booking_notice_hours")),
            days_ahead=parameters.get("inspection_booking_days_ahead"),
            holidays=parse_holidays(parameters.get("inspection_holidays")),
        )

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in self.holidays


def parse_holidays(text: str) -> frozenset[dt.date]:
    """The holiday list as the admin typed it; a malformed entry is left out, not fatal."""
    days = set()
    for part in (text or "").replace(";", ",").split(","):
        try:
            days.add(dt.date.fromisoformat(part.strip()))
        except ValueError:
            continue
    return frozenset(days)


def day_grid(day: dt.date, rules: Rules) -> list[Slot]:
    """Every slot of a working day (none on a weekend or holiday), in local time."""
    if not rules.is_working_day(day):
        return []
    length = dt.timedelta(minutes=rules.minutes)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(rules.first_hour)))
    close = timezone.make_aware(dt.datetime.combine(day, dt.time())) + dt.timedelta(hours=rules.last_hour)
    slots = []
    while start + length <= close:
        slots.append(Slot(start, start + length))
        start += length
    return slots


def inspector_for(customer, task: InspectionTask | None):
    """Who visits: the inspector already on the customer's open task, else the district's."""
    if task is not None and task.inspector_id is not None:
        return task.inspector
    area = (
        InspectorArea.objects.select_related("inspector").filter(district=customer.premises.district).first()
    )
    return area.inspector if area and area.inspector.is_active else None


def _busy(inspector, since: dt.datetime, until: dt.datetime, task: InspectionTask | None) -> list[tuple]:
    """The inspector's open visits in [since, until) as (start, end), the customer's own left out
    (moving a visit frees its old slot)."""
    visits = InspectionTask.objects.filter(
        inspector=inspector,
        status__in=OPEN_TASK_STATUSES,
        appointment_at__lt=until,
        appointment_at__gte=since - dt.timedelta(days=1),
    )
    if task is not None:
        visits = visits.filter(~Q(pk=task.pk))
    return list(visits.values_list("appointment_at", "appointment_end"))


def _free(slot: Slot, busy: list[tuple]) -> bool:
    for start, end in busy:
        if start < slot.ends_at and (end or start + (slot.ends_at - slot.starts_at)) > slot.starts_at:
            return False
    return True


def free_slots(customer, inspector, task=None, now: dt.datetime | None = None) -> list[Slot]:
    """The slots the customer may book now, soonest first."""
    if inspector is None:
        return []
    now = now or timezone.now()
    rules = Rules.current()
    today = timezone.localdate(now)
    earliest = now + rules.notice
    days = [today + dt.timedelta(days=n) for n in range(rules.days_ahead + 1)]
    grid = [s for day in days for s in day_grid(day, rules) if s.starts_at >= earliest]
    if not grid:
        return []
    busy = _busy(inspector, grid[0].starts_at, grid[-1].ends_at, task)
    return [s for s in grid if _free(s, busy)]


def _refuse(code: str, message: str) -> InvalidInput:
    return InvalidInput(code, message, {"starts_at": [message]})


def check_slot(
    customer, inspector, starts_at: dt.datetime, task=None, now: dt.datetime | None = None
) -> Slot:
    """The slot starting at ``starts_at`` if the customer may book it; else a clear refusal:
    400 for a time in the past, under the notice or off the grid, 409 for a taken slot."""
    now = now or timezone.now()
    if inspector is None:
        raise DomainError(
            "no_inspector",
            _("No inspector covers your district yet: please call us to arrange the visit."),
        )
    rules = Rules.current()
    if starts_at < now:
        raise _refuse("in_the_past", _("That time has passed: choose a slot in the future."))
    if starts_at < now + rules.notice:
        hours = int(rules.notice.total_seconds() // 3600)
        raise _refuse(
            "too_soon",
            _("Visits are booked at least %(hours)s hours ahead: choose a later slot.") % {"hours": hours},
        )
    day = timezone.localdate(starts_at)
    slot = next((s for s in day_grid(day, rules) if s.starts_at == starts_at), None)
    if slot is None or day > timezone.localdate(now) + dt.timedelta(days=rules.days_ahead):
        raise _refuse(
            "not_a_slot", _("We do not offer a visit at that time: choose one of the slots listed.")
        )
    if not _free(slot, _busy(inspector, slot.starts_at, slot.ends_at, task)):
        raise slot_taken()
    return slot


def slot_taken() -> DomainError:
    message = _("Someone has just booked that slot: please choose another one.")
    return DomainError("slot_taken", message, {"starts_at": [message]})


def by_day(free: list[Slot]) -> list[tuple[dt.date, list[Slot]]]:
    """The free slots grouped by local day, for the booking page."""
    days: dict[dt.date, list[Slot]] = {}
    for slot in free:
        days.setdefault(timezone.localdate(slot.starts_at), []).append(slot)
    return list(days.items())
