"""Home inspections (入户安检): tasks, assignment, the checklist, nobody home and planning."""

import calendar
import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.accounts.roles import Role
from gasworks.customers.models import Category, Customer, Status
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib.dates import start_of_day
from gasworks.lib.events import publish
from gasworks.safety.events import InspectionBooked, InspectionDone, InspectionTomorrow, NobodyHome
from gasworks.safety.models import (
    OPEN_TASK_STATUSES,
    TASK_TRANSITIONS,
    ChecklistTemplate,
    HazardLevel,
    InspectionTask,
    InspectorArea,
    ItemResult,
    ItemResultValue,
    PhotoKind,
    TaskKind,
    TaskStatus,
)
from gasworks.safety.services import hazards, photos
from gasworks.system import audit, parameters


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def interval_months(category: str) -> int:
    return parameters.get(f"inspection_interval_{category}_months")


def _check_inspector(user) -> None:
    if user is None:
        return
    if not user.is_active or (user.role != Role.INSPECTOR and not user.is_superuser):
        raise InvalidInput(
            "not_an_inspector",
            _("%(name)s is not an active safety inspector.") % {"name": user.get_username()},
            {"inspector": [_("Choose a safety inspector.")]},
        )


def inspector_for(district: str):
    area = InspectorArea.objects.select_related("inspector").filter(district=district).first()
    return area.inspector if area and area.inspector.is_active else None


def save_area(form, *, by) -> tuple[InspectorArea, int]:
    """Save a district → inspector area (a validated AreaForm) and hand the district's planned,
    unassigned tasks to that inspector. Returns the area and how many tasks it took over."""
    _check_inspector(form.cleaned_data["inspector"])
    try:
        with transaction.atomic():
            area = form.save()
            taken = InspectionTask.objects.filter(
                district=area.district, status=TaskStatus.PLANNED, inspector__isnull=True
            ).update(inspector=area.inspector, status=TaskStatus.ASSIGNED)
    except IntegrityError as exc:
        raise DomainError(
            "area_exists",
            _("The district %(d)s already has an inspector.") % {"d": form.cleaned_data["district"]},
        ) from exc
    return area, taken


def create_task(
    customer: Customer,
    due_on: datetime.date,
    *,
    by=None,
    inspector=None,
    appointment_at=None,
    kind: str = TaskKind.REQUESTED,
    follow_up_of=None,
    auto_assign: bool = True,
) -> InspectionTask:
    """A new task; with no inspector given, the district's inspector (if any) gets it."""
    if customer.status == Status.CLOSED:
        raise DomainError("customer_closed", _("The account is closed: no inspection can be planned."))
    _check_inspector(inspector)
    premises = customer.premises
    if inspector is None and auto_assign:
        inspector = inspector_for(premises.district)
    task = InspectionTask(
        customer=customer,
        premises=premises,
        district=premises.district,
        kind=kind,
        due_on=due_on,
        inspector=inspector,
        appointment_at=appointment_at,
        follow_up_of=follow_up_of,
        status=TaskStatus.ASSIGNED if inspector else TaskStatus.PLANNED,
    )
    try:
        with transaction.atomic():
            task.save()
    except IntegrityError as exc:
        raise DomainError(
            "task_exists",
            _("%(customer)s already has an open inspection task.") % {"customer": customer},
        ) from exc
    return task


def _locked(task: InspectionTask) -> InspectionTask:
    return InspectionTask.objects.select_for_update().select_related("customer").get(pk=task.pk)


def assign(task: InspectionTask, inspector, *, appointment_at=None, by=None) -> InspectionTask:
    if inspector is None:
        raise InvalidInput("inspector_required", _("Choose an inspector."), {"inspector": [_("Required.")]})
    _check_inspector(inspector)
    with transaction.atomic():
        locked = _locked(task)
        TASK_TRANSITIONS.move(locked, TaskStatus.ASSIGNED)
        locked.inspector = inspector
        if appointment_at is not None:
            locked.appointment_at = appointment_at
        locked.save()
    return locked


BOOKABLE_STATUSES = (TaskStatus.PLANNED, TaskStatus.ASSIGNED)


