"""Pages of the safety app: the inspector's phone page, hazards, the emergency board, and the
customer's own hazards and leak report. Each view checks its permission and calls one service."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gasworks.accounts.access import is_customer, scope_to_customer
from gasworks.customers import services as customer_services
from gasworks.customers.models import Customer, Premises
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib import media
from gasworks.lib.dates import start_of_day
from gasworks.lib.pagination import CappedPaginator
from gasworks.safety import forms, interlock, pdf
from gasworks.safety.models import (
    OPEN_EMERGENCY_STATUSES,
    OPEN_TASK_STATUSES,
    PRIORITY_RANK,
    ChecklistItem,
    ChecklistTemplate,
    Crew,
    Emergency,
    Hazard,
    HazardLevel,
    HazardStatus,
    InspectionTask,
    InspectorArea,
    ItemResultValue,
    Photo,
    PhotoKind,
    TaskStatus,
)
from gasworks.safety.services import checklists, emergencies, hazards, inspections, photos, slots
from gasworks.system import parameters
from gasworks.web.views import PAGE_SIZE, apply_error, file_reader, staff_required


def _customer_by_account(form) -> Customer | None:
    try:
        number = customer_services.check_account_no(form.cleaned_data["account_no"])
    except DomainError as exc:
        form.add_error("account_no", exc.message)
        return None
    customer = Customer.objects.select_related("premises").filter(account_no=number).first()
    if customer is None:
        form.add_error("account_no", _("No account has that number."))
    return customer


def _error_message(request, exc: DomainError) -> None:
    details = [str(m) for msgs in exc.fields.values() for m in msgs]
    messages.error(
        request, " ".join([str(exc.message), *details]) if details and exc.status == 400 else exc.message
    )


def _narrowing(request) -> dict:
    """The filters a report's drill-down passes to a list: a range of local days (`from`, `to`)
    and a district. Unparsable values are ignored (the list then shows everything)."""
    out: dict = {}
    for name in ("from", "to"):
        try:
            out[name] = datetime.date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            continue
    district = request.GET.get("district", "").strip()[:64]
    if district:
        out["district"] = district
    return out


def _day_range(queryset, field: str, narrowing: dict):
    """Rows whose `field` (a time) falls on the local days from..to."""
    if "from" in narrowing:
        queryset = queryset.filter(**{f"{field}__gte": start_of_day(narrowing["from"])})
    if "to" in narrowing:
        queryset = queryset.filter(
            **{f"{field}__lt": start_of_day(narrowing["to"] + datetime.timedelta(days=1))}
        )
    return queryset


# ---------------------------------------------------------------- inspections


@staff_required
@permission_required("safety.view_inspectiontask", raise_exception=True)
def inspection_list(request):
    """For an inspector: my open tasks, today's first. For planners: every task, filtered."""
    user = request.user
    scope = request.GET.get("scope") or ("mine" if user.role == "inspector" else "all")
    status = request.GET.get("status", "open" if scope == "mine" else "")
    tasks = InspectionTask.objects.select_related("customer", "premises", "inspector").order_by(
        "due_on", "pk"
    )
    if scope == "mine":
        tasks = tasks.filter(inspector=user)
    if status == "open":
        tasks = tasks.filter(status__in=OPEN_TASK_STATUSES)
    elif status in TaskStatus.values:
        tasks = tasks.filter(status=status)
    narrowing = _narrowing(request)
    if "from" in narrowing:
        tasks = tasks.filter(due_on__gte=narrowing["from"])
    if "to" in narrowing:
        tasks = tasks.filter(due_on__lte=narrowing["to"])
    if "district" in narrowing:
        tasks = tasks.filter(district=narrowing["district"])
    today = timezone.localdate()
    day = inspections.inspector_day(user, today) if scope == "mine" else None
    page = CappedPaginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "safety/inspection_list.html",
        {
            "page": page,
            "day": day,
            "scope": scope,
            "status": status,
            "statuses": TaskStatus.choices,
            "today": today,
            "narrowing": narrowing,
        },
    )


