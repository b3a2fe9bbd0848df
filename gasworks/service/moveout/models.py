"""Tables of service.moveout (imported by gasworks/service/models.py)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gasworks.lib.fields import DecimalField
from gasworks.lib.money import MONEY_FIELD

__all__ = ["MoveOut", "MoveOutKind", "Settlement"]


class MoveOutKind(models.TextChoices):
    MOVE_OUT = "move_out", _("Move-out and close")
    TRANSFER = "transfer", _("Name transfer")


class Settlement(models.TextChoices):
    NONE = "none", _("Nothing to settle")
    REFUND = "refund", _("Refund the credit")
    CARRY = "carry", _("Carry to the new account")
    KEEP = "keep", _("Keep on the old account")


class MoveOut(models.Model):
    """An account's end: its final reading, its final bill and how its balance was settled, and
    for a name transfer the account that follows it on the premises. One per account: the unique
    customer is the last guard against two clerks closing it twice."""

    customer = models.OneToOneField(
        "customers.Customer", verbose_name=_("account"), on_delete=models.PROTECT, related_name="move_out"
    )
    new_customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("new account"),
        on_delete=models.PROTECT,
        related_name="moved_in",
        null=True,
        blank=True,
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MoveOutKind.choices)
    day = models.DateField(_("day"))
    # No database foreign key: readings are partitioned on PostgreSQL (docs/deploy.md,
    # "Partitioned history"); the final reading is billed and never deleted (PROTECT in the ORM).
    final_reading = models.ForeignKey(
        "metering.Reading",
        verbose_name=_("final reading"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    final_bill = models.ForeignKey(
        "billing.Bill",
        verbose_name=_("final bill"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    # The balance after the final bill, before the settlement (negative: owed).
    balance = DecimalField(_("balance after the final bill"), **MONEY_FIELD)
    settlement = models.CharField(_("settlement"), max_length=16, choices=Settlement.choices)
    settled_amount = DecimalField(_("amount settled"), default=0, **MONEY_FIELD)
    # Carrying the balance to the new holder needs the old holder's consent, recorded.
    consent_by = models.CharField(_("consent given by"), max_length=120, blank=True)
    consented_at = models.DateTimeField(_("consent recorded at"), null=True, blank=True)
    # The service desk's request this completes (its id; the desk listens to AccountMovedOut).
    request_id = models.PositiveBigIntegerField(_("service request"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("move-out")
        verbose_name_plural = _("move-outs")
        ordering = ["-pk"]
        permissions = [("move_out_customer", _("Can move an account out or transfer it with a final bill"))]
        constraints = [
            models.CheckConstraint(
                name="moveout_transfer_has_new_account",
                condition=models.Q(kind="transfer", new_customer__isnull=False)
                | models.Q(kind="move_out", new_customer__isnull=True),
            ),
            models.CheckConstraint(
                name="moveout_carry_has_consent",
                condition=~models.Q(settlement="carry")
                | (~models.Q(consent_by="") & models.Q(consented_at__isnull=False)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.day}"
