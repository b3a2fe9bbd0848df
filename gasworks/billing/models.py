from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gasworks.customers.models import Category, GasUse
from gasworks.lib.fields import DecimalField
from gasworks.lib.money import MONEY_FIELD, DecimalSpec
from gasworks.lib.status import Transitions


class EntryKind(models.TextChoices):
    CHARGE = "charge", _("Gas charge")
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")
    LATE_FEE = "late_fee", _("Late fee")
    ADJUSTMENT = "adjustment", _("Adjustment")
    REVERSAL = "reversal", _("Reversal")
    PREPAID_CHARGE = "prepaid_charge", _("Prepaid gas charge")
    LPG_SALE = "lpg_sale", _("LPG sale")
    DEPOSIT = "deposit", _("Cylinder deposit")


class Account(models.Model):
    """The customer's money account. `balance` caches the sum of its entries; it changes only in
    the transaction that adds an entry, under a row lock, and verify_ledger checks it."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.PROTECT, related_name="account")
    balance = DecimalField(_("balance"), default=0, **MONEY_FIELD)
    prepaid = models.BooleanField(_("prepaid"), default=False)
    credit_limit = DecimalField(_("credit limit"), default=0, **MONEY_FIELD)
    low_balance_alert = DecimalField(_("low-balance alert at"), default=20, **MONEY_FIELD)
    # Set when the balance fell below the alert threshold; cleared when it rises again.
    low_balance_since = models.DateTimeField(_("low balance since"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        indexes = [
            # The prepaid page's low-balance list, without reading every account. Only prepaid
            # accounts below their alert are in it, and a balance update (which touches neither
            # column) stays a HOT update: the ledger's writes do not pay for it.
            models.Index(
                fields=["customer"],
                name="account_prepaid_low_idx",
                condition=models.Q(prepaid=True, low_balance_since__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.balance}"


# Entries that are few beside the charges and payments (indexed by kind for the audit log).
RARE_KINDS = [k for k in EntryKind.values if k not in ("charge", "prepaid_charge", "payment")]


class LedgerEntry(models.Model):
    """Immutable: money in is positive (payments), charges negative. A mistake is reversed by a
    new entry that points at it, never edited or deleted."""

    # Indexes are kept to what queries use (a billing run writes an entry per bill): the
    # account is served by ledger_account_time_idx, the key by its unique constraint.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries", db_index=False)
    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    amount = DecimalField(_("amount"), **MONEY_FIELD)
    balance_after = DecimalField(_("balance after"), **MONEY_FIELD)
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    # Whoever posts money passes a key that is unique per cause (bill id, payment id...): a
    # repeated post with the same key finds the first entry instead of charging twice.
    idempotency_key = models.CharField(max_length=120, null=True, blank=True)
    # No database foreign key to entries (here and in the tables that point at an entry): on
    # PostgreSQL entries are partitioned by created_at and their key is (id, created_at), so
    # nothing can reference id alone. Entries are never deleted (PROTECT still runs in the ORM).
    # One reversal per entry survives as the rule that a reversal's idempotency key is
    # "reversal:<id>" (docs/deploy.md, "Partitioned history").
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        db_constraint=False,
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["account", "created_at"], name="ledger_account_time_idx"),
            # Only entries a person posted (the run's charges carry no user), newest first: the
            # audit log filtered by who.
            models.Index(
                fields=["created_by", "created_at", "id"],
                name="ledger_created_by_time_idx",
                condition=models.Q(created_by__isnull=False),
            ),
            # The audit log filtered by a rare kind (a reversal, an adjustment) reads these,
            # newest first, instead of walking every entry back in time. Neither the billing
            # run's charges nor the counter's payments are in it: their writes do not pay for it.
            models.Index(
                fields=["kind", "created_at", "id"],
                name="ledger_rare_kind_time_idx",
                condition=models.Q(kind__in=RARE_KINDS),
            ),
        ]
        constraints = [
            models.CheckConstraint(name="ledger_amount_nonzero", condition=~models.Q(amount=0)),
            # A constraint rather than unique=True: no extra varchar_pattern_ops index.
            models.UniqueConstraint(fields=["idempotency_key"], name="ledger_idempotency_key_unique"),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise ValueError("ledger entries are immutable; post a reversal instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("ledger entries are immutable; post a reversal instead")


PRICE: DecimalSpec = {"max_digits": 12, "decimal_places": 4}
VOLUME: DecimalSpec = {"max_digits": 14, "decimal_places": 3}


class Tariff(models.Model):
    """A price schedule for a customer category (and, for residential customers, a gas use:
    cooking or boiler heating have different tier quotas). Its prices live in PriceVersions."""

    name = models.CharField(_("name"), max_length=120)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    # "" applies to every gas use of the category; a specific use wins over "".
    gas_use = models.CharField(_("gas use"), max_length=16, blank=True, default="", choices=GasUse.choices)
    minimum_charge = DecimalField(_("minimum monthly charge"), default=0, **MONEY_FIELD)
    meter_rent = DecimalField(_("meter rent per month"), default=0, **MONEY_FIELD)
    household_scaling = models.BooleanField(_("raise quotas for large households"), default=True)
    year_start_month = models.PositiveSmallIntegerField(_("tariff year starts: month"), default=1)
    year_start_day = models.PositiveSmallIntegerField(_("tariff year starts: day"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        ordering = ["category", "gas_use", "name"]
        constraints = [
            models.UniqueConstraint(fields=["category", "gas_use"], name="tariff_unique_category_use"),
            models.CheckConstraint(name="tariff_minimum_nonneg", condition=models.Q(minimum_charge__gte=0)),
            models.CheckConstraint(name="tariff_rent_nonneg", condition=models.Q(meter_rent__gte=0)),
        ]

    def __str__(self) -> str:
        return self.name


class PriceVersion(models.Model):
    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="versions")
    effective_from = models.DateField(_("effective from"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("price version")
        verbose_name_plural = _("price versions")
        ordering = ["tariff", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["tariff", "effective_from"], name="price_version_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.tariff} {self.effective_from}"


class TariffTier(models.Model):
    version = models.ForeignKey(PriceVersion, on_delete=models.CASCADE, related_name="tiers")
    number = models.PositiveSmallIntegerField(_("tier"))
    up_to = DecimalField(_("up to, m³ per tariff year"), null=True, blank=True, **VOLUME)
    price = DecimalField(_("price per m³"), **PRICE)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["version", "number"]
        constraints = [
            models.UniqueConstraint(fields=["version", "number"], name="tier_unique_number"),
            models.CheckConstraint(name="tier_price_nonneg", condition=models.Q(price__gte=0)),
        ]


class RunStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


RUN_TRANSITIONS = Transitions(
    {
        RunStatus.PENDING: {RunStatus.RUNNING, RunStatus.CANCELLED, RunStatus.FAILED},
        RunStatus.RUNNING: {RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.RUNNING},
        # A failed run is resumed: it goes back to running and continues from its checkpoint.
        RunStatus.FAILED: {RunStatus.RUNNING, RunStatus.CANCELLED},
        RunStatus.DONE: set(),
        RunStatus.CANCELLED: set(),
    },
    code="illegal_run_transition",
    message=_("A %(from)s run cannot become %(to)s."),
)


class BillingRun(models.Model):
    period = models.CharField(_("period"), max_length=7, db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.PENDING
    )
    accounts_total = models.PositiveIntegerField(_("accounts to bill"), default=0)
    bills_created = models.PositiveIntegerField(_("bills created"), default=0)
    parked = models.PositiveIntegerField(_("parked for review"), default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    # Progress: the highest customer id of a finished chunk. Resuming does not rely on it:
    # plan() finds the accounts still without a bill or review.
    last_customer_id = models.BigIntegerField(default=0)
    error = models.TextField(_("error"), blank=True)
    # Accounts the finished run did not bill, and why (billing.held_back.report).
    held_back = models.JSONField(_("held back"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")
        ordering = ["-pk"]
        permissions = [("run_billing", _("Can start and cancel billing runs"))]

    def __str__(self) -> str:
        return f"{self.period} #{self.pk}"

    @property
    def progress(self) -> int:
        if not self.chunks_total:
            return 100 if self.status == RunStatus.DONE else 0
        return min(100, round(100 * self.chunks_done / self.chunks_total))


class RunChunk(models.Model):
    """One chunk of a run's current plan (customer ids lo..hi). A chunk is billed in one
    transaction that first locks this row and ends by marking it done, so a chunk delivered
    twice (a Celery message redelivered after its worker died, or re-sent by
    runs.resume_stalled) bills and counts once: the second delivery waits for the first's
    commit, then finds it done. The row is the run's memory of what is left, whoever runs it.
    A new plan (a resumed run) deletes the chunks not done and plans afresh; a delivery of a
    deleted chunk finds no row and does nothing (the new plan covers its accounts)."""

    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="chunks")
    lo = models.BigIntegerField()
    hi = models.BigIntegerField()
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    taken_by = models.CharField(max_length=120, blank=True)  # the worker that last started it

    class Meta:
        verbose_name = _("billing run chunk")
        verbose_name_plural = _("billing run chunks")
        indexes = [models.Index(fields=["run", "lo"], name="billing_runchunk_run_lo_idx")]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.lo}..{self.hi}"


class BillStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    VOID = "void", _("Void")


class Bill(models.Model):
    # No index of its own: bill_unique_customer_period starts with the customer.
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="bills", db_index=False
    )
    period = models.CharField(_("period"), max_length=7)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))  # exclusive
    volume = DecimalField(_("volume, m³"), **VOLUME)
    total = DecimalField(_("total"), **MONEY_FIELD)
    minimum_top_up = DecimalField(_("minimum charge top-up"), default=0, **MONEY_FIELD)
    meter_rent = DecimalField(_("meter rent"), default=0, **MONEY_FIELD)
    previous_balance = DecimalField(_("previous balance"), default=0, **MONEY_FIELD)
    reading_from = DecimalField(_("previous reading"), null=True, blank=True, **VOLUME)
    reading_to = DecimalField(_("current reading"), null=True, blank=True, **VOLUME)
    status = models.CharField(
        _("status"), max_length=16, choices=BillStatus.choices, default=BillStatus.ISSUED
    )
    tariff = models.ForeignKey(Tariff, null=True, on_delete=models.PROTECT, related_name="+")
    run = models.ForeignKey(
        BillingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="bills"
    )
    issued_on = models.DateField(_("issued on"))
    due_on = models.DateField(_("due on"), db_index=True)
    created_at = models.DateTimeField(_("created at"))
    # When the bill was voided (billing.voiding): summaries find the bills that changed since
    # their last refresh by this time, not by id.
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("bill")
        verbose_name_plural = _("bills")
        ordering = ["-period", "customer_id"]
        indexes = [
            # The bill list: newest period first, customers in order, a period filtered (the
            # sales report's drill-down too), read in index order a page at a time instead of
            # sorting every bill of every period.
            models.Index(fields=["-period", "customer"], name="bill_period_customer_idx"),
            # Bills written outside a billing run (a parked bill approved, a one-off) by when:
            # the summaries' "what changed since" needs them; a run's own bills are found
            # through the run, so this index stays tiny and costs the run nothing.
            models.Index(
                fields=["created_at"], name="bill_created_no_run_idx", condition=models.Q(run__isnull=True)
            ),
            models.Index(
                fields=["voided_at"], name="bill_voided_idx", condition=models.Q(voided_at__isnull=False)
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["customer", "period"], name="bill_unique_customer_period")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.period}: {self.total}"

    @property
    def lines_total(self):
        return self.total - self.minimum_top_up - self.meter_rent


class BillLine(models.Model):
    bill = models.ForeignKey(
        Bill, on_delete=models.CASCADE, related_name="lines", db_index=False
    )  # billline_bill_idx
    tier = models.PositiveSmallIntegerField(_("tier"))
    volume = DecimalField(_("volume, m³"), **VOLUME)
    unit_price = DecimalField(_("unit price"), **PRICE)
    amount = DecimalField(_("amount"), **MONEY_FIELD)
    effective_from = models.DateField(_("price from"))
    # First day of the tariff year this volume counts toward (prior use for later bills).
    tariff_year = models.DateField(_("tariff year"))

    class Meta:
        verbose_name = _("bill line")
        verbose_name_plural = _("bill lines")
        ordering = ["bill", "pk"]
        indexes = [models.Index(fields=["bill"], name="billline_bill_idx")]


class ReviewStatus(models.TextChoices):
    OPEN = "open", _("Open")
    BILLED = "billed", _("Billed after review")
    DISMISSED = "dismissed", _("Dismissed")


class BillReview(models.Model):
    """An account whose bill looked implausible (far above its history): parked, not billed,
    until a person looks."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="bill_reviews")
    period = models.CharField(_("period"), max_length=7)
    run = models.ForeignKey(
        BillingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    volume = DecimalField(_("volume, m³"), **VOLUME)
    amount = DecimalField(_("amount"), **MONEY_FIELD)
    average_volume = DecimalField(_("average volume, m³"), **VOLUME)
    reason = models.CharField(_("reason"), max_length=32, default="implausible")
    status = models.CharField(
        _("status"), max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.OPEN
    )
    created_at = models.DateTimeField(_("created at"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("bill review")
        verbose_name_plural = _("bill reviews")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "period"], name="review_unique_customer_period")
        ]