@staff_required
@permission_required("safety.add_inspectiontask", raise_exception=True)
def inspection_create(request):
    form = forms.TaskForm(request.POST or None, initial={"account_no": request.GET.get("account_no", "")})
    if request.method == "POST" and form.is_valid():
        customer = _customer_by_account(form)
        if customer is not None:
            try:
                task = inspections.create_task(
                    customer,
                    form.cleaned_data["due_on"],
                    by=request.user,
                    inspector=form.cleaned_data["inspector"],
                    appointment_at=form.cleaned_data["appointment_at"],
                )
            except DomainError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, _("Inspection task created."))
                return redirect("safety:inspection-detail", pk=task.pk)
    return render(request, "web/form.html", {"form": form, "title": _("New inspection task")})


@staff_required
@permission_required("safety.add_inspectiontask", raise_exception=True)
@require_POST
def inspection_plan(request):
    result = inspections.plan_due()
    messages.success(
        request,
        _("%(created)s inspection tasks planned, %(assigned)s assigned by district.")
        % {"created": result.created, "assigned": result.assigned},
    )
    return redirect("safety:inspection-list")


def _checklist_rows(template, post=None, errors=None):
    rows = []
    for index, item in enumerate(template.items.all()):
        rows.append(
            {
                "item": item,
                "result": post.get(f"result_{item.code}", "") if post else "",
                "note": post.get(f"note_{item.code}", "") if post else "",
                "errors": [
                    m
                    for key, msgs in (errors or {}).items()
                    if key.startswith(f"results.{index}.")
                    for m in msgs
                ],
            }
        )
    return rows


@staff_required
@permission_required("safety.view_inspectiontask", raise_exception=True)
def inspection_detail(request, pk):
    task = get_object_or_404(
        InspectionTask.objects.select_related("customer__premises", "inspector", "template"), pk=pk
    )
    can_change = request.user.has_perm("safety.change_inspectiontask")
    errors: dict = {}
    post = None
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        post = request.POST
        template = task.template or inspections.current_template()
        results = [
            inspections.ResultInput(
                item.code, post.get(f"result_{item.code}", ""), post.get(f"note_{item.code}", "").strip()
            )
            for item in template.items.all()
        ]
        try:
            task = inspections.complete(
                task,
                results,
                by=request.user,
                confirmed_by_name=post.get("confirmed_by_name", ""),
                customer_confirmed=post.get("customer_confirmed") == "on",
                signature=post.get("signature", ""),
                note=post.get("note", ""),
                uploads=request.FILES.getlist("photos"),
            )
        except DomainError as exc:
            errors = exc.fields
            messages.error(request, exc.message)
        else:
            raised = task.hazards.count()
            messages.success(
                request,
                _("Inspection completed.")
                + (" " + _("%(n)s hazard(s) raised.") % {"n": raised} if raised else ""),
            )
            return redirect("safety:inspection-detail", pk=task.pk)
    rows = []
    if task.is_open:
        try:
            rows = _checklist_rows(task.template or inspections.current_template(), post, errors)
        except DomainError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "safety/inspection_detail.html",
        {
            "task": task,
            "rows": rows,
            "choices": ItemResultValue.choices,
            "errors": errors,
            "post": post or {},
            "can_change": can_change and task.is_open,
            "results": task.results.select_related("item"),
            "hazards": task.hazards.all(),
            "photos": task.photos.all(),
            "block_reason": interlock.supply_block_reason(task.customer),
            "can_book": can_change and task.status in inspections.BOOKABLE_STATUSES,
            "appointment_form": forms.AppointmentForm(
                initial={
                    "day": timezone.localdate() + datetime.timedelta(days=1),
                    "starts": "09:00",
                    "ends": "11:00",
                }
            ),
        },
    )


