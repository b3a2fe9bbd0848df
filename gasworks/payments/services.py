"""Payment business rules: counter payments, online orders and their settlement, refunds,
receipt numbers, shifts. Money moves only through gasworks.billing.ledger.post.

Locks are always taken in one order so concurrent payments cannot deadlock:
shift -> payment row -> ledger account(s, in pk order) -> receipt counter. The receipt counter is
one row per station and year that every payment of the station updates, so it is taken by the
transaction's last writes (reserve_receipt_numbers, then the number onto the payment and the
API's idempotency answer) and held only until the commit right after."""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.accounts.access import is_customer
from gasworks.billing import ledger
from gasworks.billing.models import EntryKind
from gasworks.errors import DomainError, InvalidInput, NotAllowed
from gasworks.lib.db import DecimalSum
from gasworks.lib.events import ask, publish
from gasworks.lib.money import format_money, round_money, to_decimal
from gasworks.payments import store
from gasworks.payments.events import DueLines, PaymentReceived, PaymentRefunded
from gasworks.payments.gateways.base import (
    GatewayError,
    Notification,
    RefundAnswer,
    get_gateway,
    offered_gateway,
)
from gasworks.payments.models import (
    COUNTER_METHODS,
    RESERVED_REFUND_STATUSES,
    CallbackOutcome,
    GatewayEvent,
    Method,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    Shift,
    ShiftStatus,
)
from gasworks.payments.store import receipt_no, receipt_prefix  # noqa: F401 (part of this module's API)
from gasworks.system import audit, parameters


def clean_amount(value, field: str = "amount", maximum: Decimal | None = None) -> Decimal:
    """A positive money amount with at most 2 decimals, or InvalidInput naming the field."""
    try:
        amount = to_decimal(value if not isinstance(value, float) else str(value))
    except (ValueError, TypeError):
        raise InvalidInput("invalid_amount", _("Enter an amount."), {field: [_("Enter a number.")]}) from None
    if amount <= 0:
        raise InvalidInput(
            "invalid_amount", _("The amount must be positive."), {field: [_("Must be positive.")]}
        )
    if amount != round_money(amount):
        raise InvalidInput(
            "invalid_amount", _("At most two decimals."), {field: [_("At most two decimals.")]}
        )
    if maximum is not None and amount > maximum:
        raise InvalidInput(
            "amount_too_large",
            _("The amount is above the limit of %(max)s.") % {"max": format_money(maximum)},
            {field: [_("Too large.")]},
        )
    return amount


def new_order_no(now) -> str:
    return f"GW{timezone.localtime(now):%Y%m%d}{uuid.uuid4().hex[:14].upper()}"


# --- receipts -------------------------------------------------------------------------------


def reserve_receipt_numbers(at, count: int = 1) -> list[str]:
    """`count` consecutive numbers of this station's receipt book for the year of `at`, in one
    UPDATE ... RETURNING. That UPDATE locks the counter row until the caller's transaction ends,
    and every payment of the station queues on that row: call it LAST, just before commit, with
    as little as possible after it. A rolled-back transaction gives its numbers back: no gaps."""
    return store.take_numbers(settings.STATION_CODE, timezone.localtime(at).year, count)


def next_receipt_no(at) -> str:
    """The next receipt number (see reserve_receipt_numbers: call it last in the transaction)."""
    return reserve_receipt_numbers(at)[0]


def assign_receipt(payment: Payment, at) -> None:
    """Number a succeeded payment's receipt: the last step of its transaction (but for the
    caller's own answer, see reserve_receipt_numbers)."""
    payment.receipt_no = store.number_payment(payment, settings.STATION_CODE, timezone.localtime(at).year)


def payment_posting(payment: Payment, at, by=None) -> ledger.Posting:
    return ledger.Posting(
        customer_id=payment.customer_id,
        kind=EntryKind.PAYMENT,
        amount=payment.amount,
        reference=f"{Method(payment.method).label} {payment.order_no}",
        idempotency_key=f"payment:{payment.pk}",
        by=by,
        at=at,
    )


def _succeed(payment: Payment, at, by=None) -> None:
    """pending -> succeeded: post the money once, then number the receipt (counter lock last)."""
    payment.set_status(PaymentStatus.SUCCEEDED)
    payment.paid_at = at
    payment.save(update_fields=["status", "paid_at", "gateway_txn_id", "needs_review", "review_note"])
    ledger.post_many([payment_posting(payment, at, by)])
    _received(payment)  # before the receipt number: the station's counter is locked last
    assign_receipt(payment, at)


