from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gasworks.lib.fields import DecimalField
from gasworks.lib.money import MONEY_FIELD, DecimalSpec
from gasworks.lib.status import Transitions

KG: DecimalSpec = {"max_digits": 8, "decimal_places": 3}
PRICE: DecimalSpec = {"max_digits": 12, "decimal_places": 4}


class CylinderModel(models.TextChoices):
    """Models by water volume (GB 5842); the default rated fills are parameters (rules.py)."""

    YSP4_7 = "YSP4.7", "YSP4.7"
    YSP12 = "YSP12", "YSP12"
    YSP26_2 = "YSP26.2", "YSP26.2"
    YSP35_5 = "YSP35.5", "YSP35.5"
    YSP118 = "YSP118", "YSP118"


class Standard(models.TextChoices):
    GB5842_2006 = "GB5842-2006", _("GB 5842-2006 (8-year design life)")
    GB5842_OLD = "GB5842-1996", _("Older civil standard (GB 5842-1996 or earlier)")


class CylinderStatus(models.TextChoices):
    EMPTY_IN_STATION = "empty_in_station", _("Empty in station")
    FULL_IN_STATION = "full_in_station", _("Full in station")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    AT_CUSTOMER = "at_customer", _("At customer")
    AT_INSPECTION = "at_inspection", _("At inspection")
    SCRAPPED = "scrapped", _("Scrapped")


S = CylinderStatus
# Allowed moves of a cylinder; anything else raises (services.set_status).
TRANSITIONS = Transitions(
    {
        S.EMPTY_IN_STATION: {S.FULL_IN_STATION, S.AT_INSPECTION, S.SCRAPPED},
        S.FULL_IN_STATION: {S.OUT_FOR_DELIVERY, S.AT_INSPECTION, S.SCRAPPED},
        # A full cylinder that could not be delivered comes back full.
        S.OUT_FOR_DELIVERY: {S.AT_CUSTOMER, S.FULL_IN_STATION},
        S.AT_CUSTOMER: {S.EMPTY_IN_STATION},
        S.AT_INSPECTION: {S.EMPTY_IN_STATION, S.SCRAPPED},
        S.SCRAPPED: set(),
    },
    code="illegal_transition",
    message=_("Cylinder %(code)s cannot go from %(from)s to %(to)s."),
    labels=CylinderStatus,
)


