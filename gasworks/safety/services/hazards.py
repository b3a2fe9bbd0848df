"""Hazards (隐患): raised from a failed checklist item or directly, rectified by the customer,
re-inspected and closed. The deadline follows the level (a parameter per level)."""

import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.errors import InvalidInput
from gasworks.lib.events import publish
from gasworks.safety.events import DeadlineClosed, DeadlineNear, DeadlinePassed, HazardRaised
from gasworks.safety.models import HAZARD_TRANSITIONS, Hazard, HazardLevel, HazardStatus, PhotoKind
from gasworks.safety.services import photos
from gasworks.system import audit, parameters


def deadline_for(level: str, raised_on: datetime.date) -> datetime.date:
    if level not in HazardLevel.values:
        raise InvalidInput("invalid_level", _("Unknown hazard level."), {"level": [_("Unknown level.")]})
    return raised_on + datetime.timedelta(days=parameters.get(f"hazard_deadline_{level}_days"))


def raise_hazard(
    customer, level: str, description: str, *, by, deadline=None, task=None, item_result=None
) -> Hazard:
    now = timezone.now()
    description = (description or "").strip()
    if not description:
        raise InvalidInput(
            "description_required", _("Describe the hazard."), {"description": [_("This field is required.")]}
        )
    today = timezone.localdate(now)
    if deadline is None:
        deadline = deadline_for(level, today)
    elif level not in HazardLevel.values:
        deadline_for(level, today)  # raises the clear error
    if deadline < today:
        raise InvalidInput(
            "deadline_in_past",
            _("The rectification deadline cannot be in the past."),
            {"deadline": [_("Pick today or a later date.")]},
        )
    with transaction.atomic():
        hazard = Hazard.objects.create(
            customer=customer,
            task=task,
            item_result=item_result,
            level=level,
            description=description,
            deadline=deadline,
            raised_at=now,
            raised_by=by,
        )
        audit.record("create", hazard, None, audit.snapshot(hazard), note="hazard raised", actor=by)
        publish(HazardRaised(hazard.pk, hazard.customer_id, hazard.level, hazard.deadline))
    return hazard


def _locked(hazard: Hazard) -> Hazard:
    return Hazard.objects.select_for_update().get(pk=hazard.pk)


def rectify(hazard: Hazard, note: str, *, by, uploads=()) -> Hazard:
    """Record the customer's repair (with photos). The hazard then awaits re-inspection."""
    note = (note or "").strip()
    if not note:
        raise InvalidInput(
            "note_required", _("Say what was done to fix it."), {"note": [_("This field is required.")]}
        )
    prepared = [photos.prepare(u) for u in uploads]  # refuse a bad photo before writing anything
    with transaction.atomic():
        locked = _locked(hazard)
        before = audit.snapshot(locked)
        HAZARD_TRANSITIONS.move(locked, HazardStatus.RECTIFIED)
        locked.rectified_at = timezone.now()
        locked.rectified_by = by
        locked.rectification_note = note
        locked.save()
        for content in prepared:
            photos.store(content, kind=PhotoKind.RECTIFICATION, by=by, hazard=locked)
        audit.record("update", locked, before, audit.snapshot(locked), note="hazard rectified", actor=by)
    return locked


def close(hazard: Hazard, note: str, *, by) -> Hazard:
    """The re-inspection found the repair sound: the hazard is closed (and stops blocking supply)."""
    note = (note or "").strip()
    if not note:
        raise InvalidInput(
            "note_required",
            _("Record what the re-inspection found."),
            {"note": [_("This field is required.")]},
        )
    with transaction.atomic():
        locked = _locked(hazard)
        before = audit.snapshot(locked)
        HAZARD_TRANSITIONS.move(locked, HazardStatus.CLOSED)
        locked.closed_at = timezone.now()
        locked.closed_by = by
        locked.reinspection_note = note
        locked.save()
        audit.record("update", locked, before, audit.snapshot(locked), note="hazard closed", actor=by)
        publish(DeadlineClosed(locked.pk, locked.customer_id))
    return locked


def reopen(hazard: Hazard, note: str, *, by) -> Hazard:
    """The re-inspection found it not fixed: back to open with a new deadline by level."""
    note = (note or "").strip()
    if not note:
        raise InvalidInput(
            "note_required",
            _("Record what the re-inspection found."),
            {"note": [_("This field is required.")]},
        )
    with transaction.atomic():
        locked = _locked(hazard)
        before = audit.snapshot(locked)
        HAZARD_TRANSITIONS.move(locked, HazardStatus.OPEN)
        now = timezone.now()
        locked.reinspection_note = note
        locked.reopen_count += 1
        locked.deadline = max(locked.deadline, deadline_for(locked.level, timezone.localdate(now)))
        locked.save()
        audit.record("update", locked, before, audit.snapshot(locked), note="hazard reopened", actor=by)
    return locked


def overdue(queryset: QuerySet | None = None, today: datetime.date | None = None) -> QuerySet:
    """Open hazards past their deadline (a rectified one waits on us, not on the customer)."""
    queryset = Hazard.objects.all() if queryset is None else queryset
    return queryset.filter(status=HazardStatus.OPEN, deadline__lt=today or timezone.localdate())


DEADLINE_LEAD_DAYS = (3, 1)


def warn_deadlines_near(today: datetime.date | None = None, lead_days=DEADLINE_LEAD_DAYS) -> int:
    """Publish DeadlineNear for every open hazard whose deadline is exactly one of ``lead_days``
    away. Run once a day (beat, or plan_inspections from cron): each hazard is told once per
    lead day; a day missed is not made up (the overdue list shows it). Returns how many."""
    today = today or timezone.localdate()
    targets = {today + datetime.timedelta(days=d): d for d in lead_days}
    rows = Hazard.objects.filter(status=HazardStatus.OPEN, deadline__in=list(targets)).values_list(
        "pk", "customer_id", "deadline"
    )
    count = 0
    with transaction.atomic():
        for pk, customer_id, deadline in rows.order_by("deadline", "pk"):
            publish(DeadlineNear(pk, customer_id, deadline, targets[deadline]))
            count += 1
    return count


# Days after a deadline that a hazard still open is told it passed: a missed daily run is made
# up the next day; the message's key (hazard and deadline) keeps it one per hazard.
DEADLINE_PASSED_CATCH_UP_DAYS = 7


def warn_deadlines_passed(today: datetime.date | None = None) -> int:
    """Publish DeadlinePassed for every open hazard whose deadline passed in the last
    DEADLINE_PASSED_CATCH_UP_DAYS days. Run daily with warn_deadlines_near. Returns how many."""
    today = today or timezone.localdate()
    rows = Hazard.objects.filter(
        status=HazardStatus.OPEN,
        deadline__lt=today,
        deadline__gte=today - datetime.timedelta(days=DEADLINE_PASSED_CATCH_UP_DAYS),
    ).values_list("pk", "customer_id", "deadline")
    count = 0
    with transaction.atomic():
        for pk, customer_id, deadline in rows.order_by("deadline", "pk"):
            publish(DeadlinePassed(pk, customer_id, deadline))
            count += 1
    return count