def _received(payment: Payment) -> None:
    publish(
        PaymentReceived(
            payment.pk,
            payment.customer_id,
            payment.amount,
            payment.method,
            payment.purpose,
            payment.paid_at,
        )
    )


# --- shifts ---------------------------------------------------------------------------------


def open_shift_id(cashier, at) -> int:
    """The pk of the cashier's open shift, opened on first use. The row is locked (FOR UPDATE)
    so a close cannot slip in between. Only the pk is read, unordered: a unique constraint allows
    one open shift per cashier, and the payment needs nothing else of it."""
    locked = Shift.objects.select_for_update().filter(cashier=cashier, status=ShiftStatus.OPEN).order_by()
    pk = next(iter(locked.values_list("pk", flat=True)), None)
    if pk is None:
        try:
            with transaction.atomic():
                Shift.objects.create(cashier=cashier, opened_at=at)
        except IntegrityError:
            pass  # opened by a concurrent payment of the same cashier
        pk = locked.values_list("pk", flat=True).get()
    return pk


def shift_totals(shift: Shift) -> dict:
    rows = (
        shift.payments.filter(
            status__in=(PaymentStatus.SUCCEEDED, PaymentStatus.PARTLY_REFUNDED, PaymentStatus.REFUNDED)
        )
        .values("method")
        .annotate(n=Count("pk"), total=DecimalSum("amount"))
    )
    by_method: dict[str, dict[str, object]] = {m: {"count": 0, "total": "0.00"} for m in COUNTER_METHODS}
    grand = Decimal("0.00")
    for row in rows:
        by_method[row["method"]] = {"count": row["n"], "total": f"{row['total']:.2f}"}
        grand += row["total"]
    refunds = dict(
        Refund.objects.filter(payment__shift=shift, status=RefundStatus.DONE)
        .values_list("payment__method")
        .annotate(t=DecimalSum("amount"))
        .order_by()
    )
    for method, amount in refunds.items():
        by_method.setdefault(method, {"count": 0, "total": "0.00"})["refunded"] = f"{amount:.2f}"
    # The drawer holds the cash taken less the cash paid back out of it (a counter refund of a
    # cash payment is paid from the till): what the cashier must hand over.
    cash = Decimal(str(by_method[Method.CASH]["total"])) - refunds.get(Method.CASH, 0)
    return {
        "methods": by_method,
        "total": f"{grand:.2f}",
        "refunded": f"{sum(refunds.values(), Decimal('0.00')):.2f}",
        "cash_expected": f"{cash:.2f}",
    }


def close_shift(shift: Shift, by, cash_counted=None, handed_to: str = "", note: str = "", at=None) -> Shift:
    """日结: freeze the totals by method and lock the shift. Only its cashier or a supervisor.
    ``at``: when it was closed (default now; the demo's history closes its past shifts)."""
    if by.pk != shift.cashier_id and not by.has_perm("payments.supervise_shift"):
        raise NotAllowed("not_your_shift", _("Only the shift's cashier or a supervisor may close it."))
    counted = clean_amount(cash_counted, "cash_counted") if cash_counted not in (None, "") else None
    now = at or timezone.now()
    with transaction.atomic():
        shift = Shift.objects.select_for_update().get(pk=shift.pk)
        if shift.status != ShiftStatus.OPEN:
            raise DomainError("shift_closed", _("This shift is already closed."))
        totals = shift_totals(shift)
        if counted is not None:
            totals["cash_difference"] = f"{counted - Decimal(totals['cash_expected']):.2f}"
        before = {"status": shift.status}
        shift.status = ShiftStatus.CLOSED
        shift.closed_at = now
        shift.totals = totals
        shift.cash_counted = counted
        shift.handed_to = handed_to[:120]
        shift.note = note[:255]
        shift.save()
        fields = ("status", "closed_at", "totals", "cash_counted", "handed_to", "note")
        after = audit.plain({f: getattr(shift, f) for f in fields})
        audit.record("close", shift, before, after, note="shift closed", actor=by)
    return shift


# --- counter payments -----------------------------------------------------------------------


@dataclass(frozen=True)
class CounterInput:
    amount: Decimal
    method: str
    tendered: Decimal | None = None


