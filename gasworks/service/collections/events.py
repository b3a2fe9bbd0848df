"""What the collections ladder tells the other apps and asks them (gasworks.lib.events; who
listens and answers is in gasworks/subscriptions.py)."""

import datetime as dt
from dataclasses import dataclass

from gasworks.lib.events import Event, Question


@dataclass(frozen=True)
class StepsTaken(Event):
    """A run's chunk took these steps of one kind: ((step id, customer id, amount overdue,
    oldest due day, the day supply may be stopped from), ...). One event per chunk: the notices
    are written set-based."""

    step: str
    as_of: dt.date
    items: tuple[tuple[int, int, str, dt.date, dt.date], ...]


@dataclass(frozen=True)
class DisconnectionOrdered(Event):
    """The ladder ordered the customer's supply cut (the service desk opens the work order)."""

    customer_id: int
    step_id: int


@dataclass(frozen=True)
class DisconnectionCancelled(Event):
    """A disconnection order was cancelled before the crew cut the supply (the debt was paid):
    the service desk cancels its work order, so no crew goes out to cut a paid-up customer."""

    customer_id: int


@dataclass(frozen=True)
class ReconnectionDue(Event):
    """A customer whose supply was cut has cleared the debt: supply is to be reconnected (the
    service desk opens the reconnection order)."""

    customer_id: int


@dataclass(frozen=True)
class LadderHolds(Question[set[int]]):
    """Which accounts the ladder must skip on ``as_of`` (a payment arrangement that holds):
    each answer is a set of customer ids. With no answerer nothing is skipped."""

    as_of: dt.date
