"""Pages of payments: the counter (收费台), payments and receipts, refunds, shifts (日结), IC cards,
the customer's online payment, and the sandbox gateway's pay page."""

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

from gasworks.accounts.access import is_customer, scope_to_customer
from gasworks.customers import services as customer_services
from gasworks.customers.models import Customer
from gasworks.errors import DomainError
from gasworks.lib import qr
from gasworks.lib.ids import parse_id
from gasworks.lib.money import format_money
from gasworks.lib.pagination import CappedPaginator
from gasworks.metering.models import Meter
from gasworks.payments import cards, channels, receipts, services
from gasworks.payments.forms import (
    CounterForm,
    OnlinePayForm,
    RefundForm,
    ReplaceCardForm,
    ShiftCloseForm,
    TopUpForm,
)
from gasworks.payments.gateways import available_gateways, get_gateway, sandbox_enabled
from gasworks.payments.gateways.base import no_online_payment, order_expires_at
from gasworks.payments.gateways.sandbox import SandboxGateway
from gasworks.payments.models import (
    PAID_STATUSES,
    CardStatus,
    ICCard,
    Method,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    Shift,
    ShiftStatus,
)
from gasworks.web.views import apply_error, counter_sections, staff_required

SEARCH_LIMIT = 20


def find_customers(text: str):
    """Account number, phone, name (prefix), address part, or meter serial number."""
    text = text.strip()
    if not text:
        return Customer.objects.none()
    ids = set(
        customer_services.search(Customer.objects.all(), text).values_list("pk", flat=True)[:SEARCH_LIMIT]
    )
    premises = Meter.objects.filter(serial_no__istartswith=text).values("premises_id")[:SEARCH_LIMIT]
    ids |= set(Customer.objects.filter(premises__in=premises).values_list("pk", flat=True)[:SEARCH_LIMIT])
    return (
        Customer.objects.filter(pk__in=ids).select_related("premises").order_by("account_no")[:SEARCH_LIMIT]
    )


# --- counter --------------------------------------------------------------------------------


@staff_required
@permission_required("payments.take_counter_payment", raise_exception=True)
def counter(request):
    query = request.GET.get("q", "").strip()
    found = list(find_customers(query)) if query else []
    if len(found) == 1 and not request.headers.get("HX-Request"):
        return redirect("payments:counter-customer", pk=found[0].pk)  # one match: straight to paying
    template = "payments/counter_rows.html" if request.headers.get("HX-Request") else "payments/counter.html"
    return render(request, template, {"q": query, "found": found})


