from django.db import models
from django.utils.translation import gettext_lazy as _

VOLUME = {"max_digits": 14, "decimal_places": 3}


class MeterKind(models.TextChoices):
    DIAPHRAGM = "diaphragm", _("Diaphragm meter")
    SMART = "smart", _("Smart (IoT) meter")
    IC_CARD = "ic_card", _("IC-card prepaid meter")
    INDUSTRIAL = "industrial", _("Industrial meter with volume corrector")
    LPG_SCALE = "lpg_scale", _("LPG scale")


class MeterStatus(models.TextChoices):
    INSTALLED = "installed", _("Installed")
    REMOVED = "removed", _("Removed")


class Meter(models.Model):
    """A meter installed at a premises. It stays with the premises across name transfers; the
    customer billed for a reading is the one recorded on the reading."""

    serial_no = models.CharField(_("serial number"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=MeterKind.choices, default=MeterKind.DIAPHRAGM)
    digits = models.PositiveSmallIntegerField(_("register digits"), default=5)
    premises = models.ForeignKey(
        "customers.Premises", verbose_name=_("premises"), on_delete=models.PROTECT, related_name="meters"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=MeterStatus.choices, default=MeterStatus.INSTALLED
    )
    installed_on = models.DateField(_("installed on"))
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    initial_reading = models.DecimalField(_("initial reading"), default=0, **VOLUME)
    # Volume correction: a fixed factor, or P/T sent with each reading (industrial correctors).
    correction_factor = models.DecimalField(
        _("fixed correction factor"), max_digits=10, decimal_places=6, null=True, blank=True
    )
    max_flow_m3h = models.DecimalField(
        _("rated maximum flow, m³/h"), max_digits=10, decimal_places=3, default=6
    )

    class Meta:
        verbose_name = _("meter")
        verbose_name_plural = _("meters")
        constraints = [
            models.CheckConstraint(
                name="meter_digits_range", condition=models.Q(digits__gte=3, digits__lte=10)
            )
        ]

    def __str__(self) -> str:
        return self.serial_no


class ReadingStatus(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    FLAGGED = "flagged", _("Flagged for review")
    APPROVED = "approved", _("Approved after review")
    REJECTED = "rejected", _("Rejected")
    ESTIMATED = "estimated", _("Estimated")


# A bill uses only these readings (design.md: plausible, approved or estimated).
BILLABLE_STATUSES = (ReadingStatus.ACCEPTED, ReadingStatus.APPROVED, ReadingStatus.ESTIMATED)


class ReadingReason(models.TextChoices):
    PERIODIC = "periodic", _("Periodic")
    INTERIM = "interim", _("Interim")
    MOVE_IN = "move_in", _("Move-in")
    MOVE_OUT = "move_out", _("Move-out")
    CONTROL = "control", _("Control (check)")
    INSTALL = "install", _("Meter install")
    REMOVAL = "removal", _("Meter removal")


class Reading(models.Model):
    """One register reading. consumption is V1 − V0 against the meter's previous billable reading
    (rollover handled); corrected_consumption is the volume at base conditions when the meter
    corrects. Billing charges Coalesce(corrected_consumption, consumption) of billable readings."""

    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="readings")
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="readings"
    )
    value = models.DecimalField(_("register value"), **VOLUME)
    taken_at = models.DateTimeField(_("taken at"))
    reason = models.CharField(
        _("reason"), max_length=16, choices=ReadingReason.choices, default=ReadingReason.PERIODIC
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ReadingStatus.choices, default=ReadingStatus.ACCEPTED
    )
    flags = models.JSONField(_("flags"), default=list, blank=True)
    consumption = models.DecimalField(_("consumption, m³"), null=True, blank=True, **VOLUME)
    corrected_consumption = models.DecimalField(
        _("corrected consumption, m³"), null=True, blank=True, **VOLUME
    )
    pressure_kpa = models.DecimalField(
        _("gauge pressure, kPa"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    temperature_c = models.DecimalField(
        _("temperature, °C"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        ordering = ["meter", "taken_at"]
        constraints = [
            models.UniqueConstraint(fields=["meter", "taken_at"], name="reading_unique_meter_time"),
            models.CheckConstraint(name="reading_value_nonnegative", condition=models.Q(value__gte=0)),
        ]
        indexes = [
            models.Index(fields=["customer", "taken_at"], name="reading_customer_time_idx"),
            models.Index(fields=["status", "taken_at"], name="reading_status_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.meter_id}@{self.taken_at:%Y-%m-%d %H:%M}: {self.value}"
