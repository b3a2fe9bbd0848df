"""What the service desk tells the other apps (gasworks.lib.events; subscribers in
gasworks/subscriptions.py). Published inside the transaction that did it."""

from dataclasses import dataclass

from gasworks.lib.events import Event


@dataclass(frozen=True)
class RequestOpened(Event):
    request_id: int
    customer_id: int
    kind: str


@dataclass(frozen=True)
class RequestCompleted(Event):
    request_id: int
    customer_id: int
    kind: str


@dataclass(frozen=True)
class DisconnectionDone(Event):
    """Supply was cut at the customer (valve closed, account suspended)."""

    customer_id: int
    request_id: int


@dataclass(frozen=True)
class ReconnectionDone(Event):
    """Supply was reopened at the customer (valve opened, account reactivated)."""

    customer_id: int
    request_id: int