def book_appointment(
    task: InspectionTask, starts_at: datetime.datetime, ends_at: datetime.datetime, *, by
) -> InspectionTask:
    """Agree a visiting window with the customer (one day, in the future). Booking again moves it."""
    now = timezone.now()
    fields: dict[str, list[str]] = {}
    if starts_at is None or ends_at is None:
        fields["starts_at"] = [_("Give the day and the window.")]
    elif ends_at <= starts_at:
        fields["ends_at"] = [_("The window must end after it starts.")]
    elif timezone.localdate(starts_at) != timezone.localdate(ends_at):
        fields["ends_at"] = [_("The window must end on the same day.")]
    elif starts_at < now:
        fields["starts_at"] = [_("The appointment cannot be in the past.")]
    if fields:
        raise InvalidInput("invalid_appointment", _("The appointment window is not valid."), fields)
    with transaction.atomic():
        locked = _locked(task)
        if locked.status not in BOOKABLE_STATUSES:
            raise DomainError(
                "not_bookable",
                _("An appointment can only be booked for a planned or assigned task, not a “%(s)s” one.")
                % {"s": TaskStatus(locked.status).label},
            )
        before = audit.snapshot(locked)
        locked.appointment_at, locked.appointment_end = starts_at, ends_at
        locked.save(update_fields=["appointment_at", "appointment_end"])
        audit.record("update", locked, before, audit.snapshot(locked), note="appointment booked", actor=by)
        publish(InspectionBooked(locked.pk, locked.customer_id, starts_at, ends_at))
    return locked


def remind_appointments(now: datetime.datetime | None = None) -> int:
    """Publish InspectionTomorrow for every open task booked for tomorrow (local day). Run daily
    (beat, or plan_inspections from cron); a rerun publishes again and the reminder's key keeps
    it one message per appointment. Returns how many."""
    now = now or timezone.now()
    tomorrow = timezone.localdate(now) + datetime.timedelta(days=1)
    start = start_of_day(tomorrow)
    rows = InspectionTask.objects.filter(
        status__in=OPEN_TASK_STATUSES,
        appointment_at__gte=start,
        appointment_at__lt=start + datetime.timedelta(days=1),
    ).values_list("pk", "customer_id", "appointment_at", "appointment_end")
    count = 0
    with transaction.atomic():
        for pk, customer_id, starts_at, ends_at in rows.order_by("appointment_at", "pk"):
            assert starts_at is not None  # (filtered on it)
            publish(InspectionTomorrow(pk, customer_id, starts_at, ends_at or starts_at))
            count += 1
    return count


def open_task(customer: Customer, lock: bool = False) -> InspectionTask | None:
    tasks = customer.inspections.filter(status__in=OPEN_TASK_STATUSES).select_related("inspector")
    return (tasks.select_for_update(of=("self",)) if lock else tasks).first()


def book_slot(customer: Customer, starts_at: datetime.datetime, *, by) -> InspectionTask:
    """The customer books a visit in one of the slots the portal offers (gasworks.safety.services
    .slots), or moves the booked one (its old slot is free again). With no open inspection a
    requested one is opened for that day. Refused with nothing written: a time in the past,
    under the minimum notice or off the grid (400), a slot taken (409, also when two customers
    take it at once: the constraint inspection_one_visit_per_inspector_time decides)."""
    from gasworks.safety.services import slots

    with transaction.atomic():
        task = open_task(customer, lock=True)
        inspector = slots.inspector_for(customer, task)
        slot = slots.check_slot(customer, inspector, starts_at, task)
        if task is None:
            task = create_task(customer, timezone.localdate(slot.starts_at), by=by, inspector=inspector)
        elif task.inspector_id is None:
            task = assign(task, inspector, by=by)
        try:
            with transaction.atomic():
                task = book_appointment(task, slot.starts_at, slot.ends_at, by=by)
        except IntegrityError:
            raise slots.slot_taken() from None
    return task


def upcoming_appointments(customer: Customer, now: datetime.datetime | None = None):
    """The customer's booked visits that have not ended yet, soonest first."""
    now = now or timezone.now()
    return (
        customer.inspections.filter(status__in=OPEN_TASK_STATUSES, appointment_at__isnull=False)
        .filter(Q(appointment_end__gte=now) | Q(appointment_end__isnull=True, appointment_at__gte=now))
        .select_related("inspector", "premises")
        .order_by("appointment_at")
    )


def start(task: InspectionTask, *, by) -> InspectionTask:
    with transaction.atomic():
        locked = _locked(task)
        TASK_TRANSITIONS.move(locked, TaskStatus.IN_PROGRESS)
        locked.started_at = timezone.now()
        if locked.inspector is None:
            locked.inspector = by
        locked.save()
    return locked


def cancel(task: InspectionTask, reason: str, *, by) -> InspectionTask:
    if not (reason or "").strip():
        raise InvalidInput("reason_required", _("Give a reason."), {"reason": [_("Required.")]})
    with transaction.atomic():
        locked = _locked(task)
        TASK_TRANSITIONS.move(locked, TaskStatus.CANCELLED)
        locked.finished_at = timezone.now()
        locked.note = reason.strip()
        locked.save()
    return locked