@staff_required
@permission_required("payments.take_counter_payment", raise_exception=True)
def counter_customer(request, pk):
    customer = get_object_or_404(Customer.objects.select_related("premises"), pk=pk)
    due = services.due_summary(customer)
    form = CounterForm(request.POST or None, initial={"amount": due["owed"] or None})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = services.take_counter_payment(
                customer, data["amount"], data["method"], request.user, data["tendered"]
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            return redirect("payments:detail", pk=payment.pk)
    recent = customer.payments.order_by("-pk")[:5]
    return render(
        request,
        "payments/counter_customer.html",
        {
            "customer": customer,
            "due": due,
            "form": form,
            "recent": recent,
            "cards": customer.ic_cards.filter(status=CardStatus.ACTIVE),
            "sections": counter_sections(request, customer),
        },
    )


# --- payments and receipts ------------------------------------------------------------------


def _visible_payments(request):
    return scope_to_customer(
        request.user,
        Payment.objects.select_related("customer", "customer__premises", "created_by"),
        "customer",
        "payments.view_payment",
    )


@staff_required
@permission_required("payments.view_payment", raise_exception=True)
def payment_list(request):
    payments = Payment.objects.select_related("customer").order_by("-pk")
    status = request.GET.get("status", "")
    if status in PaymentStatus.values:
        payments = payments.filter(status=status)
    if request.GET.get("review"):
        payments = payments.filter(needs_review=True)
    query = request.GET.get("q", "").strip()
    if query:
        payments = payments.filter(Q(receipt_no=query) | Q(order_no=query) | Q(customer__account_no=query))
    payments, narrowed = channels.narrow(payments, request.GET)
    page = CappedPaginator(payments, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/payment_list.html",
        {
            "page": page,
            "status": status,
            "statuses": PaymentStatus.choices,
            "q": query,
            "narrowed": narrowed,
        },
    )


@login_required
def payment_detail(request, pk):
    payment = get_object_or_404(_visible_payments(request), pk=pk)
    return render(
        request,
        "payments/payment_detail.html",
        {
            "payment": payment,
            "paid": payment.status in PAID_STATUSES,
            "refunds": payment.refunds.select_related("requested_by", "decided_by"),
            "room": services.refund_room(payment) if payment.status in PAID_STATUSES else 0,
            "can_refund": not is_customer(request.user) and request.user.has_perm("payments.refund_payment"),
        },
    )


@login_required
def payment_receipt(request, pk):
    payment = get_object_or_404(_visible_payments(request), pk=pk)
    if payment.status not in PAID_STATUSES:
        raise Http404
    response = HttpResponse(receipts.render(payment), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{payment.receipt_no}.pdf"'
    return response


# --- refunds --------------------------------------------------------------------------------


def _say_refund(request, refund: Refund) -> None:
    """Tell the user where a refund stands after acting on it."""
    if refund.status == RefundStatus.AWAITING_APPROVAL:
        messages.info(request, _("The refund is above the threshold and waits for approval."))
    elif refund.status == RefundStatus.PROCESSING:
        messages.warning(
            request,
            _(
                "The refund of %(amount)s is with the payment gateway, which has not confirmed it yet. "
                "It is settled automatically; nothing needs to be done."
            )
            % {"amount": format_money(refund.amount)},
        )
    elif refund.status == RefundStatus.FAILED:
        messages.error(
            request,
            _("The payment gateway refused the refund: %(why)s. Nothing was refunded.")
            % {"why": refund.gateway_error},
        )
    elif refund.status == RefundStatus.REJECTED:
        messages.success(request, _("Refund rejected."))
    else:
        messages.success(request, _("Refunded %(amount)s.") % {"amount": format_money(refund.amount)})


@staff_required
@permission_required("payments.refund_payment", raise_exception=True)
def refund_create(request, pk):
    payment = get_object_or_404(Payment.objects.select_related("customer"), pk=pk)
    form = RefundForm(request.POST or None, initial={"amount": services.refund_room(payment)})
    if request.method == "POST" and form.is_valid():
        try:
            refund = services.request_refund(
                payment, form.cleaned_data["amount"], form.cleaned_data["reason"], request.user
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            _say_refund(request, refund)
            return redirect("payments:detail", pk=payment.pk)
    return render(
        request, "web/form.html", {"form": form, "title": _("Refund %(no)s") % {"no": payment.receipt_no}}
    )


@staff_required
@permission_required("payments.approve_refund", raise_exception=True)
def refund_list(request):
    """The refunds someone may have to act on: awaiting approval, failed at the gateway, and those
    still processing there (settled by reconciliation)."""
    refunds = (
        Refund.objects.filter(
            status__in=(RefundStatus.AWAITING_APPROVAL, RefundStatus.FAILED, RefundStatus.PROCESSING)
        )
        .select_related("payment__customer", "requested_by")
        .order_by("created_at", "pk")
    )
    groups = {
        status: []
        for status in (RefundStatus.AWAITING_APPROVAL, RefundStatus.FAILED, RefundStatus.PROCESSING)
    }
    for refund in refunds:
        groups[refund.status].append(refund)
    return render(
        request,
        "payments/refund_list.html",
        {
            "waiting": groups[RefundStatus.AWAITING_APPROVAL],
            "failed": groups[RefundStatus.FAILED],
            "processing": groups[RefundStatus.PROCESSING],
        },
    )


@staff_required
@permission_required("payments.approve_refund", raise_exception=True)
@require_POST
def refund_decide(request, pk, verdict):
    refund = get_object_or_404(Refund, pk=pk)
    if verdict not in ("approve", "reject"):
        raise Http404
    try:
        refund = services.decide_refund(refund, verdict == "approve", request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        _say_refund(request, refund)
    return redirect("payments:refunds")


@staff_required
@permission_required("payments.refund_payment", raise_exception=True)
@require_POST
def refund_retry(request, pk):
    """Send a refund the gateway refused once more (same key at the gateway: it refunds once)."""
    refund = get_object_or_404(Refund, pk=pk)
    try:
        refund = services.retry_refund(refund, request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        _say_refund(request, refund)
    if request.POST.get("back") == "list" and request.user.has_perm("payments.approve_refund"):
        return redirect("payments:refunds")
    return redirect("payments:detail", pk=refund.payment_id)


# --- shifts ---------------------------------------------------------------------------------


@staff_required
@permission_required("payments.view_shift", raise_exception=True)
def shift_mine(request):
    shift = Shift.objects.filter(cashier=request.user, status=ShiftStatus.OPEN).first()
    form = ShiftCloseForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("payments.change_shift"):
            raise PermissionDenied
        if shift is None:
            messages.error(request, _("You have no open shift."))
        elif form.is_valid():
            try:
                shift = services.close_shift(shift, request.user, **form.cleaned_data)
            except DomainError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, _("Shift closed and handed over."))
                return redirect("payments:shift-detail", pk=shift.pk)
    totals = services.shift_totals(shift) if shift else None
    recent = Shift.objects.filter(cashier=request.user, status=ShiftStatus.CLOSED)[:10]
    return render(
        request, "payments/shift.html", {"shift": shift, "totals": totals, "form": form, "recent": recent}
    )


@staff_required
@permission_required("payments.supervise_shift", raise_exception=True)
def shift_list(request):
    shifts = Shift.objects.select_related("cashier").order_by("status", "-opened_at")
    page = Paginator(shifts, 50).get_page(request.GET.get("page"))
    return render(request, "payments/shift_list.html", {"page": page})


@staff_required
@permission_required("payments.view_shift", raise_exception=True)
def shift_detail(request, pk):
    shift = get_object_or_404(Shift.objects.select_related("cashier"), pk=pk)
    if shift.cashier_id != request.user.pk and not request.user.has_perm("payments.supervise_shift"):
        raise Http404
    totals = shift.totals if shift.status == ShiftStatus.CLOSED else services.shift_totals(shift)
    payments = shift.payments.select_related("customer").order_by("pk")
    return render(
        request, "payments/shift_detail.html", {"shift": shift, "totals": totals, "payments": payments}
    )


# --- IC cards -------------------------------------------------------------------------------


@staff_required
@permission_required("payments.view_iccard", raise_exception=True)
def card_list(request, customer_pk):
    customer = get_object_or_404(Customer.objects.select_related("premises"), pk=customer_pk)
    if request.method == "POST":
        if not request.user.has_perm("payments.manage_card"):
            raise PermissionDenied
        meter = None
        if request.POST.get("meter"):
            meter = Meter.objects.filter(pk=request.POST["meter"], premises_id=customer.premises_id).first()
        try:
            card = cards.issue_card(customer, request.user, meter)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Card %(no)s issued.") % {"no": card.card_no})
        return redirect("payments:cards", customer_pk=customer.pk)
    context = {
        "customer": customer,
        "cards": customer.ic_cards.select_related("meter").order_by("-issued_at"),
        "meters": Meter.objects.filter(premises_id=customer.premises_id, kind="ic_card"),
    }
    return render(request, "payments/cards.html", context)


@staff_required
@permission_required("payments.topup_card", raise_exception=True)
def card_topup(request, pk):
    card = get_object_or_404(ICCard.objects.select_related("customer"), pk=pk)
    form = TopUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            purchase = cards.top_up(card, data["amount"], data["method"], request.user, data["tendered"])
        except DomainError as exc:
            apply_error(form, exc)
        else:
            if purchase.written_at is None:
                messages.warning(request, _("Paid, but the card was not written: use Rewrite."))
            return redirect("payments:detail", pk=purchase.payment_id)
    return render(
        request, "web/form.html", {"form": form, "title": _("Top up card %(no)s") % {"no": card.card_no}}
    )


@staff_required
@permission_required("payments.manage_card", raise_exception=True)
@require_POST
def card_rewrite(request, pk):
    card = get_object_or_404(ICCard, pk=pk)
    try:
        ok = cards.rewrite_card(card, request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        (messages.success if ok else messages.error)(
            request, _("Card written.") if ok else _("The card could not be written.")
        )
    return redirect("payments:cards", customer_pk=card.customer_id)


@staff_required
@permission_required("payments.manage_card", raise_exception=True)
def card_replace(request, pk):
    card = get_object_or_404(ICCard, pk=pk)
    form = ReplaceCardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new = cards.replace_card(
                card, form.cleaned_data["reason"], request.user, form.cleaned_data["lost"]
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("New card %(no)s issued.") % {"no": new.card_no})
            return redirect("payments:cards", customer_pk=card.customer_id)
    return render(
        request, "web/form.html", {"form": form, "title": _("Replace card %(no)s") % {"no": card.card_no}}
    )


# --- the customer's side --------------------------------------------------------------------


@login_required
def my_payments(request):
    if not is_customer(request.user):
        raise PermissionDenied
    customer = Customer.objects.select_related("premises").get(pk=request.user.customer_id)
    suggested = request.GET.get("amount") or services.due_summary(customer)["owed"] or None
    form = OnlinePayForm(request.POST or None, initial={"amount": suggested})
    online = bool(available_gateways())  # none: no pay button, the page says how to pay instead
    if request.method == "POST" and not online:
        messages.error(request, no_online_payment().message)
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = services.create_online_order(customer, data["amount"], request.user, data["gateway"])
            return _go_pay(request, payment)
        except DomainError as exc:
            apply_error(form, exc)
    history = customer.payments.order_by("-pk")[:50]
    return render(
        request,
        "payments/my.html",
        {
            "customer": customer,
            "due": services.due_summary(customer),
            "form": form,
            "online": online,
            "history": history,
        },
    )


def _code_key(payment: Payment) -> str:
    return f"payments:code:{payment.order_no}"


def _go_pay(request, payment: Payment):
    """Send the customer on to pay: to the gateway's page (Alipay, the sandbox), or to our page
    showing the code the gateway answered as a QR code to scan (WeChat Native)."""
    url = services.pay_url(payment, request.build_absolute_uri)
    if not get_gateway(payment.gateway).shows_qr_code:
        return redirect(url)
    request.session[_code_key(payment)] = url
    return redirect("payments:qr-pay", order_no=payment.order_no)


def _own_online_orders(request):
    """The logged-in customer's own online orders; staff have the counter and the payment pages."""
    if not is_customer(request.user):
        raise PermissionDenied
    return Payment.objects.filter(customer_id=request.user.customer_id, method=Method.ONLINE)


def _order_state(payment: Payment) -> str:
    """paid, pending, expired (closed by us, or past the time the gateway was told), or failed."""
    if payment.status in PAID_STATUSES:
        return "paid"
    if payment.status == PaymentStatus.PENDING:
        return "expired" if timezone.now() >= order_expires_at(payment) else "pending"
    return "expired" if payment.status == PaymentStatus.EXPIRED else "failed"


@login_required
def qr_pay(request, order_no):
    """The code a gateway answered (WeChat Native's weixin://…) as a QR code made here, with the
    amount and the order number; the order's state is polled until the gateway's notification
    has settled it."""
    payment = get_object_or_404(_own_online_orders(request), order_no=order_no)
    gateway = get_gateway(payment.gateway)
    if not gateway.shows_qr_code:
        raise Http404
    state = _order_state(payment)
    if state == "paid":
        return redirect("payments:detail", pk=payment.pk)
    code_url = request.session.get(_code_key(payment), "")
    if state == "pending" and not code_url:
        # Another browser, or the session ended: ask again; the same order gets the same code.
        try:
            code_url = services.pay_url(payment, request.build_absolute_uri)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("payments:detail", pk=payment.pk)
        request.session[_code_key(payment)] = code_url
    context = {
        "payment": payment,
        "state": state,
        "gateway": gateway,
        "qr": qr.png_data_uri(code_url) if state == "pending" else "",
    }
    return render(request, "payments/qr_pay.html", context)


@login_required
def order_status(request, order_no):
    """The state of the customer's own order, polled by the QR page (htmx): once paid, htmx is
    sent on to the payment's page (its receipt)."""
    payment = get_object_or_404(_own_online_orders(request), order_no=order_no)
    state = _order_state(payment)
    response = render(request, "payments/_order_status.html", {"payment": payment, "state": state})
    if state == "paid":
        response["HX-Redirect"] = reverse("payments:detail", args=[payment.pk])
    return response


@login_required
def sandbox_pay(request, order_no):
    """The sandbox gateway's own page (a stand-in for Alipay's or WeChat's); not there at all
    unless the sandbox is enabled (DEBUG or PAYMENTS_SANDBOX)."""
    if not sandbox_enabled():
        raise Http404
    payment = get_object_or_404(_visible_payments(request), order_no=order_no, gateway=SandboxGateway.code)
    if request.method == "POST" and payment.status == PaymentStatus.PENDING:
        gateway = SandboxGateway()
        body, headers = gateway.pay(payment)
        # The provider would POST this to our callback URL; here it goes in-process through the
        # same handler (signature verified, settled once).
        services.handle_callback(gateway.code, body, headers)
        return redirect("payments:detail", pk=payment.pk)
    return render(request, "payments/sandbox.html", {"payment": payment})


@login_required
def pay_bill(request):
    """Where the QR code on a bill points: the customer's own payment page with that bill's
    unpaid amount filled in. Staff are sent to the counter for the bill's customer."""
    from gasworks.billing.due import bill_outstanding
    from gasworks.billing.models import Bill

    bill_id = request.GET.get("bill", "")
    bills = Bill.objects.select_related("customer")
    if is_customer(request.user):
        bills = bills.filter(customer_id=request.user.customer_id)
    elif not services.may_take_at_counter(request.user):
        raise PermissionDenied
    if parse_id(bill_id) is None:
        raise Http404
    bill = get_object_or_404(bills, pk=parse_id(bill_id))
    if not is_customer(request.user):
        return redirect("payments:counter-customer", pk=bill.customer_id)
    outstanding = bill_outstanding(bill)
    url = reverse("payments:my")
    return redirect(f"{url}?amount={outstanding}" if outstanding > 0 else url)
