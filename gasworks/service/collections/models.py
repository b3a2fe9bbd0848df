"""Tables of service.collections (imported by gasworks/service/models.py).

CollectionStep: one rung of the ladder (催缴) taken for an account. The rungs of the account's
current debt are ``live``; a payment that clears the debt ends them (open ones cancelled, done
ones kept as done) and the next debt starts a new ladder. One live rung per account and step, a
unique constraint, so a run repeated for the same day (or two runs at once) takes nothing twice.

Holiday: the calendar the admin keeps: public holidays, and weekend days that are working days
(调休), so that no disconnection is ordered the day before a day off.
MedicalNeed: the protection register: customers whose supply must not be cut (oxygen, dialysis,
a bedridden person...), with a note. A register here rather than a flag on the customer: the
customers app knows nothing of collections, and a register keeps who registered it and when.
SupplyCut: the customers whose supply was cut by a disconnection order, until reconnection is
ordered."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gasworks.lib.fields import DecimalField

__all__ = [
    "CollectionRun",
    "CollectionStep",
    "Holiday",
    "HolidayKind",
    "MedicalNeed",
    "StepKind",
    "StepStatus",
    "SupplyCut",
]


class StepKind(models.TextChoices):
    REMINDER = "reminder", _("Reminder")
    FINAL_NOTICE = "final_notice", _("Final notice")
    DISCONNECTION_ORDER = "disconnection_order", _("Disconnection order")


class StepStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CANCELLED = "cancelled", _("Cancelled")
    DONE = "done", _("Done")


class CollectionStep(models.Model):
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="collection_steps",
        verbose_name=_("customer"),
    )
    step = models.CharField(_("step"), max_length=24, choices=StepKind.choices)
    created_on = models.DateField(_("taken on"))
    status = models.CharField(_("status"), max_length=16, choices=StepStatus.choices, default=StepStatus.OPEN)
    amount = DecimalField(_("amount overdue"), max_digits=12, decimal_places=2)
    oldest_due = models.DateField(_("oldest due day"))
    live = models.BooleanField(_("current debt"), default=True)
    created_at = models.DateTimeField(_("created at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("collection step")
        verbose_name_plural = _("collection steps")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "step"], condition=Q(live=True), name="collection_step_one_live"
            ),
        ]
        indexes = [models.Index(fields=["status", "step", "created_on"], name="collection_step_status")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.step} {self.created_on}"

    @property
    def days_overdue(self) -> int:
        return (self.created_on - self.oldest_due).days


class CollectionRun(models.Model):
    """One run of the ladder (command, beat or the page's button): what it took."""

    as_of = models.DateField(_("as of"))
    reminders = models.PositiveIntegerField(_("reminders"), default=0)
    final_notices = models.PositiveIntegerField(_("final notices"), default=0)
    disconnection_orders = models.PositiveIntegerField(_("disconnection orders"), default=0)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("collections run")
        verbose_name_plural = _("collections runs")
        ordering = ["-started_at", "-pk"]
        permissions = [("run_collections", _("Can run the collections ladder"))]


class HolidayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday")
    WORKDAY = "workday", _("Working day (调休)")


class Holiday(models.Model):
    day = models.DateField(_("day"), unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=HolidayKind.choices, default=HolidayKind.HOLIDAY)
    name = models.CharField(_("name"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class MedicalNeed(models.Model):
    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="medical_need",
        verbose_name=_("customer"),
    )
    note = models.CharField(_("note"), max_length=200)
    registered_on = models.DateField(_("registered on"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("registered medical need")
        verbose_name_plural = _("registered medical needs")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.note}"


class SupplyCut(models.Model):
    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="supply_cut", verbose_name=_("customer")
    )
    step = models.ForeignKey(CollectionStep, on_delete=models.PROTECT, related_name="+")
    cut_at = models.DateTimeField(_("cut at"))
    reconnection_due_at = models.DateTimeField(_("reconnection ordered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("supply cut")
        verbose_name_plural = _("supply cuts")
