"""Summaries that stay exact: rollups rebuilt per key from the base tables, read beside a live
query for whatever changed since.

A report over a year of a million customers must not scan the base tables per request, so each
heavy report keeps a rollup: rows of figures per key (a local day, or a billing period) and its
dimensions (category, district, channel, …). The two classic traps, and how this avoids them:

- **No hot row.** Writers (the ledger, the billing run, the counter) never touch a rollup: a
  summary row every counter payment updated would be a lock every cashier waits on. A rollup is
  rebuilt *per key*, in one transaction (delete the key's rows, insert them again from the base
  tables, set-based), by `refresh()`: nightly (beat / `manage.py refresh_reports`), after a
  billing run, and on demand.
- **No id watermark.** Which keys to rebuild is found by *recorded time*, not by id: every base
  row the rollup reads carries the time it was written (`created_at`, the ledger's posting time),
  and `touched(since)` lists the keys of rows recorded since `since`. A refresh looks back from
  the start of the previous refresh minus `MARGIN`, so a row whose transaction began before that
  refresh and committed after it is still caught (transactions here last seconds; the margin is
  an hour). Rows that change after they are written (a bill voided, a refund finished) are found
  through the row that records the change (the ledger's reversal or refund entry).

Reading: `keys_to_read_live(rollup)` are the keys touched since the last refresh began (minus
the margin); a report takes those keys from the base tables and every other key from the rollup.
So a report is exact even when a refresh never ran, and fast once it has.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from django.db import transaction
from django.utils import timezone

log = logging.getLogger("gasworks.reports")

MARGIN = timedelta(hours=1)


class Source(Protocol):
    def __call__(self, since: datetime) -> set: ...


@dataclass(frozen=True)
class Rollup:
    """`name`: unique; `touched(since)` → the keys whose figures rows recorded since `since`
    may have changed; `rebuild(keys)` → replace those keys' rollup rows from the base tables
    (called inside a transaction); `all_keys()` → every key there is data for (first build)."""

    name: str
    touched: Source
    rebuild: object  # Callable[[list], None]
    all_keys: object  # Callable[[], Iterable]
    # Keys rebuilt per transaction (and per call of `rebuild`, which reads them set-based):
    # 1 for a period; a month of days; more for small keys (a meter), so a refresh of a
    # million of them is not a million transactions.
    chunk: int = 1
    # A full refresh in one transaction, set-based (an INSERT ... SELECT over every key, where
    # `rebuild` takes a chunk of keys at a time); returns the keys built. None: by chunks.
    rebuild_all: object = None  # Callable[[], int] | None


ROLLUPS: dict[str, Rollup] = {}


def register(rollup: Rollup) -> Rollup:
    ROLLUPS[rollup.name] = rollup
    return rollup


def _state(name: str):
    from gasworks.reports.models import RollupState

    return RollupState.objects.filter(name=name).first()


def live_since(name: str) -> datetime | None:
    """Rows recorded at or after this time may not be in the rollup yet (None: no rollup yet,
    read everything live)."""
    state = _state(name)
    if state is None or state.refreshed_from is None:
        return None
    return state.refreshed_from - MARGIN


def keys_to_read_live(name: str) -> set | None:
    """The keys a report must compute from the base tables; None means all of them."""
    since = live_since(name)
    if since is None:
        return None
    return set(ROLLUPS[name].touched(since))


def refresh(names: Iterable[str] | None = None, full: bool = False) -> dict[str, int]:
    """Rebuild the keys touched since the previous refresh (or every key with `full`, or on the
    first run). Returns keys rebuilt per rollup."""
    from gasworks.reports.models import RollupState

    done: dict[str, int] = {}
    for name in names or list(ROLLUPS):
        rollup = ROLLUPS[name]
        started = timezone.now()
        since = None if full else live_since(name)
        # The rollup's state row is the lock two refreshes of it meet at (a task redelivered
        # beside the one still running, the nightly one beside a billing run's): each key's
        # delete and insert commit before the other's delete reads, so neither inserts the
        # key's rows twice. A state row made now has no time yet: reports still read live.
        RollupState.objects.get_or_create(name=name)
        if since is None and rollup.rebuild_all is not None:
            with transaction.atomic():
                _lock(name)
                done[name] = rollup.rebuild_all()  # type: ignore[operator]
        else:
            keys = sorted(rollup.all_keys() if since is None else rollup.touched(since))  # type: ignore[operator]
            rebuild_keys(rollup, keys)
            done[name] = len(keys)
        with transaction.atomic():
            RollupState.objects.update_or_create(name=name, defaults={"refreshed_from": started})
        log.info("rollup %s: %d keys rebuilt", name, done[name])
    return done


def by_month(days: Iterable) -> list[set]:
    """Days grouped by calendar month, in order: a day rollup's rebuild computes each month of
    its keys as one range of the base tables' indexes and keeps the keys asked for."""
    months: dict[tuple[int, int], set] = {}
    for day in sorted(days):
        months.setdefault((day.year, day.month), set()).add(day)
    return list(months.values())


def rebuild_keys(rollup: Rollup, keys: list, chunk: int | None = None) -> None:
    """Rebuild these keys (sorted), `chunk` (default the rollup's) per transaction."""
    size = chunk or rollup.chunk
    for i in range(0, len(keys), size):
        with transaction.atomic():
            _lock(rollup.name)
            rollup.rebuild(keys[i : i + size])  # type: ignore[operator]


def _lock(name: str) -> None:
    """Hold the rollup's state row until the transaction ends (see refresh)."""
    from gasworks.reports.models import RollupState

    RollupState.objects.select_for_update().filter(name=name).first()
