"""Pages of the service desk: the staff list, a request's page with its actions, opening a
request (customer page, counter, phone) and the customer's portal pages. Each view checks its
permission, parses input, calls one service and renders."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gasworks.accounts.access import is_customer
from gasworks.accounts.roles import Role
from gasworks.customers.models import Customer
from gasworks.errors import DomainError
from gasworks.lib import media
from gasworks.lib.pagination import CappedPaginator
from gasworks.service.desk import completion, forms, kinds, services
from gasworks.service.desk.models import (
    OPEN_STATUSES,
    RequestKind,
    RequestSource,
    RequestStatus,
    ServiceRequest,
)
from gasworks.web.views import apply_error, file_reader, staff_required

PAGE_SIZE = 25
VIEW = "service.view_servicerequest"


def _error(request, exc: DomainError) -> None:
    details = [str(m) for msgs in exc.fields.values() for m in msgs]
    messages.error(
        request, " ".join([str(exc.message), *details]) if details and exc.status == 400 else exc.message
    )


def _filtered(request, queryset):
    """The list's filters: kind, status (live by default), owning role, overdue, mine."""
    params = request.GET
    chosen = {name: params.get(name, "") for name in ("kind", "status", "owner", "overdue", "mine")}
    if chosen["kind"] in RequestKind.values:
        queryset = queryset.filter(kind=chosen["kind"])
    if chosen["status"] in RequestStatus.values:
        queryset = queryset.filter(status=chosen["status"])
    elif chosen["status"] != "all":
        chosen["status"] = ""
        queryset = queryset.filter(status__in=OPEN_STATUSES)
    if chosen["owner"] in services.OWNER_ROLES:
        queryset = queryset.filter(kind__in=[k for k, r in kinds.RULES.items() if r.owner == chosen["owner"]])
    if chosen["overdue"]:
        queryset = services.overdue(queryset)
    if chosen["mine"]:
        queryset = queryset.filter(assigned_to=request.user)
    return queryset, chosen


