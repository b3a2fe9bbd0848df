from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gasworks.lib.fields import DecimalField
from gasworks.lib.money import DecimalSpec

VOLUME: DecimalSpec = {"max_digits": 14, "decimal_places": 3}


class MeterKind(models.TextChoices):
    DIAPHRAGM = "diaphragm", _("Diaphragm meter")
    SMART = "smart", _("Smart (IoT) meter")
    IC_CARD = "ic_card", _("IC-card prepaid meter")
    INDUSTRIAL = "industrial", _("Industrial meter with volume corrector")
    LPG_SCALE = "lpg_scale", _("LPG scale")
    # A supply meter (gate station or district regulator): it belongs to a district, not to a
    # premises or a customer; its readings measure the gas sent into the district and are never
    # billed (the supply–sales balance report compares them with the district's bills).
    DISTRICT = "district", _("District supply meter")


class MeterStatus(models.TextChoices):
    INSTALLED = "installed", _("Installed")
    REMOVED = "removed", _("Removed")


class Meter(models.Model):
    """A meter installed at a premises. It stays with the premises across name transfers; the
    customer billed for a reading is the one recorded on the reading. A supply meter (kind
    ``district``) has a district instead of a premises, and its readings carry no customer."""

    serial_no = models.CharField(_("serial number"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=MeterKind.choices, default=MeterKind.DIAPHRAGM)
    digits = models.PositiveSmallIntegerField(_("register digits"), default=5)
    premises = models.ForeignKey(
        "customers.Premises",
        verbose_name=_("premises"),
        on_delete=models.PROTECT,
        related_name="meters",
        null=True,
        blank=True,
    )
    # A supply meter's district: the same names as Premises.district (no table of districts).
    district = models.CharField(_("district"), max_length=64, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=16, choices=MeterStatus.choices, default=MeterStatus.INSTALLED
    )
    installed_on = models.DateField(_("installed on"))
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    initial_reading = DecimalField(_("initial reading"), default=0, **VOLUME)
    # Volume correction: a fixed factor, or P/T sent with each reading (industrial correctors).
    correction_factor = DecimalField(
        _("fixed correction factor"), max_digits=10, decimal_places=6, null=True, blank=True
    )
    max_flow_m3h = DecimalField(_("rated maximum flow, m³/h"), max_digits=10, decimal_places=3, default=6)
    # Per-meter override of the vee_spike_factor parameter (blank: use the parameter).
    spike_factor = DecimalField(_("spike factor"), max_digits=6, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("meter")
        verbose_name_plural = _("meters")
        permissions = [("manage_device_keys", _("Can issue and rotate smart meter keys"))]
        constraints = [
            models.CheckConstraint(
                name="meter_digits_range", condition=models.Q(digits__gte=3, digits__lte=10)
            ),
            # A supply meter has a district and no premises; every other meter the reverse.
            models.CheckConstraint(
                name="meter_district_xor_premises",
                condition=(models.Q(kind="district", premises__isnull=True) & ~models.Q(district=""))
                | (~models.Q(kind="district") & models.Q(premises__isnull=False, district="")),
            ),
        ]
        indexes = [
            # Few rows: only supply meters have a district.
            models.Index(fields=["district"], name="meter_district_idx", condition=~models.Q(district="")),
        ]

    def __str__(self) -> str:
        return self.serial_no

    @property
    def is_supply(self) -> bool:
        return self.kind == MeterKind.DISTRICT


class ReadingStatus(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    FLAGGED = "flagged", _("Flagged for review")
    APPROVED = "approved", _("Approved after review")
    REJECTED = "rejected", _("Rejected")
    ESTIMATED = "estimated", _("Estimated")


# A bill uses only these readings: accepted (plausible), approved after review, or estimated.
# A flagged or rejected reading is kept but never billed until a person approves it.
BILLABLE_STATUSES = (ReadingStatus.ACCEPTED, ReadingStatus.APPROVED, ReadingStatus.ESTIMATED)
# A reading that adds no gas: its billable volume (the corrected one when corrected) is 0 or
# less, or unknown. A meter whose readings of a period sum to 0 has at least one, so the
# zero-use list starts from these few rows (a partial index) instead of summing every reading.
NO_USE = (
    models.Q(corrected_consumption__lte=0)
    | models.Q(corrected_consumption__isnull=True, consumption__lte=0)
    | models.Q(corrected_consumption__isnull=True, consumption__isnull=True)
)


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

    # No single-column indexes on the two foreign keys: the (meter, taken_at) unique constraint
    # and the (customer, taken_at) index lead with them and serve every lookup, and each index
    # less is one write less per stored reading (bulk import and device ingest).
    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="readings", db_index=False)
    # Empty only for a supply meter's readings (nobody is billed for them): billing reads
    # readings by customer, so it never sees them.
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="readings",
        db_index=False,
        null=True,
        blank=True,
    )
    value = DecimalField(_("register value"), **VOLUME)
    taken_at = models.DateTimeField(_("taken at"))
    reason = models.CharField(
        _("reason"), max_length=16, choices=ReadingReason.choices, default=ReadingReason.PERIODIC
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ReadingStatus.choices, default=ReadingStatus.ACCEPTED
    )
    flags = models.JSONField(_("flags"), default=list, blank=True)
    consumption = DecimalField(_("consumption, m³"), null=True, blank=True, **VOLUME)
    corrected_consumption = DecimalField(_("corrected consumption, m³"), null=True, blank=True, **VOLUME)
    pressure_kpa = DecimalField(
        _("gauge pressure, kPa"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    temperature_c = DecimalField(_("temperature, °C"), max_digits=6, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    source = models.CharField(_("source"), max_length=16, default="manual")
    seq = models.BigIntegerField(_("device message counter"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        permissions = [
            ("review_reading", _("Can approve, correct or reject flagged readings")),
            ("import_readings", _("Can import readings from files")),
        ]
        ordering = ["meter", "taken_at"]
        constraints = [
            models.UniqueConstraint(fields=["meter", "taken_at"], name="reading_unique_meter_time"),
            models.CheckConstraint(name="reading_value_nonnegative", condition=models.Q(value__gte=0)),
        ]
        indexes = [
            models.Index(fields=["customer", "taken_at"], name="reading_customer_time_idx"),
            models.Index(fields=["status", "taken_at"], name="reading_status_time_idx"),
            # Readings recorded since a time (the reports' rollups find what changed by it): an
            # append at the index's right edge, as created_at only grows.
            models.Index(fields=["created_at"], name="reading_created_idx"),
            models.Index(fields=["taken_at"], name="reading_no_use_idx", condition=NO_USE),
        ]

    def __str__(self) -> str:
        return f"{self.meter_id}@{self.taken_at:%Y-%m-%d %H:%M}: {self.value}"

    @property
    def flag_labels(self) -> list[str]:
        """The VEE flags as people read them (``flags`` keeps the codes)."""
        from gasworks.metering.vee import flag_labels

        return flag_labels(self.flags)


class ReadingSource(models.TextChoices):
    MANUAL = "manual", _("Entered by staff")
    API = "api", _("API")
    DEVICE = "device", _("Smart meter")
    IMPORT = "import", _("File import")
    ESTIMATE = "estimate", _("Estimated")
    SELF = "self", _("Sent by the customer")


class ReadingPhoto(models.Model):
    """The photo of the register a customer sends with a self-reading: the reviewer compares it
    with the value when VEE flags the reading."""

    # No database foreign key: on PostgreSQL readings are partitioned by taken_at and their key
    # is (id, taken_at), so nothing can reference id alone (docs/deploy.md, "Partitioned
    # history"). Readings are never deleted once stored; the ORM's CASCADE still runs in Python.
    reading = models.OneToOneField(
        Reading, on_delete=models.CASCADE, related_name="photo", db_constraint=False
    )
    image = models.ImageField(_("photo"), upload_to="readings/%Y/%m/")
    uploaded_at = models.DateTimeField(_("uploaded at"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("reading photo")
        verbose_name_plural = _("reading photos")

    def __str__(self) -> str:
        return f"photo of reading {self.reading_id}"


class MeterEvent(models.Model):
    """The meter's status history: installed, removed (with the final register value)."""

    class Kind(models.TextChoices):
        INSTALLED = "installed", _("Installed")
        REMOVED = "removed", _("Removed")
        REPLACED = "replaced", _("Replaced")

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("event"), max_length=16, choices=Kind.choices)
    on = models.DateField(_("on"))
    register_value = DecimalField(_("register value"), null=True, blank=True, **VOLUME)
    note = models.CharField(_("note"), max_length=255, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("meter event")
        verbose_name_plural = _("meter events")
        ordering = ["at", "pk"]


class DeviceKey(models.Model):
    """A smart meter's HMAC key and message counter. The key itself is needed to check each
    signature, so it is stored (never shown after creation); rotation overwrites it. last_seq
    survives rotation and restarts: a message whose seq is not above it is a replay."""

    meter = models.OneToOneField(Meter, on_delete=models.CASCADE, related_name="device_key")
    key = models.CharField(max_length=64)
    last_seq = models.BigIntegerField(default=0)
    signature_failures = models.PositiveIntegerField(default=0)
    rotated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("device key")
        verbose_name_plural = _("device keys")


class ReadingRoute(models.Model):
    """抄表册: an ordered list of meters walked by one meter reader."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("meter reader"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reading_routes",
    )
    meters = models.ManyToManyField(Meter, through="RouteStop", related_name="routes")

    class Meta:
        verbose_name = _("reading route")
        verbose_name_plural = _("reading routes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RouteStop(models.Model):
    route = models.ForeignKey(ReadingRoute, on_delete=models.CASCADE, related_name="stops")
    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="stops")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["route", "position"]
        constraints = [models.UniqueConstraint(fields=["route", "meter"], name="routestop_unique_meter")]


class AlertKind(models.TextChoices):
    REVERSE_FLOW = "reverse_flow", _("Reverse flow")
    DEVICE_TAMPER = "device_tamper", _("Tamper switch reported by the device")
    MAGNET = "magnet", _("Magnet detected by the device")
    SIGNATURE_FAILURES = "signature_failures", _("Repeated signature failures")
    IMPLAUSIBLE_JUMP = "implausible_jump", _("Implausible jump")


class TamperAlert(models.Model):
    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="alerts")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="tamper_alerts"
    )
    # No database foreign key: readings are partitioned on PostgreSQL (see ReadingPhoto.reading).
    reading = models.ForeignKey(
        Reading, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts", db_constraint=False
    )
    kind = models.CharField(_("kind"), max_length=24, choices=AlertKind.choices)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    raised_at = models.DateTimeField(_("raised at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("tamper alert")
        verbose_name_plural = _("tamper alerts")
        ordering = ["-raised_at", "-pk"]
        indexes = [models.Index(fields=["closed_at", "raised_at"], name="alert_open_idx")]


class ReadingImport(models.Model):
    """An uploaded readings file held between preview and confirmation (as normalised rows)."""

    file_name = models.CharField(max_length=200)
    rows = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    imported = models.PositiveIntegerField(default=0)


class DeadLetterReason(models.TextChoices):
    UNDECODABLE = "undecodable", _("cannot be decoded")
    TOO_LARGE = "too_large", _("too large")


class DeadLetter(models.Model):
    """An MQTT message the consumer could not even read: acknowledged at once so it cannot hold
    up the messages behind it, and kept here (its payload cut to PAYLOAD_KEPT bytes) for admins."""

    PAYLOAD_KEPT = 1024

    topic = models.CharField(_("topic"), max_length=255)
    payload = models.TextField(_("payload (start)"), blank=True)
    size = models.PositiveIntegerField(_("size, bytes"))
    reason = models.CharField(_("reason"), max_length=16, choices=DeadLetterReason.choices)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("dead letter")
        verbose_name_plural = _("dead letters")
        ordering = ["-received_at", "-pk"]
