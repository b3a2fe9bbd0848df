"""Home inspections (入户安检): tasks, assignment, the checklist, nobody home and planning."""

import calendar
import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.accounts.roles import Role
from gasworks.customers.models import Customer, Status
from gasworks.errors import DomainError, InvalidInput
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
from gasworks.safety.services import hazards, move, photos
from gasworks.system import parameters


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
        move(locked, TASK_TRANSITIONS, TaskStatus.ASSIGNED, TaskStatus)
        locked.inspector = inspector
        if appointment_at is not None:
            locked.appointment_at = appointment_at
        locked.save()
    return locked


def start(task: InspectionTask, *, by) -> InspectionTask:
    with transaction.atomic():
        locked = _locked(task)
        move(locked, TASK_TRANSITIONS, TaskStatus.IN_PROGRESS, TaskStatus)
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
        move(locked, TASK_TRANSITIONS, TaskStatus.CANCELLED, TaskStatus)
        locked.finished_at = timezone.now()
        locked.note = reason.strip()
        locked.save()
    return locked


def nobody_home(task: InspectionTask, note: str = "", *, by) -> InspectionTask:
    """到访不遇: record the visit and plan a follow-up visit for the same inspector."""
    with transaction.atomic():
        locked = _locked(task)
        move(locked, TASK_TRANSITIONS, TaskStatus.NOBODY_HOME, TaskStatus)
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
        move(locked, TASK_TRANSITIONS, TaskStatus.COMPLETED, TaskStatus)
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
        for entry in results:
            item = items[entry.item]
            row = ItemResult.objects.create(
                task=locked, item=item, result=entry.result, note=entry.note.strip()
            )
            if entry.result == ItemResultValue.FAIL:
                hazards.raise_hazard(
                    locked.customer,
                    entry.hazard_level or item.hazard_level,
                    f"{item.label}: {entry.note.strip()}",
                    by=by,
                    task=locked,
                    item_result=row,
                )
        for content in prepared:
            photos.store(content, kind=PhotoKind.INSPECTION, by=by, task=locked)
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


def plan_due(today: datetime.date | None = None, *, lead_days: int | None = None) -> PlanResult:
    """Create a routine task for every active account due within the lead time that has no open
    task. Safe to rerun: the one-open-task constraint keeps duplicates out even under races."""
    today = today or timezone.localdate()
    lead = parameters.get("inspection_plan_lead_days") if lead_days is None else lead_days
    horizon = today + datetime.timedelta(days=lead)
    areas = {
        a.district: a.inspector
        for a in InspectorArea.objects.select_related("inspector").filter(inspector__is_active=True)
    }
    customers = (
        Customer.objects.filter(status=Status.ACTIVE)
        .exclude(inspections__status__in=OPEN_TASK_STATUSES)
        .select_related("premises")
        .annotate(last=Max("inspections__finished_at", filter=Q(inspections__status=TaskStatus.COMPLETED)))
        .order_by("pk")
    )
    result = PlanResult()
    for customer in customers.iterator(chunk_size=500):
        last = timezone.localdate(customer.last) if customer.last else None
        due = due_on(customer, last)
        if due > horizon:
            continue
        inspector = areas.get(customer.premises.district)
        try:
            with transaction.atomic():
                InspectionTask.objects.create(
                    customer=customer,
                    premises=customer.premises,
                    district=customer.premises.district,
                    kind=TaskKind.ROUTINE,
                    due_on=due,
                    inspector=inspector,
                    status=TaskStatus.ASSIGNED if inspector else TaskStatus.PLANNED,
                )
        except IntegrityError:
            result.skipped += 1  # another planner run got there first
            continue
        result.created += 1
        result.assigned += bool(inspector)
    return result