def nobody_home(task: InspectionTask, note: str = "", *, by) -> InspectionTask:
    """到访不遇: record the visit and plan a follow-up visit for the same inspector."""
    with transaction.atomic():
        locked = _locked(task)
        TASK_TRANSITIONS.move(locked, TaskStatus.NOBODY_HOME)
        now = timezone.now()
        locked.finished_at = now
        locked.note = (note or "").strip()
        if locked.inspector is None:
            locked.inspector = by
        locked.save()
        days = parameters.get("inspection_follow_up_days")
        follow = InspectionTask.objects.create(
            customer=locked.customer,
            premises=locked.premises,
            district=locked.district,
            kind=TaskKind.FOLLOW_UP,
            due_on=timezone.localdate(now) + datetime.timedelta(days=days),
            inspector=locked.inspector,
            status=TaskStatus.ASSIGNED if locked.inspector else TaskStatus.PLANNED,
            follow_up_of=locked,
        )
        publish(NobodyHome(locked.pk, locked.customer_id, now, follow.pk))
    return follow


def current_template() -> ChecklistTemplate:
    template = ChecklistTemplate.objects.filter(active=True).order_by("-version").first()
    if template is None:
        raise DomainError("no_checklist", _("No checklist template is in use: create one first."))
    return template


@dataclass(frozen=True)
class ResultInput:
    item: str  # the checklist item's code
    result: str
    note: str = ""
    hazard_level: str = ""  # overrides the item's default level when the item fails


def complete(
    task: InspectionTask,
    results: list[ResultInput],
    *,
    by,
    confirmed_by_name: str,
    customer_confirmed: bool,
    signature: str = "",
    note: str = "",
    uploads=(),
) -> InspectionTask:
    """Record the checklist; every failed item raises a hazard. All or nothing."""
    template = task.template or current_template()
    items = {item.code: item for item in template.items.all()}
    fields: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, entry in enumerate(results):
        if entry.item not in items:
            fields[f"results.{index}.item"] = [
                _("Not an item of checklist v%(v)s.") % {"v": template.version}
            ]
        elif entry.item in seen:
            fields[f"results.{index}.item"] = [_("Answered twice.")]
        seen.add(entry.item)
        if entry.result not in ItemResultValue.values:
            fields[f"results.{index}.result"] = [_("Choose pass, fail or n/a.")]
        if entry.hazard_level and entry.hazard_level not in HazardLevel.values:
            fields[f"results.{index}.hazard_level"] = [_("Unknown level.")]
        if entry.result == ItemResultValue.FAIL and not entry.note.strip():
            fields[f"results.{index}.note"] = [_("Describe what failed.")]
    missing = [items[code].label for code in items if code not in seen]
    if missing:
        fields["results"] = [_("Not answered: %(items)s.") % {"items": ", ".join(missing)}]
    if not (confirmed_by_name or "").strip():
        fields["confirmed_by_name"] = [_("The customer's name is required.")]
    if not customer_confirmed:
        fields["customer_confirmed"] = [_("The customer must confirm the result.")]
    if fields:
        raise InvalidInput("invalid_checklist", _("The checklist is not complete."), fields)
    prepared = [photos.prepare(u) for u in uploads]
    with transaction.atomic():
        locked = _locked(task)
        TASK_TRANSITIONS.move(locked, TaskStatus.COMPLETED)
        now = timezone.now()
        locked.template = template
        locked.finished_at = now
        locked.started_at = locked.started_at or now
        locked.inspector = locked.inspector or by
        locked.confirmed_by_name = confirmed_by_name.strip()
        locked.customer_confirmed = True
        locked.signature = (signature or "").strip()
        locked.note = (note or "").strip()
        locked.save()
        hazard_ids: list[int] = []
        for entry in results:
            item = items[entry.item]
            row = ItemResult.objects.create(
                task=locked, item=item, result=entry.result, note=entry.note.strip()
            )
            if entry.result == ItemResultValue.FAIL:
                raised = hazards.raise_hazard(
                    locked.customer,
                    entry.hazard_level or item.hazard_level,
                    f"{item.label}: {entry.note.strip()}",
                    by=by,
                    task=locked,
                    item_result=row,
                )
                hazard_ids.append(raised.pk)
        for content in prepared:
            photos.store(content, kind=PhotoKind.INSPECTION, by=by, task=locked)
        publish(InspectionDone(locked.pk, locked.customer_id, tuple(hazard_ids)))
    return locked