@staff_required
@permission_required(VIEW, raise_exception=True)
def desk_list(request):
    queryset = services.visible_to(request.user).select_related("customer", "assigned_to")
    queryset, chosen = _filtered(request, queryset)
    page = CappedPaginator(queryset.order_by("due_by", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "service/desk/list.html",
        {
            "page": page,
            "chosen": chosen,
            "now": timezone.now(),
            "kinds": RequestKind.choices,
            "statuses": RequestStatus.choices,
            "owners": [(r, Role(r).label) for r in services.OWNER_ROLES],
        },
    )


@staff_required
@permission_required("service.add_servicerequest", raise_exception=True)
def desk_new(request):
    customer_id = request.POST.get("customer") or request.GET.get("customer") or ""
    customer = (
        get_object_or_404(Customer.objects.select_related("premises"), pk=customer_id)
        if customer_id.isdigit()
        else None
    )
    if customer is None:
        raise Http404
    source = request.GET.get("source", RequestSource.PHONE)
    initial = {"form_token": uuid.uuid4(), "source": source, "kind": request.GET.get("kind", "")}
    form = forms.OpenForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            req = services.open_request(
                customer,
                data["kind"],
                data["description"],
                source=data["source"],
                by=request.user,
                form_token=data["form_token"],
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Request %(no)s opened.") % {"no": req.number})
            if services.visible_to(request.user).filter(pk=req.pk).exists():
                return redirect("service:desk-detail", pk=req.pk)
            return redirect("customer-detail", pk=customer.pk)
    return render(request, "service/desk/new.html", {"form": form, "customer": customer})


def _visible(request, pk) -> ServiceRequest:
    queryset = services.visible_to(request.user).select_related(
        "customer__premises", "assigned_to", "opened_by"
    )
    return get_object_or_404(queryset, pk=pk)


def _detail_context(request, req: ServiceRequest) -> dict:
    order = getattr(req, "work_order", None)
    return {
        "req": req,
        "order": order,
        "history": req.history.select_related("by"),
        "photos": req.photos.all(),
        "overdue": req.is_open and req.due_by < timezone.now(),
        "rule": kinds.rule(req.kind),
        "linked": req.kind in kinds.LINKED_KINDS,
    }


@login_required
def desk_detail(request, pk):
    if is_customer(request.user):
        req = _visible(request, pk)
        context = _detail_context(request, req)
        if services.may_withdraw(request.user, req):
            context["withdraw_form"] = forms.WithdrawForm()
        return render(request, "service/desk/portal_detail.html", context)
    if not request.user.has_perm(VIEW):
        raise PermissionDenied
    req = _visible(request, pk)
    context = _detail_context(request, req)
    may_work = services.may_work(request.user, req)
    context.update(
        may_work=may_work and req.is_open,
        assign_form=forms.AssignForm(users=services.assignable_users(req.kind)),
        complete_form=forms.CompleteForm(),
        meter_work=req.kind in (RequestKind.METER_CHANGE, RequestKind.NEW_CONNECTION),
        old_meter_needed=req.kind == RequestKind.METER_CHANGE,
    )
    return render(request, "service/desk/detail.html", context)


@file_reader
def desk_photo(request, pk, photo_pk):
    """A photo of a request, to whoever may open the request's page (the same rules)."""
    if not is_customer(request.user) and not request.user.has_perm(VIEW):
        raise PermissionDenied
    found = get_object_or_404(_visible(request, pk).photos, pk=photo_pk)
    return media.serve(found.image.name)


def _work_from(data) -> completion.Work:
    return completion.Work(
        old_meter=data.get("old_meter") or "",
        old_reading=data.get("old_reading"),
        new_serial_no=data.get("new_serial_no") or "",
        new_reading=data.get("new_reading"),
        new_kind=data.get("new_kind") or "",
    )


def _assign_input(request, req):
    form = forms.AssignForm(request.POST, users=services.assignable_users(req.kind))
    if not form.is_valid():
        raise DomainError("invalid", _("Choose who does it (and a valid time)."), status=400)
    return form.cleaned_data


def _act(request, req: ServiceRequest, verb: str) -> str:
    """Run one action; returns the message to show."""
    post, by = request.POST, request.user
    if verb == "assign":
        data = _assign_input(request, req)
        services.assign(req, data["user"], by=by, crew=data["crew"], scheduled_at=data["scheduled_at"])
        return _("Assigned.")
    if verb == "reassign":
        services.reassign(req, _assign_input(request, req)["user"], by=by)
        return _("Handed over.")
    if verb == "schedule":
        visit = forms.AssignForm(post)
        visit.is_valid()  # only crew and time are read here; the person is not changed
        services.schedule(req, visit.cleaned_data.get("crew"), visit.cleaned_data.get("scheduled_at"), by=by)
        return _("Visit scheduled.")
    if verb == "start":
        services.start(req, by=by)
        return _("Work started.")
    if verb == "complete":
        form = forms.CompleteForm(post)
        if not form.is_valid():
            errors = {k: [str(e) for e in v] for k, v in form.errors.items()}
            raise DomainError("invalid", _("Check the figures."), errors, status=400)
        services.complete(req, form.cleaned_data["note"], by=by, work=_work_from(form.cleaned_data))
        return _("Request completed.")
    if verb in ("cancel", "refuse"):
        services.cancel(req, post.get("reason", ""), by=by, refused=verb == "refuse")
        return _("Request refused.") if verb == "refuse" else _("Request cancelled.")
    if verb == "photo":
        upload = request.FILES.get("photo")
        if upload is None:
            raise DomainError("photo_required", _("Attach a photo."), status=400)
        services.add_photo(req, upload, by=by, caption=post.get("caption", ""))
        return _("Photo added.")
    raise Http404


@staff_required
@permission_required("service.work_servicerequest", raise_exception=True)
@require_POST
def desk_action(request, pk, verb):
    req = _visible(request, pk)
    try:
        messages.success(request, _act(request, req, verb))
    except DomainError as exc:
        _error(request, exc)
    return redirect("service:desk-detail", pk=req.pk)


# ---------------------------------------------------------------- portal


@login_required
def portal_requests(request):
    if not is_customer(request.user):
        return redirect("service:desk-list")
    customer = get_object_or_404(Customer, pk=request.user.customer_id)
    form = forms.PortalOpenForm(
        request.POST or None, kinds=kinds.portal_kinds(), initial={"form_token": uuid.uuid4()}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            req = services.open_request(
                customer,
                data["kind"],
                data["description"],
                source=RequestSource.PORTAL,
                by=request.user,
                form_token=data["form_token"],
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(
                request, _("Your request %(no)s is open. We will keep you posted.") % {"no": req.number}
            )
            return redirect("service:desk-detail", pk=req.pk)
    mine = ServiceRequest.objects.filter(customer=customer).order_by("-opened_at", "-pk")[:50]
    return render(
        request, "service/desk/portal_list.html", {"form": form, "requests": mine, "now": timezone.now()}
    )


@login_required
@require_POST
def portal_withdraw(request, pk):
    """The customer calls off its own request while nobody is on it yet (services.may_withdraw)."""
    if not is_customer(request.user):
        raise PermissionDenied
    req = _visible(request, pk)  # another customer's request: 404
    form = forms.WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for msgs in form.errors.values() for m in msgs))
        return redirect("service:desk-detail", pk=req.pk)
    try:
        services.withdraw(req, form.cleaned_data["reason"], by=request.user)
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Request %(no)s is called off.") % {"no": req.number})
    return redirect("service:desk-detail", pk=req.pk)
