"""Tables of service.arrangements (imported by gasworks/service/models.py).

A payment arrangement (分期) splits an account's overdue debt into a down payment and instalments
on dates. It moves no money: payments reach the ledger as always (billing.ledger), and the
arrangement only counts them (``paid``) to mark instalments met. One writer: services.py."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gasworks.lib.fields import DecimalField
from gasworks.lib.money import MONEY_FIELD
from gasworks.lib.status import Transitions

__all__ = ["Arrangement", "ArrangementStatus", "EndReason", "Instalment"]


class ArrangementStatus(models.TextChoices):
    ACTIVE = "active", _("In force")
    COMPLETED = "completed", _("Completed")
    ENDED = "ended", _("Ended (defaulted)")
    CANCELLED = "cancelled", _("Cancelled")


class EndReason(models.TextChoices):
    MISSED_INSTALMENT = "missed_instalment", _("An instalment was missed")
    NEW_BILL_UNPAID = "new_bill_unpaid", _("A new bill was left unpaid")
    CANCELLED = "cancelled", _("Cancelled by the station")


TRANSITIONS = Transitions(
    {
        ArrangementStatus.ACTIVE: {
            ArrangementStatus.COMPLETED,
            ArrangementStatus.ENDED,
            ArrangementStatus.CANCELLED,
        },
        ArrangementStatus.COMPLETED: set(),
        ArrangementStatus.ENDED: set(),
        ArrangementStatus.CANCELLED: set(),
    },
    code="arrangement_not_active",
    message=_("The arrangement is %(from)s: it cannot become %(to)s."),
    labels=ArrangementStatus,
)


class Arrangement(models.Model):
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="arrangements")
    status = models.CharField(
        _("status"), max_length=12, choices=ArrangementStatus.choices, default=ArrangementStatus.ACTIVE
    )
    # The debt arranged: what was owed and due when it was made (overdue bills, late fees and
    # other charges; bills not yet due stay outside). Equal to the schedule's sum, to the fen.
    total = DecimalField(_("total"), **MONEY_FIELD)
    down_payment = DecimalField(_("down payment"), **MONEY_FIELD)
    # Money paid to the account since the arrangement was made, counted toward it first (it is
    # the oldest debt), never beyond the total.
    paid = DecimalField(_("paid toward it"), default=0, **MONEY_FIELD)
    created_on = models.DateField(_("made on"))
    created_at = models.DateTimeField(_("made at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=20, choices=EndReason.choices, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("payment arrangement")
        verbose_name_plural = _("payment arrangements")
        permissions = [("cancel_arrangement", _("Can cancel a payment arrangement"))]
        constraints = [
            # The backstop of "one active arrangement per account": two clerks racing meet here.
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status="active"),
                name="arrangement_one_active_per_customer",
            ),
            models.CheckConstraint(condition=Q(total__gt=0), name="arrangement_total_positive"),
            models.CheckConstraint(
                condition=Q(down_payment__gte=0), name="arrangement_down_payment_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.customer_id} {self.status}"

    @property
    def left(self):
        return self.total - self.paid


class Instalment(models.Model):
    """One dated part of the schedule; ``seq`` 0 is the down payment (due the day it is made)."""

    arrangement = models.ForeignKey(Arrangement, on_delete=models.CASCADE, related_name="instalments")
    seq = models.PositiveSmallIntegerField(_("number"))
    due_on = models.DateField(_("due on"))
    amount = DecimalField(_("amount"), **MONEY_FIELD)
    met_on = models.DateField(_("met on"), null=True, blank=True)

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["arrangement", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["arrangement", "seq"], name="instalment_unique_seq"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="instalment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.arrangement_id}/{self.seq} {self.due_on} {self.amount}"

    @property
    def is_down_payment(self) -> bool:
        return self.seq == 0
