"""Payments: orders and payments (one row: an online order is a pending payment), refunds,
gapless receipt numbers, cashier shifts, API idempotency records, gateway callback log,
IC cards and their top-ups."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gasworks.lib.fields import DecimalField
from gasworks.lib.money import MONEY_FIELD
from gasworks.lib.status import Transitions


class Method(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Bank card")
    BANK = "bank", _("Bank transfer")
    ONLINE = "online", _("Online")


COUNTER_METHODS = (Method.CASH, Method.CARD, Method.BANK)


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")
    PARTLY_REFUNDED = "partly_refunded", _("Partly refunded")
    REFUNDED = "refunded", _("Refunded")


S = PaymentStatus
TRANSITIONS = Transitions(
    {
        S.PENDING: {S.SUCCEEDED, S.FAILED, S.EXPIRED},
        S.SUCCEEDED: {S.PARTLY_REFUNDED, S.REFUNDED},
        S.PARTLY_REFUNDED: {S.PARTLY_REFUNDED, S.REFUNDED},
        S.FAILED: set(),
        S.EXPIRED: set(),
        S.REFUNDED: set(),
    },
    code="illegal_transition",
    message=_("A payment cannot go from %(from)s to %(to)s."),
    labels=PaymentStatus,
)
PAID_STATUSES = (S.SUCCEEDED, S.PARTLY_REFUNDED, S.REFUNDED)


class ShiftStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed and handed over")


class Shift(models.Model):
    """A cashier's shift (班次). Counter payments join the cashier's open shift; closing it (日结)
    freezes its totals by method and locks it: no payment can join a closed shift."""

    cashier = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shifts")
    status = models.CharField(
        _("status"), max_length=8, choices=ShiftStatus.choices, default=ShiftStatus.OPEN
    )
    opened_at = models.DateTimeField(_("opened at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    totals = models.JSONField(_("totals by method"), default=dict, blank=True)
    cash_counted = DecimalField(_("cash counted"), null=True, blank=True, **MONEY_FIELD)
    handed_to = models.CharField(_("handed over to"), max_length=120, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("cashier shift")
        verbose_name_plural = _("cashier shifts")
        ordering = ["-opened_at"]
        permissions = [("supervise_shift", _("Can see every cashier's shifts"))]
        constraints = [
            # At most one open shift per cashier.
            models.UniqueConstraint(
                fields=["cashier"], condition=Q(status="open"), name="shift_one_open_per_cashier"
            )
        ]

    def __str__(self) -> str:
        return f"{self.cashier_id}@{self.opened_at:%Y-%m-%d %H:%M}"


class Payment(models.Model):
    """A payment order and, once paid, the payment. Counter payments (cash, card, bank) are
    born succeeded; online ones start pending and a gateway callback settles them."""

    order_no = models.CharField(_("order number"), max_length=32, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="payments"
    )
    amount = DecimalField(_("amount"), **MONEY_FIELD)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    method = models.CharField(_("method"), max_length=8, choices=Method.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    gateway = models.CharField(_("gateway"), max_length=16, blank=True)
    gateway_txn_id = models.CharField(_("gateway transaction id"), max_length=64, null=True, blank=True)
    needs_review = models.BooleanField(_("needs review"), default=False)
    review_note = models.CharField(_("review note"), max_length=255, blank=True)
    receipt_no = models.CharField(_("receipt number"), max_length=32, null=True, blank=True, unique=True)
    refunded_amount = DecimalField(_("refunded"), default=0, **MONEY_FIELD)
    tendered = DecimalField(_("cash tendered"), null=True, blank=True, **MONEY_FIELD)
    change_given = DecimalField(_("change given"), null=True, blank=True, **MONEY_FIELD)
    shift = models.ForeignKey(Shift, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    purpose = models.CharField(_("purpose"), max_length=16, default="account")  # account | ic_card
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("refund_payment", _("Can request a refund")),
            ("approve_refund", _("Can approve a refund above the threshold")),
            ("take_counter_payment", _("Can take payments at the counter")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "gateway_txn_id"],
                condition=Q(gateway_txn_id__isnull=False),
                name="payment_unique_gateway_txn",
            ),
            models.CheckConstraint(name="payment_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(name="payment_method_valid", condition=Q(method__in=Method.values)),
            models.CheckConstraint(
                name="payment_refund_within_amount",
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=models.F("amount")),
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "created_at"], name="payment_customer_time_idx"),
            models.Index(fields=["status", "created_at"], name="payment_status_time_idx"),
        ]

    def __str__(self) -> str:
        return self.receipt_no or self.order_no

    def set_status(self, to: str) -> None:
        TRANSITIONS.move(self, to)


class RefundStatus(models.TextChoices):
    AWAITING_APPROVAL = "awaiting", _("Awaiting approval")
    PROCESSING = "processing", _("Processing at the gateway")
    DONE = "done", _("Refunded")
    FAILED = "failed", _("Failed")
    REJECTED = "rejected", _("Rejected")


R = RefundStatus
# A counter refund (cash, card, bank) goes from approval straight to done in one transaction. An
# online one is first committed as processing, then the gateway is asked (outside any
# transaction), then a second short transaction books its answer: done (the money is posted) or
# failed (nothing posted). A failed refund may be sent again; reconciliation settles a refund
# left in processing.
REFUND_TRANSITIONS = Transitions(
    {
        R.AWAITING_APPROVAL: {R.PROCESSING, R.DONE, R.REJECTED},
        R.PROCESSING: {R.DONE, R.FAILED},
        R.FAILED: {R.PROCESSING},
        R.DONE: set(),
        R.REJECTED: set(),
    },
    code="illegal_transition",
    message=_("A refund cannot go from %(from)s to %(to)s."),
    labels=RefundStatus,
)
# Refunds that hold part of the payment: what is left to refund is the amount less these and
# what is already refunded (done refunds are in Payment.refunded_amount).
RESERVED_REFUND_STATUSES = (R.AWAITING_APPROVAL, R.PROCESSING)


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = DecimalField(_("amount"), **MONEY_FIELD)
    reason = models.CharField(_("reason"), max_length=255)
    status = models.CharField(_("status"), max_length=10, choices=RefundStatus.choices)
    gateway_refund_id = models.CharField(_("gateway refund id"), max_length=64, blank=True)
    gateway_error = models.CharField(_("gateway's answer"), max_length=255, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("requested at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent to the gateway at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(name="refund_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(name="refund_status_valid", condition=Q(status__in=RefundStatus.values)),
        ]
        indexes = [
            # reconcile_payments: the few refunds still processing, oldest first.
            models.Index(fields=["sent_at"], condition=Q(status="processing"), name="refund_processing_idx"),
        ]

    def __str__(self) -> str:
        return self.gateway_ref

    @property
    def gateway_ref(self) -> str:
        """Our key for this refund at the gateway: the same on every call, so it refunds once."""
        return f"RF{self.pk}"

    def set_status(self, to: str) -> None:
        REFUND_TRANSITIONS.move(self, to)


class ReceiptCounter(models.Model):
    """The last receipt number handed out per station and year. The row is locked in the payment's
    transaction, so a rolled-back payment gives its number back: no gaps, no duplicates."""

    station = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["station", "year"], name="receipt_counter_unique")]


class CallbackOutcome(models.TextChoices):
    CREDITED = "credited", _("Credited")
    DUPLICATE = "duplicate", _("Duplicate, ignored")
    LATE = "late", _("Late, ignored")
    CONFLICT = "conflict", _("Conflict, flagged for review")
    FAILED = "failed", _("Payment failed")
    UNKNOWN_ORDER = "unknown", _("Unknown order")


class GatewayEvent(models.Model):
    """Every verified notification, with what we did about it (forged ones never get here)."""

    gateway = models.CharField(max_length=16)
    transaction_id = models.CharField(max_length=64)
    order_no = models.CharField(max_length=32)
    payment = models.ForeignKey(Payment, null=True, on_delete=models.PROTECT, related_name="events")
    amount = DecimalField(**MONEY_FIELD)
    currency = models.CharField(max_length=3)
    outcome = models.CharField(max_length=10, choices=CallbackOutcome.choices)
    source = models.CharField(max_length=10, default="callback")  # callback | query
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at", "-pk"]


class SandboxTransaction(models.Model):
    """The sandbox gateway's own books: what the 'customer' paid on its page. reconcile_payments
    asks the sandbox about these, as it would ask a real gateway."""

    order_no = models.CharField(max_length=32, unique=True)
    transaction_id = models.CharField(max_length=64, unique=True)
    amount = DecimalField(**MONEY_FIELD)
    currency = models.CharField(max_length=3)
    refunded = DecimalField(default=0, **MONEY_FIELD)
    refunds = models.JSONField(default=dict)  # our refund ref -> amount, as the gateway keys them
    paid_at = models.DateTimeField()


class CardStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    REPLACED = "replaced", _("Replaced")
    LOST = "lost", _("Reported lost")


class ICCard(models.Model):
    """The IC card of a prepaid meter. A replacement retires the card and issues a new number."""

    card_no = models.CharField(_("card number"), max_length=24, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="ic_cards"
    )
    meter = models.ForeignKey(
        "metering.Meter", verbose_name=_("meter"), null=True, blank=True, on_delete=models.PROTECT
    )
    status = models.CharField(
        _("status"), max_length=8, choices=CardStatus.choices, default=CardStatus.ACTIVE
    )
    purchases = models.PositiveIntegerField(_("purchase count"), default=0)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    issued_at = models.DateTimeField(_("issued at"))

    class Meta:
        verbose_name = _("IC card")
        verbose_name_plural = _("IC cards")
        permissions = [
            ("topup_card", _("Can top up IC cards")),
            ("manage_card", _("Can issue and replace IC cards")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "meter"], condition=Q(status="active"), name="iccard_one_active_per_meter"
            )
        ]

    def __str__(self) -> str:
        return self.card_no


class CardPurchase(models.Model):
    """One top-up: money taken (a payment) and what is loaded onto the card."""

    card = models.ForeignKey(ICCard, on_delete=models.PROTECT, related_name="topups")
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="card_purchase")
    sequence = models.PositiveIntegerField(_("purchase number on the card"))
    amount = DecimalField(_("amount loaded"), **MONEY_FIELD)
    volume = DecimalField(_("volume loaded, m³"), max_digits=14, decimal_places=3, null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    written_at = models.DateTimeField(_("written to card at"), null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["card", "sequence"], name="cardpurchase_unique_seq")]
