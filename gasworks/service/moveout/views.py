"""Pages of service.moveout: the staff flow (final reading → preview of the final bill and the
balance → settlement → confirm) and the summary of a move-out. Each parses input, calls one
service and renders."""

from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from gasworks.billing import ledger
from gasworks.customers.models import Customer
from gasworks.customers.models import Status as CustomerStatus
from gasworks.errors import DomainError
from gasworks.service.moveout import services
from gasworks.service.moveout.forms import MoveOutForm
from gasworks.service.moveout.models import MoveOut, MoveOutKind
from gasworks.web.views import apply_error, staff_required

PERMISSION = "service.move_out_customer"


@staff_required
@permission_required(PERMISSION, raise_exception=True)
def start(request, customer_pk):
    """GET: the form (``?kind=transfer`` to start as a name transfer, ``?request=<id>`` for the
    service desk's request); POST ``preview``: the final bill and balance, nothing kept; POST
    ``confirm``: the move-out, then its summary."""
    customer = get_object_or_404(Customer.objects.select_related("premises"), pk=customer_pk)
    if customer.status == CustomerStatus.CLOSED:
        done = MoveOut.objects.filter(customer=customer).first()
        return (
            redirect("service:moveout-detail", pk=done.pk)
            if done
            else redirect("customer-detail", pk=customer.pk)
        )
    initial = {
        "kind": MoveOutKind.TRANSFER if request.GET.get("kind") == "transfer" else MoveOutKind.MOVE_OUT,
        "household_size": customer.household_size,
        "request": request.GET.get("request") if (request.GET.get("request") or "").isdigit() else None,
    }
    form = MoveOutForm(
        request.POST or None,
        initial=initial,
        customer=customer,
        meters=services.meters_of(customer),
        readings_today=services.readings_today(customer),
    )
    shown = None
    if request.method == "POST" and form.is_valid():
        order = form.order()
        try:
            if "confirm" in request.POST:
                row = services.move_out(customer, order, by=request.user)
                return redirect("service:moveout-detail", pk=row.pk)
            shown = services.preview(customer, order, by=request.user)
        except DomainError as exc:
            apply_error(form, exc)
    return render(
        request,
        "service/moveout/start.html",
        {
            "customer": customer,
            "form": form,
            "preview": shown,
            "balance": ledger.balance(customer),
            "title": _("Move-out or name transfer of %(no)s") % {"no": customer.account_no},
        },
    )


@staff_required
@permission_required("service.view_moveout", raise_exception=True)
def detail(request, pk):
    row = get_object_or_404(
        MoveOut.objects.select_related(
            "customer", "new_customer", "final_reading__meter", "final_bill", "created_by"
        ),
        pk=pk,
    )
    return render(
        request,
        "service/moveout/detail.html",
        {"row": row, "bill": services.bill_summary(row.final_bill), "refunds": services.refunds_of(row)},
    )
