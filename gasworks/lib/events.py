"""Domain events and questions: the one way a domain app tells, or asks, the others.

Two kinds of message, both frozen dataclasses defined by the app they belong to:

- An **Event** says something happened (a bill was issued, a payment received). ``publish(event)``
  is called inside the transaction that did it; each subscriber gets the event once that
  transaction commits, and never if it rolls back. Outside a transaction it is delivered at once.
  Delivery is robust: a subscriber that raises is logged (logger ``gasworks.events``, with the
  event) and the next one still runs; the committed work stands. A subscriber whose work matters
  is idempotent and has a catch-up path that retries it (said in ``gasworks/subscriptions.py``).
  Publishing costs no query.
- A subscriber registered with ``in_transaction=True`` is instead called at once, inside the
  publisher's transaction, and its error is the publisher's error: what it writes commits or
  rolls back with the work that caused it. Only for writes that must never be lost nor sent for
  work that rolled back, and that cannot fail on bad data: the notification outbox rows.
- A **Question** asks for an answer the caller needs now (what is due, a balance). ``ask(q)``
  calls every answerer synchronously, in the caller's transaction, and returns their answers in
  subscription order; an answerer's error is the caller's error.

Who listens to what is listed in one file, ``gasworks/subscriptions.py``, loaded once at start-up,
so the publisher never imports its subscribers (dependencies point one way: a domain app never imports the apps that react to it).
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from django.db import transaction

log = logging.getLogger("gasworks.events")

A = TypeVar("A")
E = TypeVar("E", bound="Event")
Q = TypeVar("Q", bound="Question")


@dataclass(frozen=True)
class Event:
    """Base of every domain event: subclasses are frozen dataclasses of ids and values (no model
    instances: they outlive the transaction)."""


@dataclass(frozen=True)
class Question(Generic[A]):
    """Base of every synchronous question; A is the type of one answer."""


_subscribers: defaultdict[type[Event], list[Callable[[Any], object]]] = defaultdict(list)
_writers: defaultdict[type[Event], list[Callable[[Any], object]]] = defaultdict(list)
_answerers: defaultdict[type[Question], list[Callable[[Any], Any]]] = defaultdict(list)
_muted: set[type[Event]] = set()


def subscribe(event_type: type[E], handler: Callable[[E], object], in_transaction: bool = False) -> None:
    """Deliver every ``event_type`` to ``handler`` after commit (or at once, inside the
    publisher's transaction, with ``in_transaction``). Subscribing twice is a no-op."""
    if not (isinstance(event_type, type) and issubclass(event_type, Event)):
        raise TypeError(f"{event_type!r} is not an Event class")
    registry = _writers if in_transaction else _subscribers
    if handler not in registry[event_type]:
        registry[event_type].append(handler)


def answer(question_type: type[Question[A]], handler: Callable[[Any], A]) -> None:
    """Let ``handler`` answer ``question_type``. Registering twice is a no-op."""
    if not (isinstance(question_type, type) and issubclass(question_type, Question)):
        raise TypeError(f"{question_type!r} is not a Question class")
    if handler not in _answerers[question_type]:
        _answerers[question_type].append(handler)


def unsubscribe(event_type: type[Event], handler: Callable[[Any], object]) -> None:
    """Take ``handler`` off ``event_type`` (tests; a missing one is a no-op)."""
    for registry in (_subscribers, _writers):
        if handler in registry.get(event_type, ()):
            registry[event_type].remove(handler)


def subscribers(event_type: type[Event]) -> list[Callable[[Any], object]]:
    return list(_subscribers.get(event_type, ()))


def writers(event_type: type[Event]) -> list[Callable[[Any], object]]:
    """The in-transaction subscribers of ``event_type``."""
    return list(_writers.get(event_type, ()))


def answerers(question_type: type[Question]) -> list[Callable[[Any], Any]]:
    return list(_answerers.get(question_type, ()))


@contextmanager
def muted(*event_types: type[Event]) -> Iterator[None]:
    """Inside the block (and in processes forked inside it) events of these types reach nobody.
    Only for generated history (generate_data): a year of past bills wants no bill notices
    queued now. Never in a request, a task or a command that does real work."""
    added = {t for t in event_types if t not in _muted}
    _muted.update(added)
    try:
        yield
    finally:
        _muted.difference_update(added)


def publish(event: Event) -> None:
    """Queue ``event`` for its subscribers on commit of the current transaction."""
    if not isinstance(event, Event):
        raise TypeError(f"{event!r} is not an Event")
    if type(event) in _muted:
        return
    for writer in _writers.get(type(event), ()):
        writer(event)
    for handler in _subscribers.get(type(event), ()):
        transaction.on_commit(partial(_deliver, handler, event), robust=True)


def _deliver(handler: Callable[[Any], object], event: Event) -> None:
    try:
        handler(event)
    except Exception:
        # Logged, not raised: the transaction is committed and the other subscribers still run.
        log.exception("subscriber %s failed on %r", getattr(handler, "__qualname__", handler), event)


def ask(question: Question[A]) -> list[A]:
    """Every answerer's answer to ``question``, in subscription order."""
    if not isinstance(question, Question):
        raise TypeError(f"{question!r} is not a Question")
    return [handler(question) for handler in _answerers.get(type(question), ())]


def ask_one(question: Question[A], default: A) -> A:
    """The first answer to ``question``, or ``default`` when nobody answers it."""
    handlers = _answerers.get(type(question), ())
    return handlers[0](question) if handlers else default