def check_counter_input(amount, method: str, tendered=None) -> CounterInput:
    if method not in COUNTER_METHODS:
        raise InvalidInput(
            "invalid_method", _("Choose cash, card or bank."), {"method": [_("Invalid choice.")]}
        )
    value = clean_amount(amount, maximum=parameters.get("counter_max_amount"))
    given = None
    if tendered not in (None, ""):
        if method != Method.CASH:
            raise InvalidInput(
                "tendered_not_cash",
                _("Cash tendered is for cash payments only."),
                {"tendered": [_("Only for cash.")]},
            )
        given = clean_amount(tendered, "tendered")
        if given < value:
            raise InvalidInput(
                "tendered_too_little",
                _("The cash tendered is less than the amount."),
                {"tendered": [_("Less than the amount.")]},
            )
    return CounterInput(value, method, given)


COUNTER_PERMISSION = "payments.take_counter_payment"


def may_take_at_counter(user) -> bool:
    """Staff with the counter permission take cash, card and bank payments; customers never do."""
    return not is_customer(user) and user.has_perm(COUNTER_PERMISSION)


def check_payer(user, method: str) -> None:
    """Who may pay how: customers pay online only (cash, card and bank are taken at the counter);
    a counter method needs the counter permission. Refuses with NotAllowed (403)."""
    if is_customer(user):
        if method != Method.ONLINE:
            raise NotAllowed(
                "online_only", _("Customers pay online; cash, card and bank are taken at the counter.")
            )
    elif method in COUNTER_METHODS and not may_take_at_counter(user):
        raise NotAllowed("permission_denied", _("You may not take counter payments."))


def take_counter_payment(
    customer,
    amount,
    method: str,
    by,
    tendered=None,
    purpose: str = "account",
    numbered: bool = True,
    at=None,
) -> Payment:
    """Cash, card or bank at the counter: succeeded at once, in the cashier's open shift.
    numbered=False leaves the receipt number to the caller, who must call assign_receipt as the
    last step of its own transaction (an IC-card top-up does more work after the payment).
    ``at``: when it was taken (default now; the demo's history passes past times, in order)."""
    data = check_counter_input(amount, method, tendered)
    now = at or timezone.now()
    # No savepoint: nothing in here is caught and retried, so a failure rolls back the caller.
    with transaction.atomic(savepoint=False):
        shift_id = open_shift_id(by, now)
        payment = Payment(
            order_no=new_order_no(now),
            customer=customer,
            amount=data.amount,
            currency=settings.CURRENCY,
            method=data.method,
            tendered=data.tendered,
            change_given=(data.tendered - data.amount) if data.tendered is not None else None,
            shift_id=shift_id,
            purpose=purpose,
            created_by=by,
            created_at=now,
        )
        payment.set_status(PaymentStatus.SUCCEEDED)
        payment.paid_at = now
        payment.save(force_insert=True)
        ledger.post_many([payment_posting(payment, now, by)], fresh=True)  # the payment is new
        _received(payment)  # before the receipt number: the station's counter is locked last
        if numbered:
            assign_receipt(payment, now)
    return payment


# --- online orders and gateway notifications ------------------------------------------------


def create_online_order(customer, amount, by, gateway: str | None = None) -> Payment:
    """A pending order at `gateway` (default: the first offered). Refused (409) when this server
    offers no gateway, 400 for one it does not offer (the sandbox outside DEBUG included)."""
    gateway = offered_gateway(gateway).code
    value = clean_amount(amount, maximum=parameters.get("counter_max_amount"))
    now = timezone.now()
    return Payment.objects.create(
        order_no=new_order_no(now),
        customer=customer,
        amount=value,
        currency=settings.CURRENCY,
        method=Method.ONLINE,
        gateway=gateway,
        created_by=by,
        created_at=now,
    )


def pay_url(payment: Payment, build_absolute_uri) -> str:
    from django.urls import reverse

    gateway = get_gateway(payment.gateway)
    notify = build_absolute_uri(reverse("api-payment-callback", args=[payment.gateway]))
    back = build_absolute_uri(reverse("payments:detail", args=[payment.pk]))
    return build_absolute_uri(gateway.start(payment, notify, back))


def handle_callback(gateway_code: str, body: bytes, headers) -> tuple[str, object]:
    """Verify a gateway's notification and settle it. A forged one raises before any write."""
    gateway = get_gateway(gateway_code)
    notification = gateway.verify_callback(body, headers)
    outcome = settle(gateway_code, notification)
    return outcome, gateway.ack(True)


