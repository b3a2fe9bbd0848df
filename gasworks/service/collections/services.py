"""The collections ladder (催缴): reminder, final notice, disconnection order, by days overdue.

The daily run is set-based: one read of the arrears of every account in debt finds who takes a
step (store.due_customers); then, chunk by chunk, their accounts are locked (the ledger's lock,
the one a payment takes) and the steps taken in one INSERT ... SELECT that reads the arrears
again under the locks. So a payment and the run never cross: a payment committed first leaves
nothing overdue for the insert to see, and a payment that waited for the run's lock finds the new
step and cancels it (settle, in the payment's transaction: any money in, through the ledger's
MoneyIn).

Disconnections are never ordered where cutting supply is dangerous (an unclosed hazard, a
registered medical need), nor on a day off or the day before one (weekends and the admin's
holiday calendar, where a weekend day made a working day (调休) counts as a working day)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.billing import ledger
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib import events
from gasworks.service.collections import store
from gasworks.service.collections.events import (
    DisconnectionCancelled,
    DisconnectionOrdered,
    LadderHolds,
    ReconnectionDue,
    StepsTaken,
)
from gasworks.service.collections.models import (
    CollectionRun,
    CollectionStep,
    Holiday,
    HolidayKind,
    StepKind,
    StepStatus,
    SupplyCut,
)
from gasworks.system import parameters

# Customers per transaction of a run: their accounts stay locked while their steps are taken.
CHUNK = 5_000
# What a run answers, per step kind.
COUNT_NAMES = {
    StepKind.REMINDER: "reminders",
    StepKind.FINAL_NOTICE: "final_notices",
    StepKind.DISCONNECTION_ORDER: "disconnection_orders",
}


def is_working_day(day: dt.date, calendar: dict[dt.date, str]) -> bool:
    """Monday to Friday, unless the calendar makes it a holiday; a weekend day the calendar makes
    a working day (调休) is one."""
    kind = calendar.get(day)
    if kind is not None:
        return kind == HolidayKind.WORKDAY
    return day.weekday() < 5


def may_disconnect_on(day: dt.date) -> bool:
    """Supply is cut only on a working day followed by a working day: never before a weekend or
    a holiday, when a customer cut off could not get it back."""
    calendar = dict(
        Holiday.objects.filter(day__in=[day, day + dt.timedelta(days=1)]).values_list("day", "kind")
    )
    return is_working_day(day, calendar) and is_working_day(day + dt.timedelta(days=1), calendar)


def rules_for(as_of: dt.date) -> store.Rules:
    holds: set[int] = set()
    for answer in events.ask(LadderHolds(as_of)):
        holds |= set(answer)
    min_debt = Decimal(parameters.get("collections_disconnection_min_debt"))
    return store.Rules(
        as_of=as_of,
        reminder_days=int(parameters.get("collections_reminder_days")),
        final_days=int(parameters.get("collections_final_notice_days")),
        disconnection_days=int(parameters.get("collections_disconnection_days")),
        min_debt_fen=int(min_debt * 100),
        may_disconnect=may_disconnect_on(as_of),
        holds=frozenset(holds),
    )


def check_days(rules: store.Rules) -> None:
    if not rules.reminder_days < rules.final_days < rules.disconnection_days:
        raise DomainError(
            "bad_parameters",
            _("The ladder's days must grow: reminder, then final notice, then disconnection."),
        )


def run(as_of: dt.date | None = None, by=None, chunk: int | None = None) -> dict[str, int]:
    """Take the day's steps for every account in debt: {"reminders", "final_notices",
    "disconnection_orders"} taken now. Any day, past (a missed day caught up) or ahead; the same
    day twice takes nothing new. Each chunk of customers is one transaction: a run stopped
    half-way keeps what it took, and the next run takes the rest."""
    as_of = as_of or timezone.localdate()
    chunk = chunk or CHUNK  # read now: a test's worker sets a small one
    rules = rules_for(as_of)
    check_days(rules)
    started = timezone.now()
    counts = dict.fromkeys(COUNT_NAMES.values(), 0)
    # Today, after billing's daily job, the candidates are read from its arrears snapshot (and
    # the accounts moved since, read live); another day, live.
    source = ledger.arrears_source(as_of)
    ids = store.due_customers(rules, None if source[0] == "live" else source)
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        with transaction.atomic():
            ledger.lock_accounts(part, create=False)
            taken = store.take_steps(rules, part, started)
            _announce(rules, taken)
        for _pk, _cid, step, _amount, _due in taken:
            counts[COUNT_NAMES[StepKind(step)]] += 1
    CollectionRun.objects.create(as_of=as_of, started_at=started, finished_at=timezone.now(), by=by, **counts)
    return counts


def _cut_on(kind: StepKind, as_of: dt.date, due: dt.date, rules: store.Rules) -> dt.date:
    """The day the notice names as the earliest supply may be stopped: a final notice, the day
    the debt reaches the disconnection's days; an order, the next day (a working day: orders
    are taken only on a working day before one)."""
    if kind == StepKind.DISCONNECTION_ORDER:
        return as_of + dt.timedelta(days=1)
    return max(due + dt.timedelta(days=rules.disconnection_days), as_of + dt.timedelta(days=1))


def _announce(rules: store.Rules, taken) -> None:
    """Inside the chunk's transaction: one event per step kind (its notices, written set-based
    into the outbox by the notifications writer) and one per disconnection order (the desk's
    work order)."""
    as_of = rules.as_of
    for kind in StepKind:
        items = tuple(
            (pk, cid, str(amount), due, _cut_on(kind, as_of, due, rules))
            for pk, cid, step, amount, due in taken
            if step == kind
        )
        if items:
            events.publish(StepsTaken(kind.value, as_of, items))
    for pk, cid, step, _amount, _due in taken:
        if step == StepKind.DISCONNECTION_ORDER:
            events.publish(DisconnectionOrdered(cid, pk))


def settle_credited(customer_ids, today: dt.date | None = None) -> None:
    """Money reached these customers' accounts (the ledger's MoneyIn: a payment, a credit
    adjustment, a reversed charge...), in its transaction with the accounts locked: the ladder of
    each customer who has one is settled. One query when none of them has a live step."""
    with_ladder = (
        # __any: one array parameter, not one per id (a payment chunk credits thousands).
        CollectionStep.objects.filter(customer_id__any=list(customer_ids), live=True)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
        .distinct()
    )
    for customer_id in list(with_ladder):
        settle(customer_id, today)


def settle(customer_id: int, today: dt.date | None = None) -> list[tuple[int, str, str]]:
    """With the customer's account locked, after money came in: when nothing is overdue any
    more, the customer's ladder ends (open steps cancelled) and, where supply was cut,
    reconnection is due. Money that leaves a debt overdue keeps the ladder. One statement when
    nothing was cut."""
    now = timezone.now()
    ended = store.end_if_cleared(customer_id, today or timezone.localdate(), now)
    if any(
        step == StepKind.DISCONNECTION_ORDER and status == StepStatus.CANCELLED for _pk, step, status in ended
    ):
        events.publish(DisconnectionCancelled(customer_id))
    if any(step == StepKind.DISCONNECTION_ORDER for _pk, step, _status in ended):
        cut = SupplyCut.objects.filter(customer_id=customer_id, reconnection_due_at__isnull=True).update(
            reconnection_due_at=now
        )
        if cut:
            events.publish(ReconnectionDue(customer_id))
    return ended


def disconnection_done(step_id: int) -> CollectionStep:
    """The crew cut the supply of a disconnection order: the step is done and the customer's
    supply is cut. Idempotent: a second report changes nothing."""
    with transaction.atomic():
        step = CollectionStep.objects.select_for_update().filter(pk=step_id).first()
        if step is None or step.step != StepKind.DISCONNECTION_ORDER:
            raise InvalidInput("unknown_step", _("No such disconnection order."))
        if step.status == StepStatus.DONE:
            return step
        if step.status != StepStatus.OPEN:
            raise DomainError("wrong_status", _("This disconnection order was cancelled."))
        now = timezone.now()
        step.status = StepStatus.DONE
        step.save(update_fields=["status"])
        SupplyCut.objects.update_or_create(
            customer_id=step.customer_id,
            defaults={"step": step, "cut_at": now, "reconnection_due_at": None},
        )
    return step


def disconnection_done_for(customer_id: int) -> CollectionStep | None:
    """The crew cut a customer's supply: the customer's open disconnection order (the newest) is
    done, as disconnection_done. None when there is none: a disconnection opened at the desk for
    another reason has no step and changes nothing in the ladder."""
    step_id = (
        CollectionStep.objects.filter(
            customer_id=customer_id, step=StepKind.DISCONNECTION_ORDER, status=StepStatus.OPEN
        )
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return None if step_id is None else disconnection_done(step_id)


def steps_of(customer) -> list[CollectionStep]:
    """The customer's steps, newest first."""
    return list(CollectionStep.objects.filter(customer=customer).order_by("-created_on", "-pk"))


def current_steps(customer_ids) -> dict[int, str]:
    """{customer id: label of the highest live step} for a page of accounts (one query)."""
    order = list(StepKind)
    found: dict[int, StepKind] = {}
    rows = CollectionStep.objects.filter(customer_id__in=list(customer_ids), live=True).values_list(
        "customer_id", "step"
    )
    for cid, step in rows:
        kind = StepKind(step)
        if cid not in found or order.index(kind) > order.index(found[cid]):
            found[cid] = kind
    return {cid: str(kind.label) for cid, kind in found.items()}


def open_counts() -> dict[str, int]:
    """Open steps by kind (the collections page)."""
    from django.db.models import Count

    rows = CollectionStep.objects.filter(status=StepStatus.OPEN).values("step").annotate(n=Count("pk"))
    counts = {kind.value: 0 for kind in StepKind}
    counts.update({row["step"]: row["n"] for row in rows})
    return counts