@staff_required
@permission_required("safety.change_inspectiontask", raise_exception=True)
@require_POST
def inspection_action(request, pk, verb):
    task = get_object_or_404(InspectionTask, pk=pk)
    try:
        if verb == "start":
            inspections.start(task, by=request.user)
            messages.success(request, _("Inspection started."))
        elif verb == "nobody-home":
            follow = inspections.nobody_home(task, request.POST.get("note", ""), by=request.user)
            messages.success(
                request,
                _("Recorded: nobody home. Follow-up visit planned for %(day)s.") % {"day": follow.due_on},
            )
            return redirect("safety:inspection-detail", pk=follow.pk)
        elif verb == "photo":
            upload = request.FILES.get("photo")
            if upload is None:
                raise InvalidInput("photo_required", _("Choose a photo first."))
            photos.attach(
                upload,
                kind=PhotoKind.INSPECTION,
                by=request.user,
                task=task,
                caption=request.POST.get("caption", ""),
            )
            messages.success(request, _("Photo added."))
        elif verb == "cancel":
            inspections.cancel(task, request.POST.get("reason", ""), by=request.user)
            messages.success(request, _("Task cancelled."))
        elif verb == "book":
            form = forms.AppointmentForm(request.POST)
            if not form.is_valid():
                raise InvalidInput(
                    "invalid_appointment", _("Give the day and the window."), dict(form.errors)
                )
            starts, ends = form.window()
            booked = inspections.book_appointment(task, starts, ends, by=request.user)
            messages.success(
                request,
                _("Appointment booked: %(day)s %(from)s–%(to)s.")
                % {
                    "day": timezone.localdate(booked.appointment_at),
                    "from": timezone.localtime(booked.appointment_at).strftime("%H:%M"),
                    "to": timezone.localtime(booked.appointment_end).strftime("%H:%M"),
                },
            )
        else:
            raise Http404
    except DomainError as exc:
        _error_message(request, exc)
    return redirect("safety:inspection-detail", pk=task.pk)


# ---------------------------------------------------------------- hazards


@staff_required
@permission_required("safety.view_hazard", raise_exception=True)
def hazard_list(request, overdue_only=False):
    queryset = Hazard.objects.select_related("customer__premises").order_by("deadline", "pk")
    status = request.GET.get("status", "unclosed")
    level = request.GET.get("level", "")
    if overdue_only or request.GET.get("overdue") == "1":
        overdue_only = True
        queryset = hazards.overdue(queryset)
    elif status == "unclosed":
        queryset = queryset.exclude(status=HazardStatus.CLOSED)
    elif status in HazardStatus.values:
        queryset = queryset.filter(status=status)
    if level in HazardLevel.values:
        queryset = queryset.filter(level=level)
    narrowing = _narrowing(request)  # raised on these local days, in this district
    queryset = _day_range(queryset, "raised_at", narrowing)
    if "district" in narrowing:
        queryset = queryset.filter(customer__premises__district=narrowing["district"])
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "safety/hazard_list.html",
        {
            "page": page,
            "status": status,
            "level": level,
            "overdue_only": overdue_only,
            "statuses": HazardStatus.choices,
            "levels": HazardLevel.choices,
            "today": timezone.localdate(),
            "narrowing": narrowing,
        },
    )


def hazard_overdue(request):
    return hazard_list(request, overdue_only=True)


@staff_required
@permission_required("safety.add_hazard", raise_exception=True)
def hazard_create(request):
    form = forms.HazardForm(request.POST or None, initial={"account_no": request.GET.get("account_no", "")})
    if request.method == "POST" and form.is_valid():
        customer = _customer_by_account(form)
        if customer is not None:
            data = form.cleaned_data
            try:
                hazard = hazards.raise_hazard(
                    customer, data["level"], data["description"], by=request.user, deadline=data["deadline"]
                )
            except DomainError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, _("Hazard %(no)s raised.") % {"no": hazard.notice_no})
                return redirect("safety:hazard-detail", pk=hazard.pk)
    return render(request, "web/form.html", {"form": form, "title": _("Raise a hazard")})


def _visible_hazard(request, pk) -> Hazard:
    queryset = scope_to_customer(
        request.user,
        Hazard.objects.select_related("customer__premises", "task"),
        "customer",
        "safety.view_hazard",
    )
    if not is_customer(request.user) and not request.user.has_perm("safety.view_hazard"):
        raise PermissionDenied
    return get_object_or_404(queryset, pk=pk)


@file_reader
def photo(request, pk):
    """A photo, to whoever may see the page it is shown on: an inspection's (staff with the
    permission) or a hazard's (those staff, and the customer concerned). Someone else's is a 404."""
    found = get_object_or_404(Photo, pk=pk)
    user = request.user
    sees_tasks = not is_customer(user) and user.has_perm("safety.view_inspectiontask")
    if not is_customer(user) and not sees_tasks and not user.has_perm("safety.view_hazard"):
        raise PermissionDenied
    hazards_seen = scope_to_customer(user, Hazard.objects.all(), "customer", "safety.view_hazard")
    if not (found.task_id and sees_tasks) and not (
        found.hazard_id and hazards_seen.filter(pk=found.hazard_id).exists()
    ):
        raise Http404
    return media.serve(found.image.name)