def settle(gateway_code: str, note: Notification, source: str = "callback") -> str:
    """Apply a verified notification once. Idempotent by the gateway's transaction id: a duplicate
    or late one changes nothing; a conflicting amount is flagged for review, never credited."""
    now = timezone.now()
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update()
            .select_related("customer")
            .filter(order_no=note.order_no, gateway=gateway_code)
            .first()
        )
        outcome = _apply(payment, note, now)
        GatewayEvent.objects.create(
            gateway=gateway_code,
            transaction_id=note.transaction_id[:64],
            order_no=note.order_no[:32],
            payment=payment,
            amount=note.amount,
            currency=note.currency[:3],
            outcome=outcome,
            source=source,
            payload=note.raw,
            received_at=now,
        )
    return outcome


def _flag(payment: Payment, why: str) -> str:
    payment.needs_review = True
    payment.review_note = why[:255]
    payment.save(update_fields=["needs_review", "review_note"])
    return CallbackOutcome.CONFLICT


def _apply(payment: Payment | None, note: Notification, now) -> str:
    if payment is None:
        return CallbackOutcome.UNKNOWN_ORDER
    if payment.gateway_txn_id == note.transaction_id:
        return CallbackOutcome.DUPLICATE
    if payment.status != PaymentStatus.PENDING:
        if note.paid and payment.status in (PaymentStatus.EXPIRED, PaymentStatus.FAILED):
            return _flag(
                payment, _("Paid after the order was closed: transaction %(t)s.") % {"t": note.transaction_id}
            )
        if note.paid and payment.gateway_txn_id:
            return _flag(
                payment, _("A second transaction %(t)s for a paid order.") % {"t": note.transaction_id}
            )
        return CallbackOutcome.LATE
    if not note.paid:
        payment.set_status(PaymentStatus.FAILED)
        payment.save(update_fields=["status"])
        return CallbackOutcome.FAILED
    if note.amount != payment.amount or note.currency != payment.currency:
        return _flag(
            payment,
            _("The gateway reports %(got)s %(cur)s for an order of %(want)s %(ours)s.")
            % {"got": note.amount, "cur": note.currency, "want": payment.amount, "ours": payment.currency},
        )
    if Payment.objects.filter(gateway=payment.gateway, gateway_txn_id=note.transaction_id).exists():
        return _flag(
            payment, _("Transaction %(t)s already settled another order.") % {"t": note.transaction_id}
        )
    payment.gateway_txn_id = note.transaction_id
    try:
        with transaction.atomic():
            _succeed(payment, now)
    except IntegrityError:  # the same transaction id raced onto another order
        payment.gateway_txn_id = None
        payment.status = PaymentStatus.PENDING
        return _flag(
            payment, _("Transaction %(t)s already settled another order.") % {"t": note.transaction_id}
        )
    return CallbackOutcome.CREDITED


def reconcile(older_than_minutes: int | None = None, stdout=None) -> dict:
    """Ask each gateway about orders stuck in pending: settle what it knows, expire the rest
    once they are older than the order expiry."""
    from datetime import timedelta

    expiry = timedelta(minutes=parameters.get("payment_order_expiry_minutes"))
    now = timezone.now()
    stale_after = now - timedelta(minutes=older_than_minutes or 0)
    counts = {"settled": 0, "expired": 0, "unchanged": 0, "errors": 0}
    pending = Payment.objects.filter(
        status=PaymentStatus.PENDING, method=Method.ONLINE, needs_review=False, created_at__lte=stale_after
    ).order_by("pk")
    for payment in pending.iterator():
        try:
            note = get_gateway(payment.gateway).query(payment)  # slow I/O: outside any transaction
        except DomainError as exc:
            counts["errors"] += 1
            if stdout:
                stdout.write(f"{payment.order_no}: {exc.message}")
            continue
        if note is not None:
            outcome = settle(payment.gateway, note, source="query")
            counts[
                "settled" if outcome in (CallbackOutcome.CREDITED, CallbackOutcome.FAILED) else "unchanged"
            ] += 1
        elif payment.created_at <= now - expiry:
            with transaction.atomic():
                locked = Payment.objects.select_for_update().get(pk=payment.pk)
                if locked.status == PaymentStatus.PENDING:
                    locked.set_status(PaymentStatus.EXPIRED)
                    locked.save(update_fields=["status"])
                    counts["expired"] += 1
        else:
            counts["unchanged"] += 1
    return counts


