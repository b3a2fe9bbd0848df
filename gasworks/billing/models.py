from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 14, "decimal_places": 2}


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
    balance = models.DecimalField(_("balance"), default=0, **MONEY)
    prepaid = models.BooleanField(_("prepaid"), default=False)
    credit_limit = models.DecimalField(_("credit limit"), default=0, **MONEY)
    low_balance_alert = models.DecimalField(_("low-balance alert at"), default=20, **MONEY)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.balance}"


class LedgerEntry(models.Model):
    """Immutable: money in is positive (payments), charges negative. A mistake is reversed by a
    new entry that points at it, never edited or deleted."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    balance_after = models.DecimalField(_("balance after"), **MONEY)
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    # Whoever posts money passes a key that is unique per cause (bill id, payment id...): a
    # repeated post with the same key finds the first entry instead of charging twice.
    idempotency_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["pk"]
        indexes = [models.Index(fields=["account", "created_at"], name="ledger_account_time_idx")]
        constraints = [models.CheckConstraint(name="ledger_amount_nonzero", condition=~models.Q(amount=0))]

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise ValueError("ledger entries are immutable; post a reversal instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("ledger entries are immutable; post a reversal instead")
