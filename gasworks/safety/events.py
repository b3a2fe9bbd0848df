"""What safety tells the other apps (gasworks.lib.events; subscribers in gasworks/subscriptions.py).
All are delivered on commit of the transaction that did it."""

import datetime as dt
from dataclasses import dataclass

from gasworks.lib.events import Event


@dataclass(frozen=True)
class InspectionBooked(Event):
    """A visiting window was agreed with the customer (booked again: published again)."""

    task_id: int
    customer_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime


@dataclass(frozen=True)
class InspectionDone(Event):
    """A home inspection was completed; ``hazard_ids`` are the hazards it raised."""

    task_id: int
    customer_id: int
    hazard_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class HazardRaised(Event):
    hazard_id: int
    customer_id: int
    level: str
    deadline: dt.date


@dataclass(frozen=True)
class DeadlineNear(Event):
    """An open hazard's rectification deadline is ``days_left`` days away (published by the daily
    warn_deadlines_near run, once per hazard and lead day)."""

    hazard_id: int
    customer_id: int
    deadline: dt.date
    days_left: int


@dataclass(frozen=True)
class DeadlineClosed(Event):
    """A hazard was closed after re-inspection: its rectification deadline no longer runs."""

    hazard_id: int
    customer_id: int


@dataclass(frozen=True)
class EmergencyReported(Event):
    emergency_id: int
    priority: str
    customer_id: int | None = None


@dataclass(frozen=True)
class EmergencyDispatched(Event):
    emergency_id: int
    crew_id: int | None


@dataclass(frozen=True)
class InspectionTomorrow(Event):
    """A booked visit is tomorrow (published by the daily remind_appointments run; a rerun the
    same day publishes it again, and the reminder's key keeps it one message per appointment)."""

    task_id: int
    customer_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime


@dataclass(frozen=True)
class NobodyHome(Event):
    """An inspector called and found nobody home (到访不遇); ``follow_up_id`` is the visit planned
    in its place."""

    task_id: int
    customer_id: int
    visited_at: dt.datetime
    follow_up_id: int


@dataclass(frozen=True)
class DeadlinePassed(Event):
    """An open hazard's rectification deadline has passed (published by the daily
    warn_deadlines_passed run for a few days after it, told once per hazard and deadline)."""

    hazard_id: int
    customer_id: int
    deadline: dt.date