# --- refunds --------------------------------------------------------------------------------
#
# A counter refund (cash, card, bank) is one transaction: the money leaves the drawer and the
# ledger entry is posted together. An online refund cannot be: the gateway is slow I/O and cannot
# take part in our transaction. So it goes in steps, none of which holds a lock across the call:
#   1. a short transaction locks the payment, checks what is left, and commits the refund as
#      processing (its amount is now reserved: a parallel refund sees it as taken);
#   2. the gateway is asked, outside any transaction, under the refund's stable key RF{pk}, so a
#      repeat refunds once at the provider;
#   3. a second short transaction re-locks the payment and books the answer once: done (ledger
#      reversal, payment refunded_amount and status) or failed (the gateway's words kept, nothing
#      posted, the amount free again). No answer (unreachable, timed out, the process died) leaves
#      the refund processing; reconcile_refunds asks the gateway again later.


def refund_room(payment: Payment) -> Decimal:
    """What can still be refunded: the amount less what was refunded and what refunds awaiting
    approval or processing at the gateway hold. Lock the payment first when acting on it."""
    reserved = payment.refunds.filter(status__in=RESERVED_REFUND_STATUSES).aggregate(t=DecimalSum("amount"))
    return payment.amount - payment.refunded_amount - (reserved["t"] or 0)


def _lock_for_refund(payment_id: int, amount: Decimal) -> Payment:
    payment = Payment.objects.select_for_update().select_related("customer").get(pk=payment_id)
    if payment.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTLY_REFUNDED):
        raise DomainError("not_refundable", _("Only a paid payment can be refunded."))
    room = refund_room(payment)
    if amount > room:
        raise InvalidInput(
            "refund_too_large",
            _("At most %(max)s can still be refunded.") % {"max": format_money(room)},
            {"amount": [_("Too large.")]},
        )
    return payment


def request_refund(payment: Payment, amount, reason: str, by) -> Refund:
    """A full or partial refund by the original method. Above the threshold it waits for a
    supervisor's approval (a supervisor's own request goes straight through)."""
    value = clean_amount(amount)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            "reason_required", _("Give a reason for the refund."), {"reason": [_("Required.")]}
        )
    now = timezone.now()
    with transaction.atomic(durable=True):  # durable: committed before any gateway call
        locked = _lock_for_refund(payment.pk, value)
        refund = Refund.objects.create(
            payment=locked,
            amount=value,
            reason=reason[:255],
            status=RefundStatus.AWAITING_APPROVAL,
            requested_by=by,
            created_at=now,
        )
        if _approved_at_once(value, by):
            _carry_out(refund, locked, by, now)
    return _send_refund(refund, locked, by)


def _approved_at_once(value: Decimal, by) -> bool:
    """A refund up to the threshold, or a supervisor's, needs nobody else's approval."""
    return value <= parameters.get("refund_approval_threshold") or by.has_perm("payments.approve_refund")


def refund_credit(customer, amount, reason: str, by) -> list[Refund]:
    """Refund ``amount`` of a customer's credit (a move-out's settlement) against its newest
    payments that still have room, each by its own method, inside the caller's transaction: the
    refunds commit or roll back with the caller's work. Counter refunds are booked at once (or
    wait for a supervisor above the threshold, as request_refund's do); online ones are sent to
    the gateway after the commit. Refused, writing nothing, when those payments cannot carry the
    whole amount (a credit that came from an adjustment, not a payment)."""
    left = clean_amount(amount)
    reason = (reason or "").strip() or _("Balance refunded at move-out")
    now = timezone.now()
    refunds: list[Refund] = []
    paid = (
        Payment.objects.select_for_update()
        .select_related("customer")
        .filter(customer_id=customer.pk, status__in=(PaymentStatus.SUCCEEDED, PaymentStatus.PARTLY_REFUNDED))
        .order_by("-pk")
    )
    for payment in paid:
        part = min(refund_room(payment), left)
        if part <= 0:
            continue
        refund = Refund.objects.create(
            payment=payment,
            amount=part,
            reason=reason[:255],
            status=RefundStatus.AWAITING_APPROVAL,
            requested_by=by,
            created_at=now,
        )
        if _approved_at_once(part, by):
            _carry_out(refund, payment, by, now)
        if refund.status == RefundStatus.PROCESSING:
            transaction.on_commit(partial(_send_refund, refund, payment, by))
        refunds.append(refund)
        left -= part
        if not left:
            return refunds
    raise DomainError(
        "refund_exceeds_payments",
        _("Payments can carry a refund of at most %(max)s: carry the rest or keep it on the account.")
        % {"max": format_money(clean_amount(amount) - left)},
        {"settlement": [_("Not refundable in full.")]},
    )


