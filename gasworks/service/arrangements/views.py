"""Pages of payment arrangements: make one (with a live preview of its schedule), see one, call it
off, print the agreement; the panels on the staff customer page and the portal."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gasworks.accounts.access import is_customer
from gasworks.customers.models import Customer
from gasworks.errors import DomainError
from gasworks.lib.dates import PlausibleDate
from gasworks.lib.money import MONEY_FIELD
from gasworks.service.arrangements import schedule, services
from gasworks.service.arrangements.models import Arrangement, ArrangementStatus
from gasworks.system import parameters
from gasworks.web.views import apply_error, staff_required


class ArrangementForm(forms.Form):
    down_payment = forms.DecimalField(
        label=gettext_lazy("Down payment"), min_value=0, initial=0, **MONEY_FIELD
    )
    instalments = forms.IntegerField(label=gettext_lazy("Instalments"), min_value=1, max_value=120, initial=6)
    first_due_on = forms.DateField(
        label=gettext_lazy("First instalment due on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[PlausibleDate()],
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


def _schedule(arrangement: Arrangement) -> list[dict]:
    return [
        {"part": part, "label": services.part_label(part), "owed": owed}
        for part, owed in services.owed_on(arrangement)
    ]


@staff_required
@permission_required("service.add_arrangement", raise_exception=True)
def create(request, customer_pk: int):
    customer = get_object_or_404(Customer, pk=customer_pk)
    today = timezone.localdate()
    form = ArrangementForm(request.POST or None, initial={"first_due_on": schedule.monthly(today, 2)[1]})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            arrangement = services.make_arrangement(
                customer,
                by=request.user,
                note=data["note"],
                down_payment=data["down_payment"],
                instalments=data["instalments"],
                first_due_on=data["first_due_on"],
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Payment arrangement made."))
            return redirect("service:arrangement-detail", pk=arrangement.pk)
    return render(
        request,
        "service/arrangements/create.html",
        {
            "customer": customer,
            "form": form,
            "debt": services.arranged_debt(customer, today),
            "existing": services.active_for(customer.pk),
            "low": parameters.get("arrangement_min_instalments"),
            "high": parameters.get("arrangement_max_instalments"),
        },
    )


@staff_required
@permission_required("service.add_arrangement", raise_exception=True)
def preview(request, customer_pk: int):
    """The schedule the form's terms give, or why they are refused (htmx, as the clerk types)."""
    customer = get_object_or_404(Customer, pk=customer_pk)
    form = ArrangementForm(request.GET)
    plan, error = None, ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.plan(customer, data["down_payment"], data["instalments"], data["first_due_on"])
        except DomainError as exc:
            error = str(exc.message)
    else:
        error = _("Fill in the down payment, the number of instalments and the first date.")
    return render(request, "service/arrangements/_preview.html", {"plan": plan, "error": error})


def _visible(request, pk: int) -> Arrangement:
    arrangement = get_object_or_404(Arrangement.objects.select_related("customer", "created_by"), pk=pk)
    user = request.user
    if is_customer(user):
        if user.customer_id != arrangement.customer_id:
            raise PermissionDenied
    elif not user.has_perm("service.view_arrangement"):
        raise PermissionDenied
    return arrangement


@login_required
def detail(request, pk: int):
    arrangement = _visible(request, pk)
    return render(
        request,
        "service/arrangements/detail.html",
        {
            "arrangement": arrangement,
            "schedule": _schedule(arrangement),
            "active": arrangement.status == ArrangementStatus.ACTIVE,
        },
    )


@login_required
def agreement(request, pk: int):
    """The agreement to print and sign (协议): the terms and the schedule."""
    arrangement = _visible(request, pk)
    return render(
        request,
        "service/arrangements/agreement.html",
        {
            "arrangement": arrangement,
            "schedule": _schedule(arrangement),
            "station": parameters.get("station_name"),
            "grace_days": parameters.get("arrangement_grace_days"),
        },
    )


@require_POST
@staff_required
@permission_required("service.cancel_arrangement", raise_exception=True)
def cancel(request, pk: int):
    arrangement = get_object_or_404(Arrangement, pk=pk)
    try:
        services.cancel(arrangement, by=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Payment arrangement cancelled."))
    return redirect("service:arrangement-detail", pk=pk)


def _panel(customer, template: str, **extra):
    arrangement = services.active_for(customer.pk) or (
        Arrangement.objects.filter(customer_id=customer.pk).order_by("-pk").first()
    )
    if arrangement is None and not extra.get("may_make"):
        return None
    return {
        "template": template,
        "customer": customer,
        "arrangement": arrangement,
        "schedule": _schedule(arrangement) if arrangement else [],
        **extra,
    }


def customer_panel(request, customer):
    """The arrangement on the staff customer page, with the button to make one."""
    if is_customer(request.user) or not request.user.has_perm("service.view_arrangement"):
        return None
    return _panel(
        customer,
        "service/arrangements/customer_panel.html",
        may_make=request.user.has_perm("service.add_arrangement"),
    )


def portal_panel(request, customer):
    """The customer's own arrangement and what is met (only while one exists)."""
    return _panel(customer, "service/arrangements/portal_panel.html")
