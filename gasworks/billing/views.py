"""Billing pages: tariffs, runs, bills, reviews, arrears, adjustments, prepaid."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gasworks.accounts.access import is_customer, scope_to_customer
from gasworks.billing import adjustments, arrears, held_back, ledger, runs, tariffs
from gasworks.billing.events import CollectionStepsOf
from gasworks.billing.forms import AdjustmentForm, RunForm, TariffForm
from gasworks.billing.models import (
    Account,
    Adjustment,
    AdjustmentStatus,
    Bill,
    BillingRun,
    BillLine,
    BillReview,
    BillStatus,
    LedgerEntry,
    ReviewStatus,
    Tariff,
    ValveCommand,
)
from gasworks.billing.periods import PERIOD_KEY
from gasworks.customers.models import Category, Customer
from gasworks.errors import DomainError
from gasworks.lib.events import ask_one
from gasworks.lib.ids import parse_id
from gasworks.lib.pagination import CappedPaginator
from gasworks.web.views import PAGE_SIZE, apply_error, staff_required


@staff_required
@permission_required("billing.view_tariff", raise_exception=True)
def tariff_list(request):
    items = Tariff.objects.prefetch_related("versions__tiers")
    return render(request, "billing/tariff_list.html", {"tariffs": items})


@staff_required
@permission_required("billing.add_tariff", raise_exception=True)
def tariff_create(request):
    form = TariffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            tariffs.create_tariff(
                data["name"],
                data["category"],
                data["effective_from"],
                form.tier_rows(),
                gas_use=data["gas_use"],
                minimum_charge=data["minimum_charge"],
                meter_rent=data["meter_rent"],
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Tariff saved."))
            return redirect("billing:tariff-list")
    return render(request, "web/form.html", {"form": form, "title": _("New tariff or price version")})


@staff_required
@permission_required("billing.view_billingrun", raise_exception=True)
def run_list(request):
    form = RunForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("billing.run_billing"):
            return HttpResponse(status=403)
        if form.is_valid():
            try:
                run = runs.start_run(form.cleaned_data["period"], by=request.user)
                runs.execute(run)
            except DomainError as exc:
                apply_error(form, exc)
            except Exception:
                messages.error(request, _("The run stopped with an error; start it again to continue."))
                return redirect("billing:run-detail", pk=run.pk)
            else:
                return redirect("billing:run-detail", pk=run.pk)
    page = Paginator(BillingRun.objects.all(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/run_list.html", {"page": page, "form": form})


@staff_required
@permission_required("billing.view_billingrun", raise_exception=True)
def run_detail(request, pk):
    run = get_object_or_404(BillingRun, pk=pk)
    template = "billing/run_progress.html" if request.headers.get("HX-Request") else "billing/run_detail.html"
    return render(request, template, {"run": run, "held": held_back.groups(run.held_back)})


@staff_required
@permission_required("billing.run_billing", raise_exception=True)
@require_POST
def run_cancel(request, pk):
    run = get_object_or_404(BillingRun, pk=pk)
    try:
        runs.cancel_run(run)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("billing:run-detail", pk=pk)


BILL_FILTERS = ("period", "from", "to", "customer", "category", "district", "tariff", "tier", "status")


def filter_bills(queryset, query) -> tuple:
    """The bill list's filters from a query string: (queryset, the values applied). A value that
    does not parse is ignored, never a 500. `category` is the category the bill was priced in (its
    tariff's; the customer's own for a bill without one), as the sales report counts it, so a
    report row and the bills behind it agree after a customer changes category."""
    seen = {name: (query.get(name) or "").strip()[:64] for name in BILL_FILTERS}
    if PERIOD_KEY.match(seen["period"]):
        queryset = queryset.filter(period=seen["period"])
    if PERIOD_KEY.match(seen["from"]):
        queryset = queryset.filter(period__gte=seen["from"])
    if PERIOD_KEY.match(seen["to"]):
        queryset = queryset.filter(period__lte=seen["to"])
    if parse_id(seen["customer"]) is not None:
        queryset = queryset.filter(customer_id=parse_id(seen["customer"]))
    if seen["category"] in Category.values:
        queryset = queryset.filter(
            Q(tariff__category=seen["category"]) | Q(tariff__isnull=True, customer__category=seen["category"])
        )
    if seen["district"]:
        queryset = queryset.filter(customer__premises__district=seen["district"])
    if parse_id(seen["tariff"]) is not None:
        queryset = queryset.filter(tariff_id=parse_id(seen["tariff"]))
    if seen["tier"] == "other":
        queryset = queryset.filter(Q(minimum_top_up__gt=0) | Q(meter_rent__gt=0))
    elif (tier := parse_id(seen["tier"])) is not None:
        queryset = queryset.filter(Exists(BillLine.objects.filter(bill=OuterRef("pk"), tier=tier)))
    if seen["status"] in BillStatus.values:
        queryset = queryset.filter(status=seen["status"])
    return queryset, seen


def bill_queryset():
    """Newest period first, in customer order: bill_period_customer_idx serves the order and
    the period filter a page at a time, instead of sorting every bill of every period (and
    by account number through a join, as it once did: 1.7 s at a million accounts)."""
    return Bill.objects.select_related("customer").order_by("-period", "customer_id")


@staff_required
@permission_required("billing.view_bill", raise_exception=True)
def bill_list(request):
    queryset, seen = filter_bills(bill_queryset(), request.GET)
    page = CappedPaginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        **seen,
        "categories": Category.choices,
        "statuses": BillStatus.choices,
    }
    return render(request, "billing/bill_list.html", context)


def _visible_bill(request, pk) -> Bill:
    queryset = scope_to_customer(
        request.user, Bill.objects.select_related("customer__premises"), "customer", "billing.view_bill"
    )
    return get_object_or_404(queryset, pk=pk)


@login_required
def bill_detail(request, pk):
    bill = _visible_bill(request, pk)
    return render(request, "billing/bill_detail.html", {"bill": bill, "lines": bill.lines.order_by("pk")})


@login_required
def bill_pdf(request, pk):
    from gasworks.billing.pdf import render_bill

    bill = _visible_bill(request, pk)
    language = request.GET.get("lang") or request.LANGUAGE_CODE
    response = HttpResponse(render_bill(bill, language), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="bill-{bill.customer_id}-{bill.period}.pdf"'
    return response


@staff_required
@permission_required("billing.view_billreview", raise_exception=True)
def review_list(request):
    queryset = BillReview.objects.select_related("customer").filter(status=ReviewStatus.OPEN)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/review_list.html", {"page": page})


@staff_required
@permission_required("billing.run_billing", raise_exception=True)
@require_POST
def review_decide(request, pk, verb):
    if verb not in ("bill", "dismiss"):
        raise Http404
    review = get_object_or_404(BillReview, pk=pk)
    try:
        if verb == "bill":
            runs.bill_after_review(review, by=request.user)
            messages.success(request, _("Billed."))
        else:
            runs.dismiss_review(review, by=request.user)
            messages.success(request, _("Dismissed."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("billing:review-list")


@staff_required
@permission_required("billing.view_bill", raise_exception=True)
def overdue_list(request):
    """Accounts in arrears, the longest overdue first, paginated in SQL, with the aging totals;
    filtered by category and district (the arrears report's drill-down lands here)."""
    filters = {
        "category": request.GET.get("category", "") if request.GET.get("category") in Category.values else "",
        "district": request.GET.get("district", "").strip()[:64],
    }
    today = timezone.localdate()
    source = ledger.arrears_source(today)
    total = arrears.totals(today, filters, source=source)[0]
    rows = arrears.OverduePage(today, filters, total["accounts"], source)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    # Each account's collections step, asked for the page's accounts at once (billing does not
    # know the ladder: gasworks/subscriptions.py wires the answer).
    steps = ask_one(CollectionStepsOf(tuple(row["customer_id"] for row in page)), {})
    for row in page:
        row["step"] = steps.get(row["customer_id"], "")
    aging = dict(
        zip(
            [b[0] for b in arrears.BUCKETS],
            (total["d0_30"], total["d31_60"], total["d61_90"], total["d90"]),
            strict=True,
        )
    )
    context = {
        "page": page,
        "aging": aging,
        "total": total,
        "filters": filters,
        "categories": Category.choices,
        "query": urlencode({k: v for k, v in filters.items() if v}),
    }
    return render(request, "billing/overdue_list.html", context)


@staff_required
@permission_required("billing.view_adjustment", raise_exception=True)
def adjustment_list(request):
    queryset = Adjustment.objects.select_related("customer", "requested_by", "approved_by")
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/adjustment_list.html", {"page": page})


@staff_required
@permission_required("billing.add_adjustment", raise_exception=True)
def adjustment_create(request, customer_pk):
    customer = get_object_or_404(Customer, pk=customer_pk)
    form = AdjustmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            item = adjustments.request_adjustment(
                customer, form.cleaned_data["amount"], form.cleaned_data["reason"], request.user
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            if item.status == AdjustmentStatus.PENDING:
                messages.info(request, _("Above the threshold: waiting for a second person's approval."))
            else:
                messages.success(request, _("Adjustment posted."))
            return redirect("customer-detail", pk=customer.pk)
    title = _("Adjust the account of %(no)s") % {"no": customer.account_no}
    return render(request, "web/form.html", {"form": form, "title": title})


@staff_required
@permission_required("billing.approve_adjustment", raise_exception=True)
@require_POST
def adjustment_decide(request, pk, verb):
    if verb not in ("approve", "reject"):
        raise Http404
    item = get_object_or_404(Adjustment, pk=pk)
    try:
        if verb == "approve":
            adjustments.approve_adjustment(item, request.user)
        else:
            adjustments.reject_adjustment(item, request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("billing:adjustment-list")


@staff_required
@permission_required("billing.view_account", raise_exception=True)
def prepaid_list(request):
    low = Account.objects.filter(prepaid=True, low_balance_since__isnull=False).select_related("customer")
    commands = ValveCommand.objects.select_related("meter")[:50]
    return render(request, "billing/prepaid_list.html", {"low": low, "commands": commands})


def customer_section(request, customer):
    """Bills panel on the staff customer page."""
    if is_customer(request.user) or not request.user.has_perm("billing.view_bill"):
        return None
    bills = Bill.objects.filter(customer=customer).order_by("-period")[:12]
    return {"template": "billing/customer_bills.html", "bills": bills, "customer": customer}


@staff_required
@permission_required("billing.view_ledgerentry", raise_exception=True)
def ledger_page(request, customer_pk):
    """A customer's ledger (account statement), newest first: the page of the API's
    GET /api/v1/customers/{id}/ledger/, under the same permission."""
    customer = get_object_or_404(Customer, pk=customer_pk)
    entries = LedgerEntry.objects.filter(account__customer=customer).order_by("-created_at", "-pk")
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    account = Account.objects.filter(customer=customer).first()
    return render(
        request,
        "billing/ledger.html",
        {"customer": customer, "page": page, "balance": account.balance if account else 0},
    )