def decide_refund(refund: Refund, approve: bool, by) -> Refund:
    if not by.has_perm("payments.approve_refund"):
        raise NotAllowed("approval_required", _("Only a supervisor may approve refunds."))
    now = timezone.now()
    with transaction.atomic(durable=True):
        payment = Payment.objects.select_for_update().select_related("customer").get(pk=refund.payment_id)
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status != RefundStatus.AWAITING_APPROVAL:
            raise DomainError("refund_decided", _("This refund was already decided."))
        if approve:
            _carry_out(refund, payment, by, now)
        else:
            refund.set_status(RefundStatus.REJECTED)
            refund.decided_by, refund.decided_at = by, now
            refund.save(update_fields=["status", "decided_by", "decided_at"])
    return _send_refund(refund, payment, by)


def retry_refund(refund: Refund, by) -> Refund:
    """Send a refund the gateway refused once more (same key), if the payment still has room."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        refund = Refund.objects.get(pk=refund.pk)
        if refund.status != RefundStatus.FAILED:
            raise DomainError("refund_not_failed", _("Only a failed refund can be sent again."))
        payment = _lock_for_refund(refund.payment_id, refund.amount)
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status != RefundStatus.FAILED:  # retried by someone else meanwhile
            raise DomainError("refund_not_failed", _("Only a failed refund can be sent again."))
        refund.set_status(RefundStatus.PROCESSING)
        refund.sent_at, refund.finished_at, refund.gateway_error = now, None, ""
        refund.save(update_fields=["status", "sent_at", "finished_at", "gateway_error"])
    return _send_refund(refund, payment, by)


def _carry_out(refund: Refund, payment: Payment, by, now) -> None:
    """An approved refund, in the caller's transaction (payment locked): a counter refund is booked
    at once; an online one is marked processing, for _send_refund after the commit."""
    refund.decided_by, refund.decided_at = by, now
    if payment.method == Method.ONLINE:
        refund.set_status(RefundStatus.PROCESSING)
        refund.sent_at = now
        refund.save(update_fields=["status", "decided_by", "decided_at", "sent_at"])
    else:
        _post_refund(refund, payment, by, now)


def _post_refund(refund: Refund, payment: Payment, by, now) -> None:
    """The money side of a refund, once: ledger reversal, payment totals, refund done."""
    ledger.post(
        payment.customer,
        EntryKind.REFUND,
        -refund.amount,
        reference=f"{_('Refund')} {payment.receipt_no}: {refund.reason}",
        idempotency_key=f"refund:{refund.pk}",
        by=by,
        at=now,
    )
    payment.refunded_amount += refund.amount
    payment.set_status(
        PaymentStatus.REFUNDED if payment.refunded_amount == payment.amount else PaymentStatus.PARTLY_REFUNDED
    )
    payment.save(update_fields=["refunded_amount", "status"])
    refund.set_status(RefundStatus.DONE)
    refund.finished_at = now
    publish(PaymentRefunded(refund.pk, payment.pk, payment.customer_id, refund.amount))
    refund.save(
        update_fields=[
            "status",
            "decided_by",
            "decided_at",
            "finished_at",
            "gateway_refund_id",
            "gateway_error",
        ]
    )


def _send_refund(refund: Refund, payment: Payment, by) -> Refund:
    """Step 2 and 3 for a refund committed as processing (anything else is returned as it is)."""
    if refund.status != RefundStatus.PROCESSING:
        return refund
    try:
        answer = get_gateway(payment.gateway).refund(payment, refund.amount, refund.gateway_ref)
    except GatewayError as exc:
        _note_no_answer(refund, exc.message)
        return refund
    return _book_refund(refund, answer, by)


def _note_no_answer(refund: Refund, why) -> None:
    """No answer from the gateway: the refund stays processing, with the reason shown to staff."""
    refund.gateway_error = str(why)[:255]
    Refund.objects.filter(pk=refund.pk, status=RefundStatus.PROCESSING).update(
        gateway_error=refund.gateway_error
    )


def _book_refund(refund: Refund, answer: RefundAnswer, by) -> Refund:
    """Step 3: book the gateway's answer in a short transaction that re-locks the payment. Once only:
    a refund no longer processing (booked by a parallel run or by reconcile) is left alone."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        payment = Payment.objects.select_for_update().select_related("customer").get(pk=refund.payment_id)
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status != RefundStatus.PROCESSING:
            return refund
        refund.gateway_refund_id = answer.refund_id[:64] or refund.gateway_refund_id
        refund.gateway_error = answer.message[:255]
        if answer.state == RefundAnswer.DONE:
            _post_refund(refund, payment, by, now)
        elif answer.state == RefundAnswer.FAILED:
            refund.set_status(RefundStatus.FAILED)
            refund.finished_at = now
            refund.save(update_fields=["status", "finished_at", "gateway_refund_id", "gateway_error"])
        else:  # pending at the gateway: reconcile asks again
            refund.save(update_fields=["gateway_refund_id", "gateway_error"])
    return refund