@login_required
def hazard_detail(request, pk):
    hazard = _visible_hazard(request, pk)
    user = request.user
    return render(
        request,
        "safety/hazard_detail.html",
        {
            "hazard": hazard,
            "photos": hazard.photos.all(),
            "overrides": hazard.overrides.select_related("granted_by"),
            "block_reason": interlock.supply_block_reason(hazard.customer),
            "customer_view": is_customer(user),
            "can_rectify": user.has_perm("safety.rectify_hazard") and hazard.status == HazardStatus.OPEN,
            "can_close": user.has_perm("safety.close_hazard") and hazard.status == HazardStatus.RECTIFIED,
            "can_override": user.has_perm("safety.add_supplyoverride")
            and hazard.level == HazardLevel.MAJOR
            and hazard.status != HazardStatus.CLOSED
            and not hazard.overrides.filter(revoked_at__isnull=True).exists(),
            "overdue": hazard.status == HazardStatus.OPEN and hazard.deadline < timezone.localdate(),
        },
    )


@login_required
def hazard_notice(request, pk):
    hazard = _visible_hazard(request, pk)
    response = HttpResponse(pdf.rectification_notice(hazard), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{hazard.notice_no}.pdf"'
    return response


HAZARD_ACTIONS = {
    "rectify": "safety.rectify_hazard",
    "close": "safety.close_hazard",
    "reopen": "safety.close_hazard",
    "override": "safety.add_supplyoverride",
}


@staff_required
@require_POST
def hazard_action(request, pk, verb):
    if verb not in HAZARD_ACTIONS:
        raise Http404
    if not request.user.has_perm(HAZARD_ACTIONS[verb]):
        raise PermissionDenied
    hazard = get_object_or_404(Hazard, pk=pk)
    note = request.POST.get("note", "")
    try:
        if verb == "rectify":
            hazards.rectify(hazard, note, by=request.user, uploads=request.FILES.getlist("photos"))
            messages.success(request, _("Rectification recorded: awaiting re-inspection."))
        elif verb == "close":
            hazards.close(hazard, note, by=request.user)
            messages.success(request, _("Hazard closed."))
        elif verb == "reopen":
            hazards.reopen(hazard, note, by=request.user)
            messages.warning(request, _("Hazard reopened."))
        else:
            interlock.grant_override(hazard, request.POST.get("reason", ""), by=request.user)
            messages.warning(request, _("Supply interlock overridden for this hazard."))
    except DomainError as exc:
        _error_message(request, exc)
    return redirect("safety:hazard-detail", pk=hazard.pk)


# ---------------------------------------------------------------- emergencies


def _open_emergencies():
    rank = Case(
        *[When(priority=p, then=Value(r)) for p, r in PRIORITY_RANK.items()], output_field=IntegerField()
    )
    return (
        Emergency.objects.filter(status__in=OPEN_EMERGENCY_STATUSES)
        .select_related("crew", "customer")
        .annotate(rank=rank)
        .order_by("rank", "reported_at")
    )


def _board_context():
    now = timezone.now()
    return {
        "open": _open_emergencies(),
        "recent": Emergency.objects.exclude(status__in=OPEN_EMERGENCY_STATUSES).select_related("crew")[:10],
        "figures": emergencies.response_figures(since=now - datetime.timedelta(days=30)),
        "now": now,
        "dispatch_form": forms.DispatchForm(),
    }


@staff_required
@permission_required("safety.view_emergency", raise_exception=True)
def emergency_board(request):
    template = (
        "safety/emergency_rows.html" if request.headers.get("HX-Request") else "safety/emergency_board.html"
    )
    context = _board_context()
    narrowing = _narrowing(request)
    crew, priority = request.GET.get("crew", "")[:60], request.GET.get("priority", "")
    if narrowing or crew or priority:
        # A report's drill-down: the calls reported on those days (any status), newest first.
        matching = _day_range(Emergency.objects.select_related("crew"), "reported_at", narrowing)
        if "district" in narrowing:
            matching = matching.filter(customer__premises__district=narrowing["district"])
        if crew:
            matching = matching.filter(crew__name=crew)
        if priority:
            matching = matching.filter(priority=priority)
        context.update(
            matching=list(matching[:MATCHING_SHOWN]),
            narrowing={**narrowing, "crew": crew, "priority": priority},
        )
    return render(request, template, context)


MATCHING_SHOWN = 200


@staff_required
@permission_required("safety.add_emergency", raise_exception=True)
def emergency_create(request):
    form = forms.EmergencyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        customer = None
        if data["account_no"].strip():
            customer = _customer_by_account(form)
        if not form.errors:
            try:
                case = emergencies.report(
                    address=data["address"],
                    description=data["description"],
                    priority=data["priority"],
                    contact_phone=data["contact_phone"],
                    customer=customer,
                    by=request.user,
                    form_token=data["form_token"],
                )
            except emergencies.AlreadySubmitted as exc:
                messages.info(request, exc.message)
                return redirect("safety:emergency-detail", pk=exc.emergency.pk)
            except DomainError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, _("Emergency E%(pk)s recorded.") % {"pk": case.pk})
                return redirect("safety:emergency-detail", pk=case.pk)
    return render(request, "safety/emergency_form.html", {"form": form, "title": _("Record an emergency")})