class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    POSTED = "posted", _("Posted")
    REJECTED = "rejected", _("Rejected")


class Adjustment(models.Model):
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="adjustments")
    amount = DecimalField(_("amount"), **MONEY_FIELD)
    reason = models.CharField(_("reason"), max_length=255)
    status = models.CharField(
        _("status"), max_length=16, choices=AdjustmentStatus.choices, default=AdjustmentStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # No database foreign key: entries are partitioned on PostgreSQL (see LedgerEntry.reverses).
    entry = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("adjustment")
        verbose_name_plural = _("adjustments")
        ordering = ["-pk"]
        permissions = [("approve_adjustment", _("Can approve large adjustments"))]


class PrepaidCharge(models.Model):
    """A smart prepaid meter's reading charged as it arrived; the billing run skips it."""

    # No database foreign key: readings are partitioned on PostgreSQL and nothing can reference
    # their id alone (docs/deploy.md, "Partitioned history"); a charged reading is never deleted
    # (the ORM's PROTECT still refuses it).
    reading = models.OneToOneField(
        "metering.Reading", on_delete=models.PROTECT, related_name="prepaid_charge", db_constraint=False
    )
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    volume = DecimalField(_("volume, m³"), **VOLUME)
    amount = DecimalField(_("amount"), **MONEY_FIELD)
    tariff_year = models.DateField(_("tariff year"))
    # No database foreign key: entries are partitioned on PostgreSQL (see LedgerEntry.reverses).
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    created_at = models.DateTimeField(_("created at"))


class ValveCommandKind(models.TextChoices):
    CLOSE = "close", _("Close valve")
    OPEN = "open", _("Open valve")


class ValveCommandStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    ACKED = "acked", _("Acknowledged")


class ValveCommand(models.Model):
    meter = models.ForeignKey("metering.Meter", on_delete=models.PROTECT, related_name="valve_commands")
    command = models.CharField(_("command"), max_length=8, choices=ValveCommandKind.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=ValveCommandStatus.choices, default=ValveCommandStatus.QUEUED
    )
    reason = models.CharField(_("reason"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("valve command")
        verbose_name_plural = _("valve commands")
        ordering = ["-pk"]


class ArrearsSnapshot(models.Model):
    """Every account in debt, its debt split by the allocation rule of gasworks.billing.arrears,
    as of the day in ArrearsRefresh: rebuilt set-based by the daily job (refresh_arrears), read by
    the arrears page and report beside a live computation for the accounts whose ledger moved
    since (so a page is exact even between refreshes). Amounts in fen (integers: exact on every
    database). Derived data, never money: the ledger stays the truth."""

    customer = models.OneToOneField(
        "customers.Customer", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    overdue_fen = models.BigIntegerField(default=0)  # unpaid parts of bills past their due day
    oldest_due = models.DateField(null=True)  # the oldest overdue bill's due day
    bills = models.IntegerField(default=0)  # overdue bills
    d0_30_fen = models.BigIntegerField(default=0)
    d31_60_fen = models.BigIntegerField(default=0)
    d61_90_fen = models.BigIntegerField(default=0)
    d90_fen = models.BigIntegerField(default=0)
    not_due_fen = models.BigIntegerField(default=0)  # unpaid parts of bills not yet due
    fees_fen = models.BigIntegerField(default=0)  # late fees still owed (settled last)
    other_fen = models.BigIntegerField(default=0)  # debt beyond every bill (LPG, adjustments)

    class Meta:
        indexes = [
            # The arrears page's order (longest overdue first, then the largest) and top debtors.
            models.Index(
                "oldest_due",
                models.F("overdue_fen").desc(),
                "customer",
                name="arrears_page_idx",
                condition=models.Q(overdue_fen__gt=0),
            ),
            models.Index(models.F("overdue_fen").desc(), name="arrears_top_idx"),
        ]


class ArrearsRefresh(models.Model):
    """The one row saying which day the snapshot is as of and when its rebuild began: ledger
    entries recorded since (less a margin) mark the accounts read live."""

    as_of = models.DateField()
    started_at = models.DateTimeField()
    # PostgreSQL: the transaction snapshot the rebuild read through (pg_current_snapshot()), so
    # the entries it could not see (in flight or later) are told apart exactly, not by a margin.
    seen = models.TextField(blank=True, default="")
    # Totals of the whole snapshot (fen), so the unfiltered page corrects them by the accounts
    # read live instead of summing a million rows per request.
    totals = models.JSONField(default=dict)
