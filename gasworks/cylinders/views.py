"""Pages of the cylinders app: registry and traceability, the filler's phone page, inspections,
LPG orders for dispatchers and customers, label sheets, and the public QR scan page."""

import datetime
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gasworks.accounts.access import is_customer
from gasworks.customers.models import Customer
from gasworks.cylinders import deposits, forms, labels, orders, services
from gasworks.cylinders.models import (
    Cylinder,
    CylinderInspection,
    CylinderStatus,
    InspectionResult,
    LpgOrder,
    LpgPrice,
    OrderStatus,
)
from gasworks.cylinders.scale import ManualScale, ScaleError, SimulatedScale
from gasworks.errors import DomainError
from gasworks.lib.dates import start_of_day
from gasworks.lib.money import format_money
from gasworks.web.views import apply_error, staff_required

PAGE_SIZE = 25
S = CylinderStatus


def _perm(perm):
    return permission_required(perm, raise_exception=True)


# --- registry and traceability -----------------------------------------------------------------


@staff_required
@_perm("cylinders.view_cylinder")
def cylinder_list(request):
    queryset = Cylinder.objects.select_related("owner").order_by("code")
    query = request.GET.get("q", "").strip().upper()
    status = request.GET.get("status", "")
    if query:
        queryset = queryset.filter(code__startswith=query)
    if status in S.values:
        queryset = queryset.filter(status=status)
    # A report's drill-down: cylinders in service due for inspection or scrap by a day, of a
    # station and a model.
    narrowing = {}
    due_by = _day(request.GET.get("due_by", ""))
    if due_by:
        narrowing["due_by"] = due_by
        queryset = queryset.exclude(status__in=[S.SCRAPPED, S.AT_INSPECTION]).filter(
            Q(next_inspection_on__lte=due_by) | Q(scrap_on__lte=due_by)
        )
    for name, lookup in (("station", "owner__code"), ("model", "model")):
        value = request.GET.get(name, "").strip()[:16]
        if value:
            narrowing[name] = value
            queryset = queryset.filter(**{lookup: value})
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "cylinders/list.html",
        {"page": page, "q": query, "status": status, "statuses": S.choices, "narrowing": narrowing},
    )