@staff_required
@permission_required("safety.view_emergency", raise_exception=True)
def emergency_detail(request, pk):
    case = get_object_or_404(Emergency.objects.select_related("crew", "customer__premises"), pk=pk)
    return render(
        request,
        "safety/emergency_detail.html",
        {
            "case": case,
            "dispatch_form": forms.DispatchForm(),
            "can_act": request.user.has_perm("safety.dispatch_emergency"),
            "block_reason": interlock.supply_block_reason(case.customer) if case.customer else None,
        },
    )


@staff_required
@permission_required("safety.dispatch_emergency", raise_exception=True)
@require_POST
def emergency_action(request, pk, verb):
    case = get_object_or_404(Emergency, pk=pk)
    try:
        if verb == "dispatch":
            form = forms.DispatchForm(request.POST)
            crew = form.cleaned_data["crew"] if form.is_valid() else None
            emergencies.dispatch(case, crew, by=request.user)
            messages.success(request, _("Crew dispatched."))
        elif verb == "arrive":
            emergencies.arrive(case, by=request.user)
            messages.success(request, _("Arrival recorded."))
        elif verb == "resolve":
            emergencies.resolve(case, request.POST.get("resolution", ""), by=request.user)
            messages.success(request, _("Emergency resolved."))
        elif verb == "cancel":
            emergencies.cancel(case, request.POST.get("resolution", ""), by=request.user)
            messages.success(request, _("Emergency cancelled."))
        else:
            raise Http404
    except DomainError as exc:
        _error_message(request, exc)
    if request.POST.get("next") == "board":
        return redirect("safety:emergency-board")
    return redirect("safety:emergency-detail", pk=case.pk)


# ---------------------------------------------------------------- the customer's portal


def _customer_only(request) -> Customer:
    if not is_customer(request.user):
        raise PermissionDenied
    return Customer.objects.select_related("premises").get(pk=request.user.customer_id)


@login_required
def portal_hazards(request):
    customer = _customer_only(request)
    return render(
        request,
        "safety/portal_hazards.html",
        {
            "customer": customer,
            "hazards": customer.hazards.order_by("status", "deadline"),
            "block_reason": interlock.supply_block_reason(customer),
            "today": timezone.localdate(),
        },
    )


@login_required
def portal_emergency(request):
    customer = _customer_only(request)
    form = forms.PortalEmergencyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            emergencies.report(
                address=data["address"],
                description=data["description"],
                priority="critical",
                contact_phone=data["contact_phone"],
                customer=customer,
                by=request.user,
                form_token=data["form_token"],
            )
        except emergencies.AlreadySubmitted as exc:
            messages.info(request, exc.message)
            return redirect("safety:portal-emergency")
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Your report is recorded: our crew is on the way once dispatched."))
            return redirect("safety:portal-emergency")
    return render(
        request,
        "safety/portal_emergency.html",
        {
            "form": form,
            "customer": customer,
            "reports": customer.emergencies.all()[:10],
            "emergency_phone": parameters.get("emergency_phone"),
        },
    )


