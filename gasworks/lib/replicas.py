"""Read replicas: reports and exports read from a PostgreSQL hot standby when
DATABASE_REPLICA_URLS lists any (settings make each a database alias "replica_<n>").

Only code that says so reads from a replica: a view or task wrapped in `reporting()` (the
report pages, the report API, background exports, the dashboard's trends). Everything else,
and every write, goes to the primary. Within a request or task, once anything was written, or
while a transaction on the primary is open, reads stay on the primary: a page never reads
what it just wrote from a replica that may not have it yet (no read-after-write). A replica
lags the primary by its replay delay (usually well under a second); a report read there may
miss a payment made that instant, which the next refresh shows.
"""

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.db import connections

_reporting: ContextVar[bool] = ContextVar("replica_reporting", default=False)
_wrote: ContextVar[bool] = ContextVar("replica_wrote", default=False)
_turns = itertools.count()


def aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith("replica_")]


def read_alias() -> str:
    """The database this code's reads go to now: a replica inside reporting() when one is
    configured and nothing was written and no primary transaction is open; else the primary."""
    replicas = aliases()
    if not replicas or not _reporting.get() or _wrote.get() or connections["default"].in_atomic_block:
        return "default"
    return replicas[next(_turns) % len(replicas)]


def read_connection():
    """The connection raw SQL of a report reads through (store.py modules use it in place of
    django.db.connection)."""
    return connections[read_alias()]


@contextmanager
def reporting() -> Iterator[None]:
    """Reads inside go to a replica (when there is one and it is safe, see read_alias)."""
    token = _reporting.set(True)
    try:
        yield
    finally:
        _reporting.reset(token)


def reads_from_replica(view):
    """Decorator of a view or task whose reads may come from a replica."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        with reporting():
            return view(*args, **kwargs)

    return wrapped


@contextmanager
def fresh_request() -> Iterator[None]:
    """A request (or task) starts with nothing written (middleware)."""
    token = _wrote.set(False)
    try:
        yield
    finally:
        _wrote.reset(token)


@contextmanager
def aside() -> Iterator[None]:
    """Writes inside do not count as the unit's writes: a progress note that the unit's reads
    never look at must not send the rest of an export to the primary."""
    wrote = _wrote.get()
    try:
        yield
    finally:
        _wrote.set(wrote)


class Router:
    """DATABASE_ROUTERS entry: reads as read_alias() says; writes and migrations on the primary."""

    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        _wrote.set(True)
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, copied: an object read on a replica is the primary's row

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


class FreshRequestMiddleware:
    """Each request starts with nothing written, so a write in one request does not keep the
    next request (same thread) off the replica."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with fresh_request():
            return self.get_response(request)
