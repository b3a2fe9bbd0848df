"""Pages of the collections ladder: the run and the open steps (staff), the customer's own
steps (portal)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gasworks.accounts.access import is_customer
from gasworks.errors import DomainError
from gasworks.service.collections import services
from gasworks.service.collections.forms import RunForm
from gasworks.service.collections.models import CollectionRun, CollectionStep, StepKind, StepStatus
from gasworks.web.views import PAGE_SIZE, staff_required


@staff_required
@permission_required("service.view_collectionstep", raise_exception=True)
def board(request):
    """The last runs, the open steps by kind (one tab each) and the run button."""
    kind = request.GET.get("step") if request.GET.get("step") in StepKind.values else StepKind.REMINDER.value
    steps = (
        CollectionStep.objects.filter(status=StepStatus.OPEN, step=kind)
        .select_related("customer")
        .order_by("created_on", "pk")
    )
    context = {
        "runs": CollectionRun.objects.all()[:5],
        "counts": services.open_counts(),
        "kinds": StepKind.choices,
        "kind": kind,
        "page": Paginator(steps, PAGE_SIZE).get_page(request.GET.get("page")),
        "form": RunForm(),
        "may_run": request.user.has_perm("service.run_collections"),
    }
    return render(request, "service/collections/board.html", context)


@require_POST
@staff_required
@permission_required("service.run_collections", raise_exception=True)
def run(request):
    form = RunForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("service:collections")
    try:
        counts = services.run(form.cleaned_data["as_of"], by=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("Run done: %(r)s reminders, %(f)s final notices, %(d)s disconnection orders.")
            % {"r": counts["reminders"], "f": counts["final_notices"], "d": counts["disconnection_orders"]},
        )
    return redirect("service:collections")


@login_required
def mine(request):
    """The customer's own steps (portal)."""
    if not is_customer(request.user):
        return redirect("service:collections")
    steps = CollectionStep.objects.filter(customer_id=request.user.customer_id).order_by("-created_on", "-pk")
    return render(request, "service/collections/mine.html", {"steps": steps[:50]})