@login_required
def portal_inspections(request):
    """The customer's visits: the booked one (to move), free slots to book, past inspections."""
    customer = _customer_only(request)
    form = forms.SlotForm(request.POST or None)
    status = 200
    if request.method == "POST":
        try:
            if not form.is_valid():
                raise InvalidInput("invalid_slot", _("Choose one of the slots listed."))
            task = inspections.book_slot(customer, form.cleaned_data["starts_at"], by=request.user)
        except DomainError as exc:
            apply_error(form, exc)
            status = exc.status
        else:
            when = timezone.localtime(task.appointment_at)
            messages.success(
                request,
                _("Your visit is booked for %(day)s at %(time)s.")
                % {"day": when.strftime("%Y-%m-%d"), "time": when.strftime("%H:%M")},
            )
            return redirect("safety:portal-inspections")
    task = inspections.open_task(customer)
    free = slots.free_slots(customer, slots.inspector_for(customer, task), task)
    return render(
        request,
        "safety/portal_inspections.html",
        {
            "customer": customer,
            "form": form,
            "upcoming": inspections.upcoming_appointments(customer),
            "days": slots.by_day(free),
            "booked": task is not None and task.appointment_at is not None,
            "past": customer.inspections.filter(status=TaskStatus.COMPLETED)
            .select_related("template")
            .order_by("-finished_at")[:10],
        },
        status=status,
    )


# ---------------------------------------------------------------- set-up: crews, areas, checklists


@staff_required
@permission_required("safety.view_crew", raise_exception=True)
def crew_list(request):
    return render(
        request,
        "safety/crew_list.html",
        {
            "crews": Crew.objects.select_related("leader").annotate(
                open_cases=Count("emergency", filter=Q(emergency__status__in=OPEN_EMERGENCY_STATUSES))
            )
        },
    )


def _crew_form(request, crew=None):
    form = forms.CrewForm(request.POST or None, instance=crew)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, _("Crew %(name)s saved.") % {"name": saved.name})
        return redirect("safety:crew-list")
    title = _("Edit crew") if crew else _("New crew")
    return render(request, "web/form.html", {"form": form, "title": title})


@staff_required
@permission_required("safety.add_crew", raise_exception=True)
def crew_create(request):
    return _crew_form(request)


@staff_required
@permission_required("safety.change_crew", raise_exception=True)
def crew_edit(request, pk):
    return _crew_form(request, get_object_or_404(Crew, pk=pk))


@staff_required
@permission_required("safety.view_inspectorarea", raise_exception=True)
def area_list(request):
    areas = InspectorArea.objects.select_related("inspector")
    open_by_district = dict(
        InspectionTask.objects.filter(status__in=OPEN_TASK_STATUSES)
        .values_list("district")
        .annotate(n=Count("pk"))
        .values_list("district", "n")
    )
    covered = set(InspectorArea.objects.values_list("district", flat=True))
    uncovered = sorted(
        (district, n) for district, n in open_by_district.items() if district and district not in covered
    )
    return render(
        request,
        "safety/area_list.html",
        {
            "areas": [(a, open_by_district.get(a.district, 0)) for a in areas],
            "uncovered": uncovered,
        },
    )


def _area_form(request, area=None):
    form = forms.AreaForm(request.POST or None, instance=area)
    if request.method == "POST" and form.is_valid():
        try:
            saved, taken = inspections.save_area(form, by=request.user)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(
                request,
                _("%(district)s → %(inspector)s saved; %(n)s planned task(s) assigned.")
                % {"district": saved.district, "inspector": saved.inspector.get_username(), "n": taken},
            )
            return redirect("safety:area-list")
    districts = Premises.objects.exclude(district="").values_list("district", flat=True).distinct()
    return render(
        request,
        "safety/area_form.html",
        {"form": form, "title": _("Edit area") if area else _("New area"), "districts": districts[:500]},
    )


@staff_required
@permission_required("safety.add_inspectorarea", raise_exception=True)
def area_create(request):
    return _area_form(request)


@staff_required
@permission_required("safety.change_inspectorarea", raise_exception=True)
def area_edit(request, pk):
    return _area_form(request, get_object_or_404(InspectorArea, pk=pk))


