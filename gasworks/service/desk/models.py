"""Tables of service.desk (imported by gasworks/service/models.py): service requests (工单), their
history, photos and the field work order a crew carries out. What each kind means (owner,
deadline, portal, work order) is in kinds.py; the status table is here beside its model."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gasworks.lib.status import Transitions

__all__ = [
    "OPEN_STATUSES",
    "REQUEST_TRANSITIONS",
    "RequestEvent",
    "RequestKind",
    "RequestPhoto",
    "RequestSource",
    "RequestStatus",
    "ServiceRequest",
    "WorkOrder",
]

USER = settings.AUTH_USER_MODEL


class RequestKind(models.TextChoices):
    NEW_CONNECTION = "new_connection", _("New connection and first ignition")
    METER_CHANGE = "meter_change", _("Meter change")
    METER_CHECK = "meter_check", _("Meter check")
    REPAIR = "repair", _("Repair")
    COMPLAINT = "complaint", _("Complaint")
    BILL_QUERY = "bill_query", _("Bill query")
    TRANSFER = "transfer", _("Name transfer")
    MOVE_OUT = "move_out", _("Move-out")
    DISCONNECTION = "disconnection", _("Disconnection")
    RECONNECTION = "reconnection", _("Reconnection")


class RequestSource(models.TextChoices):
    PORTAL = "portal", _("Customer portal")
    PHONE = "phone", _("Phone call")
    COUNTER = "counter", _("Counter")
    SYSTEM = "system", _("System")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (RequestStatus.OPEN, RequestStatus.ASSIGNED, RequestStatus.IN_PROGRESS)

# Assigning is only from open: a second assign racing the first meets "already assigned" (409),
# never a silent overwrite; handing over to someone else is its own move (reassign).
REQUEST_TRANSITIONS = Transitions(
    {
        RequestStatus.OPEN: {RequestStatus.ASSIGNED, RequestStatus.CANCELLED},
        RequestStatus.ASSIGNED: {RequestStatus.IN_PROGRESS, RequestStatus.CANCELLED},
        RequestStatus.IN_PROGRESS: {RequestStatus.DONE, RequestStatus.CANCELLED},
        RequestStatus.DONE: set(),
        RequestStatus.CANCELLED: set(),
    },
    code="invalid_transition",
    message=_("A request that is %(from)s cannot become %(to)s."),
    labels=RequestStatus,
)


class ServiceRequest(models.Model):
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="service_requests",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=RequestKind.choices)
    source = models.CharField(_("source"), max_length=10, choices=RequestSource.choices)
    description = models.TextField(_("description"))
    status = models.CharField(
        _("status"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    opened_at = models.DateTimeField(_("opened at"))
    opened_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    due_by = models.DateTimeField(_("due by"))
    assigned_to = models.ForeignKey(
        USER,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_requests",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # What was done (done) or why not (cancelled, refused).
    outcome = models.TextField(_("outcome"), blank=True)
    refused = models.BooleanField(_("refused"), default=False)
    # The one-time token of the page form that opened it: a double submit meets the unique index.
    form_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["-opened_at", "-pk"]
        permissions = [
            ("work_servicerequest", _("Can assign, start, complete and cancel service requests")),
        ]
        indexes = [
            models.Index(fields=["status", "due_by"], name="servicereq_status_due_idx"),
            models.Index(fields=["customer", "-opened_at"], name="servicereq_customer_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="servicereq_kind_valid", condition=Q(kind__in=[k.value for k in RequestKind])
            ),
            models.CheckConstraint(
                name="servicereq_status_valid", condition=Q(status__in=[s.value for s in RequestStatus])
            ),
            # One live disconnection, reconnection, meter job, connection or move per customer:
            # a second would do the same work twice (the ladder opening its order again, say).
            models.UniqueConstraint(
                fields=["customer", "kind"],
                condition=Q(status__in=["open", "assigned", "in_progress"])
                & Q(
                    kind__in=[
                        "new_connection",
                        "meter_change",
                        "transfer",
                        "move_out",
                        "disconnection",
                        "reconnection",
                    ]
                ),
                name="servicereq_one_live_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}"

    @property
    def number(self) -> str:
        return f"GD{timezone.localtime(self.opened_at):%Y%m%d}-{self.pk:05d}"  # the station's day

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


# What each history line's action is called on the pages.
ACTION_LABELS = {
    "opened": _("Request opened"),
    "assigned": _("Assigned"),
    "reassigned": _("Handed over"),
    "scheduled": _("Visit scheduled"),
    "started": _("Work started"),
    "completed": _("Completed"),
    "cancelled": _("Cancelled"),
    "withdrawn": _("Withdrawn by the customer"),
    "refused": _("Refused"),
    "photo": _("Photo added"),
}


class RequestEvent(models.Model):
    """A line of a request's history: every status change, assignment, schedule, photo."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(_("action"), max_length=20)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("request history entry")
        verbose_name_plural = _("request history")
        ordering = ["at", "pk"]

    @property
    def action_label(self) -> str:
        return str(ACTION_LABELS.get(self.action, self.action))


def photo_path(instance, filename: str) -> str:
    return f"service/photos/{instance.uploaded_at:%Y/%m}/{filename}"


class RequestPhoto(models.Model):
    """A photo of the job, already checked and resized (safety's photos.prepare)."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to=photo_path)
    caption = models.CharField(_("caption"), max_length=120, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"))
    uploaded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("request photo")
        verbose_name_plural = _("request photos")
        ordering = ["uploaded_at", "pk"]


class WorkOrder(models.Model):
    """The field job of a request that needs one: which crew goes, when, and what it found."""

    request = models.OneToOneField(ServiceRequest, on_delete=models.CASCADE, related_name="work_order")
    crew = models.ForeignKey(
        "safety.Crew",
        verbose_name=_("crew"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    scheduled_at = models.DateTimeField(_("scheduled at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    result = models.TextField(_("result"), blank=True)

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")

    @property
    def number(self) -> str:
        return f"PG-{self.request_id:06d}"