class Station(models.Model):
    """A filling station; it fills only the cylinders it owns."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        verbose_name = _("filling station")
        verbose_name_plural = _("filling stations")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Cylinder(models.Model):
    """A cylinder, by a code it keeps for life. A scrapped cylinder stays here with status
    scrapped, so the unique code can never be issued again."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    model = models.CharField(_("model"), max_length=8, choices=CylinderModel.choices)
    tare_kg = DecimalField(_("tare, kg"), **KG)
    rated_fill_kg = DecimalField(_("rated fill, kg"), **KG)
    maker = models.CharField(_("maker"), max_length=120, blank=True)
    manufactured_on = models.DateField(_("manufactured on"))
    standard = models.CharField(
        _("standard"), max_length=16, choices=Standard.choices, default=Standard.GB5842_2006
    )
    last_inspection_on = models.DateField(_("last inspection"), null=True, blank=True)
    next_inspection_on = models.DateField(_("next inspection due"))
    scrap_on = models.DateField(_("scrap date"))
    owner = models.ForeignKey(Station, verbose_name=_("owner station"), on_delete=models.PROTECT)
    status = models.CharField(
        _("status"), max_length=20, choices=CylinderStatus.choices, default=S.EMPTY_IN_STATION
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("at customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cylinders",
    )
    last_fill = models.ForeignKey(
        "Filling", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("cylinder")
        verbose_name_plural = _("cylinders")
        ordering = ["code"]
        permissions = [
            ("fill_cylinder", _("Can fill cylinders and weigh returned ones")),
            ("inspect_cylinder", _("Can send cylinders to inspection and record results")),
        ]
        constraints = [
            models.CheckConstraint(name="cylinder_status_valid", condition=models.Q(status__in=S.values)),
            models.CheckConstraint(
                name="cylinder_rated_fill_positive", condition=models.Q(rated_fill_kg__gt=0)
            ),
            models.CheckConstraint(name="cylinder_tare_positive", condition=models.Q(tare_kg__gt=0)),
        ]
        indexes = [
            models.Index(fields=["status", "next_inspection_on"], name="cylinder_status_due_idx"),
            models.Index(fields=["customer", "status"], name="cylinder_customer_idx"),
        ]

    def __str__(self) -> str:
        return self.code


class EventKind(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    FILLED = "filled", _("Filled")
    OUT = "out", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered to customer")
    BROUGHT_BACK = "brought_back", _("Brought back undelivered")
    RETURNED = "returned", _("Empty returned")
    RESIDUAL = "residual", _("Residual weighed")
    INSPECTION_SENT = "inspection_sent", _("Sent to inspection")
    INSPECTION_PASSED = "inspection_passed", _("Passed inspection")
    INSPECTION_FAILED = "inspection_failed", _("Failed inspection")
    SCRAPPED = "scrapped", _("Scrapped")


class CylinderEvent(models.Model):
    """A cylinder's history, append-only: fills, movements, customers, inspections."""

    cylinder = models.ForeignKey(Cylinder, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("event"), max_length=20, choices=EventKind.choices)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey("LpgOrder", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    mass_kg = DecimalField(_("mass, kg"), null=True, blank=True, **KG)
    note = models.CharField(_("note"), max_length=255, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("cylinder event")
        verbose_name_plural = _("cylinder events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["cylinder", "at"], name="cylevent_cylinder_at_idx")]


class Filling(models.Model):
    cylinder = models.ForeignKey(Cylinder, on_delete=models.PROTECT, related_name="fillings")
    station = models.ForeignKey(Station, on_delete=models.PROTECT)
    gross_kg = DecimalField(_("gross, kg"), **KG)
    tare_kg = DecimalField(_("tare, kg"), **KG)
    net_kg = DecimalField(_("net, kg"), **KG)
    scale_id = models.CharField(_("scale"), max_length=40, blank=True)
    filled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    filled_at = models.DateTimeField(_("filled at"))

    class Meta:
        verbose_name = _("filling")
        verbose_name_plural = _("fillings")
        ordering = ["filled_at", "pk"]
        indexes = [
            models.Index(fields=["cylinder", "filled_at"], name="filling_cylinder_at_idx"),
            # The LPG report reads fills by local day.
            models.Index(fields=["filled_at"], name="filling_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(name="filling_net_positive", condition=models.Q(net_kg__gt=0)),
        ]


class RefusalReason(models.TextChoices):
    """Why a fill was refused: the interlock (whose cylinder, its dates and state) or the scale."""

    SCRAPPED = "cylinder_scrapped", _("Scrapped cylinder")
    NOT_OWNED = "not_owned", _("Another station's cylinder")
    PAST_SCRAP_DATE = "past_scrap_date", _("Past its scrap date")
    INSPECTION_OVERDUE = "inspection_overdue", _("Inspection overdue")
    WRONG_STATUS = "wrong_status", _("Not an empty cylinder in the station")
    OVERFILL = "overfill", _("Above the rated fill")
    GROSS_BELOW_TARE = "gross_below_tare", _("Gross below tare")
    NOTHING_FILLED = "nothing_filled", _("Nothing filled")


class FillRefusal(models.Model):
    """A fill of a known cylinder that the interlock or the scale refused. Append-only, written by
    services.record_filling after the refused attempt (which itself writes nothing), so that
    refusals can be counted by reason, station and filler."""

    cylinder = models.ForeignKey(Cylinder, on_delete=models.PROTECT, related_name="+")
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=24, choices=RefusalReason.choices)
    gross_kg = DecimalField(_("gross, kg"), null=True, blank=True, **KG)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        verbose_name = _("refused fill")
        verbose_name_plural = _("refused fills")
        ordering = ["at", "pk"]


class ResidualWeighing(models.Model):
    """Gas left in a returned cylinder: residual = gross − tare; used = last net fill − residual."""

    cylinder = models.ForeignKey(Cylinder, on_delete=models.PROTECT, related_name="residuals")
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.PROTECT)
    filling = models.ForeignKey(Filling, null=True, blank=True, on_delete=models.PROTECT)
    gross_kg = DecimalField(_("gross, kg"), **KG)
    residual_kg = DecimalField(_("residual, kg"), **KG)
    used_kg = DecimalField(_("used by customer, kg"), null=True, blank=True, **KG)
    scale_id = models.CharField(_("scale"), max_length=40, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(_("at"))


class InspectionResult(models.TextChoices):
    PENDING = "pending", _("At inspection")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed (scrapped)")


class CylinderInspection(models.Model):
    cylinder = models.ForeignKey(Cylinder, on_delete=models.PROTECT, related_name="inspections")
    sent_on = models.DateField(_("sent on"))
    result = models.CharField(
        _("result"), max_length=16, choices=InspectionResult.choices, default=InspectionResult.PENDING
    )
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    next_inspection_on = models.DateField(_("next inspection due"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("cylinder inspection")
        verbose_name_plural = _("cylinder inspections")
        constraints = [
            # At most one open inspection per cylinder.
            models.UniqueConstraint(
                fields=["cylinder"], condition=models.Q(result="pending"), name="cylinder_one_open_inspection"
            )
        ]


class LpgPrice(models.Model):
    """A price version from a date: per model (a fill of that model) or per kg (model blank)."""

    model = models.CharField(_("model"), max_length=8, choices=CylinderModel.choices, blank=True)
    per_kg = models.BooleanField(_("price per kg"), default=False)
    price = DecimalField(_("price"), **PRICE)
    effective_from = models.DateField(_("effective from"))

    class Meta:
        verbose_name = _("LPG price")
        verbose_name_plural = _("LPG prices")
        ordering = ["-effective_from", "model"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "per_kg", "effective_from"], name="lpgprice_unique_version"
            ),
            models.CheckConstraint(name="lpgprice_positive", condition=models.Q(price__gt=0)),
        ]

    def __str__(self) -> str:
        unit = _("per kg") if self.per_kg else _("per fill")
        return f"{self.model or '*'} {self.price} {unit} from {self.effective_from}"


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    ASSIGNED = "assigned", _("Assigned")
    OUT = "out", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


ORDER_TRANSITIONS = Transitions(
    {
        OrderStatus.PLACED: {OrderStatus.ASSIGNED, OrderStatus.CANCELLED},
        OrderStatus.ASSIGNED: {OrderStatus.ASSIGNED, OrderStatus.OUT, OrderStatus.CANCELLED},
        OrderStatus.OUT: {OrderStatus.DELIVERED},
        OrderStatus.DELIVERED: set(),
        OrderStatus.CANCELLED: set(),
    },
    code="illegal_transition",
    message=_("Order #%(id)s is %(from)s and cannot become %(to)s."),
    labels=OrderStatus,
)


class Channel(models.TextChoices):
    PORTAL = "portal", _("Customer portal")
    PHONE = "phone", _("Phone (dispatcher)")


class LpgOrder(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="lpg_orders"
    )
    model = models.CharField(_("model"), max_length=8, choices=CylinderModel.choices)
    quantity = models.PositiveSmallIntegerField(_("cylinders"))
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.PLACED
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("delivery worker"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lpg_deliveries",
    )
    vehicle = models.CharField(_("vehicle"), max_length=20, blank=True)
    amount = DecimalField(_("charged"), null=True, blank=True, **MONEY_FIELD)
    deposit_amount = DecimalField(_("deposits charged"), null=True, blank=True, **MONEY_FIELD)
    empties_returned = models.PositiveSmallIntegerField(_("empties returned"), default=0)
    deposits_taken = models.PositiveSmallIntegerField(_("deposits taken"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("ordered at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("LPG order")
        verbose_name_plural = _("LPG orders")
        ordering = ["-created_at", "-pk"]
        permissions = [("dispatch_lpgorder", _("Can assign and deliver LPG orders"))]
        constraints = [
            models.CheckConstraint(
                name="lpgorder_quantity_range", condition=models.Q(quantity__gte=1, quantity__lte=20)
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="lpgorder_status_idx"),
            # The LPG report reads deliveries by local day.
            models.Index(fields=["delivered_at"], name="lpgorder_delivered_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.quantity}×{self.model}"


class DeliveryLine(models.Model):
    """One cylinder scanned on a delivery: a full one out, or an empty one back."""

    OUT, BACK = "out", "back"
    order = models.ForeignKey(LpgOrder, on_delete=models.PROTECT, related_name="lines")
    cylinder = models.ForeignKey(Cylinder, on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(max_length=4, choices=[(OUT, _("Full out")), (BACK, _("Empty back"))])
    net_kg = DecimalField(_("net, kg"), null=True, blank=True, **KG)
    # An empty back may be weighed on the spot: residual = gross − tare (also on its return event).
    residual_kg = DecimalField(_("residual, kg"), null=True, blank=True, **KG)
    amount = DecimalField(_("amount"), null=True, blank=True, **MONEY_FIELD)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "cylinder", "direction"], name="deliveryline_unique"),
        ]


class CylinderReturn(models.Model):
    """Cylinders a customer gives back for good; the deposits paid for them come back through the
    ledger (a "deposit" entry with a positive amount). One row per request: `idempotency_key` is
    unique, so a repeated submit finds the first return instead of refunding twice."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="cylinder_returns",
    )
    cylinders = models.ManyToManyField(Cylinder, verbose_name=_("cylinders"), related_name="+")
    deposits_refunded = models.PositiveSmallIntegerField(_("deposits refunded"), default=0)
    amount = DecimalField(_("refunded"), default=0, **MONEY_FIELD)
    # No database foreign key: ledger entries are partitioned on PostgreSQL and nothing can
    # reference their id alone (docs/deploy.md, "Partitioned history"); entries are never deleted.
    entry = models.ForeignKey(
        "billing.LedgerEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    idempotency_key = models.CharField(max_length=160, unique=True)
    request_hash = models.CharField(max_length=64)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        verbose_name = _("cylinder return")
        verbose_name_plural = _("cylinder returns")
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(name="cylreturn_amount_not_negative", condition=models.Q(amount__gte=0)),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"