@staff_required
@permission_required("safety.delete_inspectorarea", raise_exception=True)
@require_POST
def area_delete(request, pk):
    area = get_object_or_404(InspectorArea, pk=pk)
    area.delete()
    messages.success(request, _("Area %(district)s removed.") % {"district": area.district})
    return redirect("safety:area-list")


def _count_of(rows, key: str):
    """The number of ``rows`` (filtered on OuterRef), as a correlated subquery (0 for none)."""
    counted = rows.order_by().values(key).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


@staff_required
@permission_required("safety.view_checklisttemplate", raise_exception=True)
def checklist_list(request):
    # Each count in its own subquery: counted together through two joins, every item met every
    # inspection of its version (20 items x 225,000 inspections at 100,000 customers: 2.4 s).
    versions = ChecklistTemplate.objects.annotate(
        items_count=_count_of(ChecklistItem.objects.filter(template=OuterRef("pk")), "template"),
        used=_count_of(InspectionTask.objects.filter(template=OuterRef("pk")), "template"),
    ).order_by("-version")
    return render(
        request,
        "safety/checklist_list.html",
        {"versions": versions, "draft": checklists.current_draft()},
    )


@staff_required
@permission_required("safety.add_checklisttemplate", raise_exception=True)
@require_POST
def checklist_new(request):
    try:
        draft = checklists.new_draft(by=request.user)
    except DomainError as exc:
        _error_message(request, exc)
        existing = checklists.current_draft()
        return (
            redirect("safety:checklist-detail", pk=existing.pk)
            if existing
            else redirect("safety:checklist-list")
        )
    messages.success(request, _("Draft version %(v)s created from the one in use.") % {"v": draft.version})
    return redirect("safety:checklist-detail", pk=draft.pk)


def _item_initial(template):
    return [
        {"code": i.code, "label": i.label, "hazard_level": i.hazard_level, "order": i.order}
        for i in template.items.order_by("order", "pk")
    ]


@staff_required
@permission_required("safety.view_checklisttemplate", raise_exception=True)
def checklist_detail(request, pk):
    template = get_object_or_404(ChecklistTemplate, pk=pk)
    can_edit = template.is_draft and request.user.has_perm("safety.change_checklisttemplate")
    title_form = forms.ChecklistTitleForm(request.POST or None, initial={"title": template.title})
    formset = forms.ChecklistItemFormSet(
        request.POST or None, initial=_item_initial(template), prefix="items"
    )
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if title_form.is_valid() and formset.is_valid():
            items = [
                checklists.ItemInput(f["code"], f["label"], f["hazard_level"], f["order"])
                for f in formset.cleaned_data
                if f and not f.get("DELETE")
            ]
            try:
                checklists.save_draft(template, title_form.cleaned_data["title"], items, by=request.user)
            except DomainError as exc:
                _error_message(request, exc)
            else:
                messages.success(request, _("Draft saved."))
                return redirect("safety:checklist-detail", pk=template.pk)
    return render(
        request,
        "safety/checklist_detail.html",
        {
            "template": template,
            "items": template.items.order_by("order", "pk"),
            "title_form": title_form,
            "formset": formset,
            "can_edit": can_edit,
            "can_activate": template.is_draft and request.user.has_perm("safety.change_checklisttemplate"),
            "can_discard": template.is_draft and request.user.has_perm("safety.delete_checklisttemplate"),
            "used": InspectionTask.objects.filter(template=template).count(),
        },
    )


CHECKLIST_ACTIONS = {
    "activate": "safety.change_checklisttemplate",
    "discard": "safety.delete_checklisttemplate",
}


@staff_required
@require_POST
def checklist_action(request, pk, verb):
    if verb not in CHECKLIST_ACTIONS:
        raise Http404
    if not request.user.has_perm(CHECKLIST_ACTIONS[verb]):
        raise PermissionDenied
    template = get_object_or_404(ChecklistTemplate, pk=pk)
    try:
        if verb == "activate":
            checklists.activate(template, by=request.user)
            messages.success(request, _("Version %(v)s is now in use.") % {"v": template.version})
        else:
            checklists.discard(template, by=request.user)
            messages.success(request, _("Draft discarded."))
            return redirect("safety:checklist-list")
    except DomainError as exc:
        _error_message(request, exc)
    return redirect("safety:checklist-detail", pk=template.pk)