def last_inspected_on(customer: Customer) -> datetime.date | None:
    last = customer.inspections.filter(status=TaskStatus.COMPLETED).aggregate(at=Max("finished_at"))["at"]
    return timezone.localdate(last) if last else None


def due_on(customer: Customer, last: datetime.date | None) -> datetime.date:
    """Last completed inspection (or the account's opening) plus the category's interval."""
    return add_months(last or customer.opened_on, interval_months(customer.category))


@dataclass
class PlanResult:
    created: int = 0
    assigned: int = 0
    skipped: int = 0


PLAN_BATCH = 1000


def _insert_batch(batch: list[InspectionTask], result: PlanResult) -> None:
    """One multi-row insert; if another planner run took some of these customers meanwhile, the
    one-open-task constraint refuses the batch and its rows go in one by one instead."""
    try:
        with transaction.atomic():
            InspectionTask.objects.bulk_create(batch)
    except IntegrityError:
        for task in batch:
            task.pk = None
            try:
                with transaction.atomic():
                    task.save(force_insert=True)
            except IntegrityError:
                result.skipped += 1
                continue
            result.created += 1
            result.assigned += task.inspector_id is not None
        return
    result.created += len(batch)
    result.assigned += sum(task.inspector_id is not None for task in batch)


def plan_due(today: datetime.date | None = None, *, lead_days: int | None = None) -> PlanResult:
    """Create a routine task for every active account due within the lead time that has no open
    task. Safe to rerun: the one-open-task constraint keeps duplicates out even under races.
    Parameters and areas are read once; tasks go in by the thousand."""
    today = today or timezone.localdate()
    lead = parameters.get("inspection_plan_lead_days") if lead_days is None else lead_days
    horizon = today + datetime.timedelta(days=lead)
    months = {category: interval_months(category) for category in Category.values}
    areas = {
        a.district: a.inspector_id
        for a in InspectorArea.objects.filter(inspector__is_active=True).only("district", "inspector_id")
    }
    customers = (
        Customer.objects.filter(status=Status.ACTIVE)
        .exclude(inspections__status__in=OPEN_TASK_STATUSES)
        .annotate(last=Max("inspections__finished_at", filter=Q(inspections__status=TaskStatus.COMPLETED)))
        .values_list("pk", "category", "opened_on", "premises_id", "premises__district", "last")
        .order_by("pk")
    )
    result = PlanResult()
    batch: list[InspectionTask] = []
    for pk, category, opened_on, premises_id, district, last in customers.iterator(chunk_size=5000):
        since = timezone.localdate(last) if last else opened_on
        due = add_months(since, months[category])
        if due > horizon:
            continue
        inspector_id = areas.get(district)
        batch.append(
            InspectionTask(
                customer_id=pk,
                premises_id=premises_id,
                district=district,
                kind=TaskKind.ROUTINE,
                due_on=due,
                inspector_id=inspector_id,
                status=TaskStatus.ASSIGNED if inspector_id else TaskStatus.PLANNED,
            )
        )
        if len(batch) >= PLAN_BATCH:
            _insert_batch(batch, result)
            batch = []
    if batch:
        _insert_batch(batch, result)
    return result


OVERDUE_SHOWN = 50


@dataclass(frozen=True)
class InspectorDay:
    """An inspector's open work for a day: the overdue (oldest due first, at most OVERDUE_SHOWN)
    and today's (booked visits by time, then the rest), with their full counts."""

    overdue: list
    overdue_count: int
    today: list
    today_count: int


def inspector_day(inspector, today: datetime.date | None = None) -> InspectorDay:
    today = today or timezone.localdate()
    start = start_of_day(today)
    end = start + datetime.timedelta(days=1)
    open_tasks = InspectionTask.objects.filter(
        inspector=inspector, status__in=OPEN_TASK_STATUSES
    ).select_related("customer", "premises")
    overdue = open_tasks.filter(
        Q(appointment_at__lt=start) | Q(appointment_at__isnull=True, due_on__lt=today)
    ).order_by("due_on", "appointment_at", "pk")
    due_today = open_tasks.filter(
        Q(appointment_at__gte=start, appointment_at__lt=end) | Q(appointment_at__isnull=True, due_on=today)
    ).order_by(F("appointment_at").asc(nulls_last=True), "pk")
    return InspectorDay(
        overdue=list(overdue[:OVERDUE_SHOWN]),
        overdue_count=overdue.count(),
        today=list(due_today),
        today_count=due_today.count(),
    )
