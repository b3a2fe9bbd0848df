"""Benchmark data (generate_data's EXTRA_GENERATORS): an inspection history for the generated
customers, so plan_inspections meets a realistic mix of inspected, overdue and new accounts.

Per customer: an account opened up to ten years ago; a completed routine inspection about every
interval of its category (with the odd "nobody home" before it); one account in five lost track
some years back and is overdue now. Written in chunks: COPY on PostgreSQL, bulk_create elsewhere."""

import datetime
import time

from django.db import transaction
from django.utils import timezone

from gasworks.customers.models import Customer
from gasworks.safety import store
from gasworks.safety.models import TaskKind, TaskStatus
from gasworks.safety.services import checklists
from gasworks.safety.services.inspections import add_months, interval_months

CHUNK = 20_000
OVERDUE_SHARE = 0.2
NOBODY_HOME_SHARE = 0.08
COLUMNS = [
    "customer_id",
    "premises_id",
    "district",
    "kind",
    "due_on",
    "status",
    "template_id",
    "started_at",
    "finished_at",
    "confirmed_by_name",
    "customer_confirmed",
    "signature",
    "note",
    "created_at",
]


def _visit(day: datetime.date, rng, zone) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(rng.randint(9, 17), rng.randrange(0, 60, 5)), zone)


def _history(row, rng, today, intervals, template_id, zone):
    """(opened_on, task rows) of one customer."""
    pk, category, premises_id, district = row
    opened = today - datetime.timedelta(days=rng.randint(0, 3650))
    months = intervals[category]
    stop = today
    if rng.random() < OVERDUE_SHARE:  # lost track some time ago: overdue now
        stop = today - datetime.timedelta(days=rng.randint(30, 1500))
    rows = []
    head = (pk, premises_id, district, TaskKind.ROUTINE.value)
    due = add_months(opened, months)
    while True:
        visited = due + datetime.timedelta(days=rng.randint(-25, 20))
        if visited > stop:
            break
        if rng.random() < NOBODY_HOME_SHARE:
            away = _visit(visited - datetime.timedelta(days=7), rng, zone)
            rows.append((*head, due, TaskStatus.NOBODY_HOME.value, None, away, away, "", False, "", "", away))
        at = _visit(visited, rng, zone)
        rows.append((*head, due, TaskStatus.COMPLETED.value, template_id, at, at, "户主", True, "", "", at))
        due = add_months(visited, months)
    return opened, rows


def generate(customer_ids: range, rng, stdout, months: int = 0) -> None:
    # The inspection history spans years whatever ``months`` is: the planner needs it.
    started = time.perf_counter()
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    template_id = checklists.ensure_standard().pk
    intervals = {c: interval_months(c) for c in ("residential", "commercial", "industrial")}
    customers = tasks = 0
    for low in range(customer_ids.start, customer_ids.stop, CHUNK):
        high = min(low + CHUNK, customer_ids.stop)
        rows = list(
            Customer.objects.filter(pk__gte=low, pk__lt=high)
            .order_by("pk")
            .values_list("pk", "category", "premises_id", "premises__district")
        )
        opened, history = [], []
        for row in rows:
            day, visits = _history(row, rng, today, intervals, template_id, zone)
            opened.append((row[0], day))
            history.extend(visits)
        with transaction.atomic():
            _write(opened, history)
        customers += len(rows)
        tasks += len(history)
    elapsed = time.perf_counter() - started
    stdout.write(
        f"safety: {tasks} past inspections for {customers} customers in {elapsed:.1f} s "
        f"({tasks / max(elapsed, 1e-9):,.0f} rows/s)"
    )


def _write(opened: list[tuple], history: list[tuple]) -> None:
    store.write_generated_history(opened, history, COLUMNS)