def _day(raw: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        return None


@staff_required
@_perm("cylinders.add_cylinder")
def cylinder_create(request):
    form = forms.CylinderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cylinder = services.register_cylinder(services.CylinderData(**form.cleaned_data), by=request.user)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Cylinder %(code)s registered.") % {"code": cylinder.code})
            return redirect("cylinders:detail", code=cylinder.code)
    return render(request, "web/form.html", {"form": form, "title": _("Register a cylinder")})


@staff_required
@_perm("cylinders.view_cylinder")
def cylinder_detail(request, code):
    cylinder = get_object_or_404(
        Cylinder.objects.select_related("owner", "customer", "last_fill"), code=code.upper()
    )
    context = {
        "cylinder": cylinder,
        "events": cylinder.events.select_related("customer", "by", "order").order_by("-at", "-pk"),
        "fillings": cylinder.fillings.select_related("filled_by").order_by("-filled_at")[:50],
        "residuals": cylinder.residuals.select_related("customer").order_by("-at")[:50],
        "inspections": cylinder.inspections.order_by("-sent_on", "-pk"),
        "public": services.public_status(cylinder),
    }
    return render(request, "cylinders/detail.html", context)


@staff_required
@_perm("cylinders.view_cylinder")
def label_sheet(request):
    codes = [c.upper() for c in request.GET.get("codes", "").replace(",", " ").split()]
    queryset = Cylinder.objects.exclude(status=S.SCRAPPED).order_by("code")
    queryset = (
        queryset.filter(code__in=codes)
        if codes
        else queryset.filter(code__startswith=request.GET.get("q", "").upper())
    )
    pdf = labels.label_sheet(
        queryset[:240], lambda code: request.build_absolute_uri(reverse("cylinders:scan", args=[code]))
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="cylinder-labels.pdf"'
    return response


def scan(request, code):
    """Public: what anyone holding the cylinder may know. No customer, no person, no history."""
    cylinder = Cylinder.objects.select_related("last_fill").filter(code=code.upper()).first()
    if cylinder is None:
        raise Http404
    return render(request, "cylinders/scan.html", {"p": services.public_status(cylinder)})


# --- filling ------------------------------------------------------------------------------------


@staff_required
@_perm("cylinders.fill_cylinder")
def fill(request):
    """Scan or type a code → the interlock's answer → the gross weight → save."""
    code = services.normalize_code(request.POST.get("code") or request.GET.get("code", ""))
    cylinder = (
        Cylinder.objects.select_related("owner", "last_fill").filter(code=code).first() if code else None
    )
    refusal = None
    if cylinder is not None:
        refusal = services.fill_refusal(cylinder, services.home_station(), timezone.localdate())
    initial = {"scale_id": "manual"}
    if request.GET.get("scale") == "sim" and cylinder is not None and refusal is None:
        # The serial-scale simulator settles near the rated fill, as a real fill would.
        target = cylinder.tare_kg + cylinder.rated_fill_kg - cylinder.rated_fill_kg * 2 / 100
        try:
            scale = SimulatedScale(target)
            initial.update(gross_kg=scale.read_gross(), scale_id=scale.scale_id)
        except ScaleError as exc:
            messages.error(request, str(exc))
    form = forms.FillForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            gross = ManualScale(data["gross_kg"], data["scale_id"] or "manual").read_gross()
            filling = services.record_filling(
                code, gross, by=request.user, scale_id=data["scale_id"] or "manual"
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(
                request,
                _("%(code)s filled: %(net)s kg net.")
                % {"code": filling.cylinder.code, "net": filling.net_kg},
            )
            return redirect("cylinders:fill")
    context = {"code": code, "cylinder": cylinder, "refusal": refusal, "form": form, "looked_up": bool(code)}
    return render(request, "cylinders/fill.html", context)


@staff_required
@_perm("cylinders.fill_cylinder")
def residual(request):
    form = forms.ResidualForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            weighing = services.record_residual(
                data["code"], data["gross_kg"], by=request.user, scale_id=data["scale_id"] or "manual"
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(
                request,
                _("%(code)s: %(kg)s kg residual.")
                % {"code": weighing.cylinder.code, "kg": weighing.residual_kg},
            )
            return redirect("cylinders:residual")
    return render(request, "web/form.html", {"form": form, "title": _("Weigh a returned cylinder")})


# --- inspections ---------------------------------------------------------------------------------


@staff_required
@_perm("cylinders.inspect_cylinder")
def due(request):
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    days = days if days in (30, 60, 90) else 30
    page = Paginator(services.due_for_inspection(days), PAGE_SIZE).get_page(request.GET.get("page"))
    at_inspection = CylinderInspection.objects.filter(result=InspectionResult.PENDING).select_related(
        "cylinder"
    )
    return render(
        request,
        "cylinders/due.html",
        {"page": page, "days": days, "at_inspection": at_inspection, "pass_form": forms.InspectionPassForm()},
    )


@staff_required
@_perm("cylinders.inspect_cylinder")
@require_POST
def inspection_action(request, code, verb):
    try:
        if verb == "send":
            services.send_to_inspection(code, by=request.user)
        elif verb == "pass":
            form = forms.InspectionPassForm(request.POST)
            if not form.is_valid():
                raise DomainError("invalid", _("Invalid date."), status=400)
            services.pass_inspection(code, by=request.user, **form.cleaned_data)
        elif verb == "fail":
            services.fail_inspection(code, by=request.user, note=request.POST.get("note", ""))
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(code)s: done.") % {"code": code})
    return redirect(reverse("cylinders:due") + f"?days={request.POST.get('days', 30)}")


# --- orders and delivery -------------------------------------------------------------------------


@staff_required
@_perm("cylinders.view_lpgorder")
def order_list(request):
    queryset = LpgOrder.objects.select_related("customer", "worker").order_by("-created_at", "-pk")
    status = request.GET.get("status", "")
    if status in OrderStatus.values:
        queryset = queryset.filter(status=status)
    # A report's drill-down: orders delivered on the local days from..to.
    narrowing = {}
    first, last = _day(request.GET.get("from", "")), _day(request.GET.get("to", ""))
    if first:
        narrowing["from"] = first
        queryset = queryset.filter(delivered_at__gte=start_of_day(first))
    if last:
        narrowing["to"] = last
        queryset = queryset.filter(delivered_at__lt=start_of_day(last + datetime.timedelta(days=1)))
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "cylinders/orders.html",
        {"page": page, "status": status, "statuses": OrderStatus.choices, "narrowing": narrowing},
    )


@staff_required
@_perm("cylinders.add_lpgorder")
def order_create(request):
    form = forms.OrderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        customer = Customer.objects.filter(account_no=data["account_no"].strip()).first()
        if customer is None:
            form.add_error("account_no", _("Unknown account."))
        else:
            try:
                order = orders.place_order(
                    customer, data["model"], data["quantity"], "phone", by=request.user, note=data["note"]
                )
            except DomainError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, _("Order #%(id)s placed.") % {"id": order.pk})
                return redirect("cylinders:order", pk=order.pk)
    return render(request, "web/form.html", {"form": form, "title": _("New LPG order (phone)")})


@staff_required
@_perm("cylinders.view_lpgorder")
def order_detail(request, pk):
    order = get_object_or_404(LpgOrder.objects.select_related("customer", "worker"), pk=pk)
    can_dispatch = request.user.has_perm("cylinders.dispatch_lpgorder")
    assign_form = forms.AssignForm(initial={"worker": order.worker_id, "vehicle": order.vehicle})
    load_form, deliver_form = forms.LoadForm(), forms.DeliverForm()
    if request.method == "POST":
        if not can_dispatch:
            raise PermissionDenied
        step = request.POST.get("step")
        try:
            if step == "assign":
                assign_form = forms.AssignForm(request.POST)
                if assign_form.is_valid():
                    orders.assign(order, by=request.user, **assign_form.cleaned_data)
                    return _done(request, order, _("Assigned."))
            elif step == "load":
                load_form = forms.LoadForm(request.POST)
                if load_form.is_valid():
                    orders.load(order, load_form.cleaned_data["out_codes"], by=request.user)
                    return _done(request, order, _("Loaded: out for delivery."))
            elif step == "deliver":
                deliver_form = forms.DeliverForm(request.POST)
                if deliver_form.is_valid():
                    data = deliver_form.cleaned_data
                    order = orders.deliver(order, data["back_codes"], data["take_deposits"], by=request.user)
                    return _done(
                        request,
                        order,
                        _("Delivered: %(amount)s charged.") % {"amount": format_money(order.amount)},
                    )
            elif step == "cancel":
                orders.cancel(order, by=request.user)
                return _done(request, order, _("Cancelled."))
        except DomainError as exc:
            messages.error(request, exc.message)
    context = {
        "order": order,
        "lines": order.lines.select_related("cylinder").order_by("direction", "cylinder__code"),
        "can_dispatch": can_dispatch,
        "assign_form": assign_form,
        "load_form": load_form,
        "deliver_form": deliver_form,
        "holding": orders.customer_cylinders(order.customer),
    }
    return render(request, "cylinders/order_detail.html", context)


@staff_required
@_perm("cylinders.add_cylinderreturn")
def cylinder_return(request, customer_id):
    """A customer gives cylinders back for good (moving away, closing the account): scan them,
    optionally weigh each, and the deposits they paid come back to their account."""
    customer = get_object_or_404(Customer, pk=customer_id)
    form = forms.ReturnForm(request.POST or None, initial={"token": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            made, created = deposits.return_for_good(
                customer, data["codes"], f"page:{data['token']}", by=request.user
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            if created:
                messages.success(
                    request,
                    _("%(n)s cylinder(s) taken back; %(k)s deposit(s) refunded: %(amount)s.")
                    % {
                        "n": made.cylinders.count(),
                        "k": made.deposits_refunded,
                        "amount": format_money(made.amount),
                    },
                )
            else:
                messages.info(
                    request,
                    _("Return #%(id)s was already recorded; nothing was refunded again.") % {"id": made.pk},
                )
            return redirect("customer-detail", pk=customer.pk)
    context = {
        "customer": customer,
        "form": form,
        "holding": orders.customer_cylinders(customer),
        "held": deposits.held_cylinders(customer)[:200],
        "returns": deposits.returns_of(customer)[:20],
    }
    return render(request, "cylinders/return.html", context)


def _done(request, order, text):
    messages.success(request, text)
    return redirect("cylinders:order", pk=order.pk)


@staff_required
@_perm("cylinders.view_lpgprice")
def prices(request):
    can_edit = request.user.has_perm("cylinders.add_lpgprice")
    form = forms.PriceForm(request.POST or None)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                orders.set_price(data["model"], data["per_kg"], data["price"], data["effective_from"])
            except DomainError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, _("Price saved."))
                return redirect("cylinders:prices")
    rows = LpgPrice.objects.order_by("-effective_from", "model")
    return render(request, "cylinders/prices.html", {"rows": rows, "form": form, "can_edit": can_edit})


# --- customer portal -----------------------------------------------------------------------------


@login_required
def my_orders(request):
    if not is_customer(request.user):
        raise PermissionDenied
    customer = Customer.objects.get(pk=request.user.customer_id)
    form = forms.PortalOrderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = orders.place_order(
                customer, data["model"], data["quantity"], "portal", by=request.user, note=data["note"]
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Order #%(id)s placed.") % {"id": order.pk})
            return redirect("cylinders:my-orders")
    rows = LpgOrder.objects.filter(customer=customer).order_by("-created_at", "-pk")[:50]
    context = {"form": form, "rows": rows, "holding": orders.customer_cylinders(customer)}
    return render(request, "cylinders/my_orders.html", context)


def customer_section(request, customer):
    """The panel on the staff customer page: cylinders held, deposits, recent orders, and the
    way to take cylinders back for good."""
    user = request.user
    if not (user.has_perm("cylinders.view_lpgorder") or user.has_perm("cylinders.view_cylinderreturn")):
        return None
    return {
        "title": _("LPG cylinders"),
        "template": "cylinders/customer_section.html",
        "holding": orders.customer_cylinders(customer),
        "lpg_orders": customer.lpg_orders.order_by("-created_at")[:5]
        if user.has_perm("cylinders.view_lpgorder")
        else [],
        "can_return": user.has_perm("cylinders.add_cylinderreturn"),
        "customer_id": customer.pk,
    }
