from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gasworks.lib.status import Transitions


class Category(models.TextChoices):
    RESIDENTIAL = "residential", _("Residential")
    COMMERCIAL = "commercial", _("Commercial")
    INDUSTRIAL = "industrial", _("Industrial")


class GasUse(models.TextChoices):
    COOKING = "cooking", _("Cooking and hot water")
    HEATING = "heating", _("Wall-hung boiler heating")
    PROCESS = "process", _("Business or process use")


class Status(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")


# Allowed status moves; a closed account accepts no change.
TRANSITIONS = Transitions(
    {
        Status.ACTIVE: {Status.SUSPENDED, Status.CLOSED},
        Status.SUSPENDED: {Status.ACTIVE, Status.CLOSED},
        Status.CLOSED: set(),
    },
    code="illegal_status_change",
    message=_("An account that is %(from)s cannot become %(to)s."),
    labels=Status,
)


class Premises(models.Model):
    """The address where gas is supplied. It outlives customers: a name transfer hands the same
    premises (and the meters installed there) to a new account."""

    address = models.CharField(_("address"), max_length=255)
    district = models.CharField(_("district"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("premises")
        verbose_name_plural = _("premises")
        indexes = [models.Index(fields=["district"], name="premises_district_idx")]

    def __str__(self) -> str:
        return self.address


class Customer(models.Model):
    account_no = models.CharField(_("account number"), max_length=16, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=120)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    gas_use = models.CharField(_("gas use"), max_length=16, choices=GasUse.choices, default=GasUse.COOKING)
    phone = models.CharField(_("phone"), max_length=32)
    premises = models.ForeignKey(
        Premises, verbose_name=_("premises"), on_delete=models.PROTECT, related_name="customers"
    )
    household_size = models.PositiveSmallIntegerField(_("household size"), default=1)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    id_number = models.CharField(_("ID or business licence number"), max_length=32, blank=True)
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["account_no"]
        permissions = [
            ("transfer_customer", _("Can transfer an account to a new holder")),
            ("suspend_customer", _("Can suspend and reactivate an account")),
            ("close_customer", _("Can close an account")),
        ]
        indexes = [
            # Prefix searches (LIKE 'x%') use these on PostgreSQL whatever the collation.
            models.Index(
                fields=["account_no"], name="customer_account_no_like_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["phone"], name="customer_phone_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["name"], name="customer_name_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["category", "status"], name="customer_cat_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="customer_household_size_positive", condition=models.Q(household_size__gte=1)
            ),
            models.CheckConstraint(
                name="customer_category_valid", condition=models.Q(category__in=Category.values)
            ),
            models.CheckConstraint(
                name="customer_status_valid", condition=models.Q(status__in=Status.values)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_no} {self.name}"

    @property
    def address(self) -> str:
        return self.premises.address


class AccountEvent(models.TextChoices):
    OPENED = "opened", _("Opened")
    TRANSFERRED = "transferred", _("Transferred to a new holder")
    SUSPENDED = "suspended", _("Suspended")
    REACTIVATED = "reactivated", _("Reactivated")
    CLOSED = "closed", _("Closed")


class StatusChange(models.Model):
    """Every move in an account's life: opened, transferred, suspended, reactivated, closed."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16)
    event = models.CharField(_("event"), max_length=16, choices=AccountEvent.choices)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["at", "pk"]


class AccountNumberBlock(models.Model):
    """A single-row counter: account numbers are handed out in blocks under a row lock."""

    next_value = models.BigIntegerField(default=1)
