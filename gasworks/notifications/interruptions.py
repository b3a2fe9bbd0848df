"""Planned supply interruptions (停气通知): announced for a district (or some of its streets),
told to every active customer there once per channel, again before the start (advance notice by
parameter), and when changed or cancelled. Customers elsewhere hear nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.customers.models import Customer, Premises, Status
from gasworks.errors import DomainError, InvalidInput
from gasworks.notifications.models import InterruptionStatus, SupplyInterruption
from gasworks.notifications.outbox import enqueue
from gasworks.system import parameters


def affected(item: SupplyInterruption):
    """The active customers an interruption concerns."""
    customers = Customer.objects.filter(status=Status.ACTIVE, premises__district=item.district)
    if item.streets:
        match = Q()
        for street in item.streets:
            match |= Q(premises__address__contains=street)
        customers = customers.filter(match)
    return customers


def _check(district: str, starts_at: datetime, ends_at: datetime, reason: str, streets) -> list[str]:
    fields: dict[str, list[str]] = {}
    if not district or not Premises.objects.filter(district=district).exists():
        fields["district"] = [_("No premises are in this district.")]
    if ends_at <= starts_at:
        fields["ends_at"] = [_("The end must come after the start.")]
    if starts_at <= timezone.now():
        fields["starts_at"] = [_("Announce an interruption before it starts.")]
    if ends_at - starts_at > timedelta(days=7):
        fields["ends_at"] = [_("An interruption of more than a week is not a planned one.")]
    if not (reason or "").strip():
        fields["reason"] = [_("Say why.")]
    cleaned = [s.strip() for s in (streets or []) if s and s.strip()]
    if len(cleaned) > 50 or any(len(s) > 64 for s in cleaned):
        fields["streets"] = [_("At most 50 streets of 64 characters.")]
    if fields:
        raise InvalidInput("invalid_interruption", _("Check the interruption."), fields=fields)
    return cleaned


def _tell(item: SupplyInterruption, kind: str, ref: str) -> int:
    variables = {
        "starts_at": timezone.localtime(item.starts_at).strftime("%Y-%m-%d %H:%M"),
        "ends_at": timezone.localtime(item.ends_at).strftime("%Y-%m-%d %H:%M"),
        "reason": item.reason,
        "area": item.area,
    }
    ids = list(affected(item).values_list("pk", flat=True))
    enqueue(kind, ((ref, pk, variables) for pk in ids))
    return len(ids)


def announce(district, starts_at, ends_at, reason, by=None, streets=()) -> SupplyInterruption:
    cleaned = _check(district, starts_at, ends_at, reason, streets)
    with transaction.atomic():
        item = SupplyInterruption.objects.create(
            district=district,
            streets=cleaned,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason.strip(),
            created_by=by,
            created_at=timezone.now(),
        )
        item.customers_told = _tell(item, "supply_interruption", f"interruption:{item.pk}:v1")
        item.save(update_fields=["customers_told"])
    return item


def change(item: SupplyInterruption, starts_at, ends_at, reason, by=None) -> SupplyInterruption:
    with transaction.atomic():
        item = SupplyInterruption.objects.select_for_update().get(pk=item.pk)
        if item.status != InterruptionStatus.ANNOUNCED:
            raise DomainError("interruption_cancelled", _("This interruption was cancelled."))
        _check(item.district, starts_at, ends_at, reason, item.streets)
        item.starts_at, item.ends_at, item.reason = starts_at, ends_at, reason.strip()
        item.version += 1
        item.reminded_at = None  # the new start gets its own reminder
        item.save()
        item.customers_told = _tell(
            item, "supply_interruption_changed", f"interruption:{item.pk}:v{item.version}"
        )
        item.save(update_fields=["customers_told"])
    return item


def cancel(item: SupplyInterruption, by=None) -> SupplyInterruption:
    with transaction.atomic():
        item = SupplyInterruption.objects.select_for_update().get(pk=item.pk)
        if item.status == InterruptionStatus.CANCELLED:
            return item
        item.status, item.cancelled_at = InterruptionStatus.CANCELLED, timezone.now()
        item.save(update_fields=["status", "cancelled_at"])
        _tell(item, "supply_interruption_cancelled", f"interruption:{item.pk}:cancelled")
    return item


def remind_due(now: datetime | None = None) -> int:
    """Tell again the interruptions starting within the advance notice (run hourly). Each
    version is reminded once (`reminded_at`, and the message key)."""
    now = now or timezone.now()
    ahead = now + timedelta(hours=int(parameters.get("supply_interruption_notice_hours")))
    due = SupplyInterruption.objects.filter(
        status=InterruptionStatus.ANNOUNCED, reminded_at__isnull=True, starts_at__gt=now, starts_at__lte=ahead
    )
    count = 0
    for locked in _each_unmarked(due.values_list("pk", flat=True), "reminded_at"):
        # Announced inside the notice window already: the announcement was the reminder.
        if not (
            locked.created_at
            >= locked.starts_at - timedelta(hours=int(parameters.get("supply_interruption_notice_hours")))
            and locked.version == 1
        ):
            _tell(locked, "supply_interruption", f"interruption:{locked.pk}:v{locked.version}:reminder")
            count += 1
        locked.reminded_at = now
        locked.save(update_fields=["reminded_at"])
    return count


def _each_unmarked(pks, mark: str):
    """Each interruption locked in a transaction of its own (the caller's loop body runs in it),
    skipping one another run has marked (`mark` set) meanwhile."""
    for pk in list(pks):
        with transaction.atomic():
            locked = SupplyInterruption.objects.select_for_update().get(pk=pk)
            if getattr(locked, mark) is None:
                yield locked


def restored_due(now: datetime | None = None) -> int:
    """Tell the customers of every announced interruption that has ended that the supply is back
    (run with remind_due). Once per interruption (`restored_at`, and the message key); one that
    ended more than a day ago is left alone (news that old is no news)."""
    now = now or timezone.now()
    due = SupplyInterruption.objects.filter(
        status=InterruptionStatus.ANNOUNCED,
        restored_at__isnull=True,
        ends_at__lte=now,
        ends_at__gt=now - timedelta(days=1),
    ).values_list("pk", flat=True)
    count = 0
    for locked in _each_unmarked(due, "restored_at"):
        _tell(locked, "supply_restored", f"interruption:{locked.pk}:restored")
        locked.restored_at = now
        locked.save(update_fields=["restored_at"])
        count += 1
    return count


def current_for(customer) -> list[SupplyInterruption]:
    """The announced interruptions not yet over that concern a customer (portal, counter)."""
    now = timezone.now()
    items = SupplyInterruption.objects.filter(
        status=InterruptionStatus.ANNOUNCED, ends_at__gt=now, district=customer.premises.district
    )
    address = customer.premises.address
    return [i for i in items if not i.streets or any(s in address for s in i.streets)]