def reconcile_refunds(older_than_minutes: int | None = None, stdout=None) -> dict:
    """Settle online refunds left processing (no answer, a crash, a gateway still working on it):
    ask the gateway what became of each; one it never took is sent again under the same key.
    Only refunds sent longer ago than `older_than_minutes` (default: the parameter), so a call
    still in flight is not raced; a race would be harmless anyway (same key, booked once)."""
    from datetime import timedelta

    if older_than_minutes is None:
        older_than_minutes = parameters.get("refund_reconcile_after_minutes")
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    counts = {"refunds_done": 0, "refunds_failed": 0, "refunds_processing": 0, "refund_errors": 0}
    stuck = (
        Refund.objects.filter(status=RefundStatus.PROCESSING, sent_at__lte=cutoff)
        .select_related("payment")
        .order_by("sent_at", "pk")
    )
    for refund in stuck.iterator():
        payment = refund.payment
        try:
            gateway = get_gateway(payment.gateway)  # slow I/O below: outside any transaction
            answer = gateway.refund_status(payment, refund.amount, refund.gateway_ref)
            if answer is None:  # never taken: send it again, same key
                answer = gateway.refund(payment, refund.amount, refund.gateway_ref)
        except DomainError as exc:
            counts["refund_errors"] += 1
            _note_no_answer(refund, exc.message)
            if stdout:
                stdout.write(f"{refund.gateway_ref}: {exc.message}")
            continue
        booked = _book_refund(refund, answer, None)
        counts[REFUND_OUTCOMES.get(booked.status, "refunds_processing")] += 1
    return counts


REFUND_OUTCOMES: dict[str, str] = {RefundStatus.DONE: "refunds_done", RefundStatus.FAILED: "refunds_failed"}


# --- what is due ----------------------------------------------------------------------------


def due_summary(customer) -> dict:
    """The balance, what is owed, and the lines other apps say are due (the DueLines question:
    billing's unpaid bills and late fees; with no answerer the balance says it)."""
    balance = ledger.balance(customer)
    lines = [line for answer in ask(DueLines(customer)) for line in answer]
    return {"balance": balance, "owed": max(-balance, Decimal("0.00")), "lines": lines}


# --- bank statements ------------------------------------------------------------------------

BANK_GATEWAY = "bank"


def record_bank_payment(customer, amount, bank_txn_id: str, by=None, at=None) -> tuple[Payment, bool]:
    """A transfer seen on the bank statement: succeeded at once, idempotent by the bank's
    transaction id. Returns (payment, created)."""
    value = clean_amount(amount)
    txn = (bank_txn_id or "").strip()
    if not txn or len(txn) > 64:
        raise InvalidInput("invalid_txn_id", _("Every row needs the bank transaction id (≤ 64 characters)."))
    existing = Payment.objects.filter(gateway=BANK_GATEWAY, gateway_txn_id=txn).first()
    if existing is not None:
        return existing, False
    now = at or timezone.now()
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                order_no=new_order_no(now),
                customer=customer,
                amount=value,
                currency=settings.CURRENCY,
                method=Method.BANK,
                gateway=BANK_GATEWAY,
                gateway_txn_id=txn,
                created_by=by,
                created_at=now,
            )
            _succeed(payment, now, by)
    except IntegrityError:  # the same statement imported concurrently
        return Payment.objects.get(gateway=BANK_GATEWAY, gateway_txn_id=txn), False
    return payment, True
