"""Safety: home inspections with versioned checklists, hazards to closure, supply overrides and
emergency dispatch. Every status is a TextChoices with its allowed-transition table beside it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gasworks.lib.status import Transitions

USER = settings.AUTH_USER_MODEL


# ---------------------------------------------------------------- inspections


class InspectorArea(models.Model):
    """Which inspector covers a district: the planner assigns new tasks by the premises' district."""

    district = models.CharField(_("district"), max_length=64, unique=True)
    inspector = models.ForeignKey(
        USER, verbose_name=_("inspector"), on_delete=models.PROTECT, related_name="inspector_areas"
    )

    class Meta:
        verbose_name = _("inspector area")
        verbose_name_plural = _("inspector areas")
        ordering = ["district"]

    def __str__(self) -> str:
        return f"{self.district} → {self.inspector}"


class ChecklistTemplate(models.Model):
    """A versioned checklist. A completed inspection keeps the version it was filled against, so
    editing the checklist makes a new version instead of rewriting history."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    title = models.CharField(_("title"), max_length=120)
    active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Null while the version is a draft (its items may still change); set once it goes into use.
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["active"], condition=Q(active=True), name="checklist_one_active")
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"

    @property
    def is_draft(self) -> bool:
        return not self.active and self.activated_at is None


class HazardLevel(models.TextChoices):
    ORDINARY = "ordinary", _("Ordinary")
    KEY = "key", _("Key")
    MAJOR = "major", _("Major")


class ChecklistItem(models.Model):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="items")
    code = models.SlugField(_("code"), max_length=40)
    label = models.CharField(_("label"), max_length=160)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    # The level a failure of this item raises unless the inspector chooses another.
    hazard_level = models.CharField(
        _("hazard level when failed"),
        max_length=16,
        choices=HazardLevel.choices,
        default=HazardLevel.ORDINARY,
    )

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["template", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["template", "code"], name="checklist_item_code_unique")
        ]

    def __str__(self) -> str:
        return self.label


class TaskStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    NOBODY_HOME = "nobody_home", _("Nobody home")
    CANCELLED = "cancelled", _("Cancelled")


# The safety workflows (tasks, hazards, emergencies) refuse an illegal move in the same words.
CANNOT_MOVE = _("Cannot go from “%(from)s” to “%(to)s”.")
TASK_TRANSITIONS = Transitions(
    {
        TaskStatus.PLANNED: {TaskStatus.ASSIGNED, TaskStatus.CANCELLED},
        TaskStatus.ASSIGNED: {
            TaskStatus.ASSIGNED,  # reassignment to another inspector
            TaskStatus.IN_PROGRESS,
            TaskStatus.COMPLETED,
            TaskStatus.NOBODY_HOME,
            TaskStatus.CANCELLED,
        },
        TaskStatus.IN_PROGRESS: {TaskStatus.COMPLETED, TaskStatus.NOBODY_HOME, TaskStatus.CANCELLED},
        TaskStatus.COMPLETED: set(),
        TaskStatus.NOBODY_HOME: set(),
        TaskStatus.CANCELLED: set(),
    },
    code="invalid_transition",
    message=CANNOT_MOVE,
    labels=TaskStatus,
)
OPEN_TASK_STATUSES = (TaskStatus.PLANNED, TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS)


class TaskKind(models.TextChoices):
    ROUTINE = "routine", _("Routine inspection")
    FOLLOW_UP = "follow_up", _("Follow-up after nobody home")
    REINSPECTION = "reinspection", _("Re-inspection of a hazard")
    REQUESTED = "requested", _("Requested")


class InspectionTask(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="inspections"
    )
    premises = models.ForeignKey(
        "customers.Premises", verbose_name=_("premises"), on_delete=models.PROTECT, related_name="inspections"
    )
    district = models.CharField(_("district"), max_length=64, blank=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=TaskKind.choices, default=TaskKind.ROUTINE)
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.PLANNED
    )
    inspector = models.ForeignKey(
        USER,
        verbose_name=_("inspector"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspection_tasks",
    )
    appointment_at = models.DateTimeField(_("appointment"), null=True, blank=True)
    # The end of the booked visiting window (appointment_at is its start).
    appointment_end = models.DateTimeField(_("appointment until"), null=True, blank=True)
    follow_up_of = models.ForeignKey(
        "self",
        verbose_name=_("follow-up of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    template = models.ForeignKey(
        ChecklistTemplate, verbose_name=_("checklist"), null=True, blank=True, on_delete=models.PROTECT
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    confirmed_by_name = models.CharField(_("confirmed by (customer's name)"), max_length=60, blank=True)
    customer_confirmed = models.BooleanField(_("customer confirmed"), default=False)
    signature = models.CharField(_("signature text"), max_length=120, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inspection task")
        verbose_name_plural = _("inspection tasks")
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["status", "due_on"], name="inspection_status_due_idx"),
            # The safety report reads visits by local day, and its rollup finds changed days by
            # the time a task was planned or finished.
            models.Index(fields=["finished_at"], name="inspection_finished_idx"),
            models.Index(fields=["created_at"], name="inspection_created_idx"),
            # The inspection list in its order (due day, then id), a page at a time, instead of
            # sorting every inspection of ten years (0.96 s at 100,000 customers).
            models.Index(fields=["due_on", "id"], name="inspection_due_idx"),
        ]
        constraints = [
            # At most one open task per customer: the planner may run any number of times.
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status__in=["planned", "assigned", "in_progress"]),
                name="inspection_one_open_per_customer",
            ),
            # No double booking: an inspector is at one open visit per start time (the portal's
            # slots start on a fixed grid, so two bookings of one slot collide here, whatever
            # the race between two customers).
            models.UniqueConstraint(
                fields=["inspector", "appointment_at"],
                condition=Q(status__in=["planned", "assigned", "in_progress"]),
                name="inspection_one_visit_per_inspector_time",
            ),
            models.CheckConstraint(
                name="inspection_status_valid", condition=Q(status__in=[s.value for s in TaskStatus])
            ),
            models.CheckConstraint(
                name="inspection_appointment_window",
                condition=Q(appointment_end__isnull=True)
                | Q(appointment_at__isnull=False, appointment_end__gt=models.F("appointment_at")),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.customer_id} {self.due_on}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_TASK_STATUSES


class ItemResultValue(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    NA = "na", _("Not applicable")


class ItemResult(models.Model):
    task = models.ForeignKey(InspectionTask, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="results")
    result = models.CharField(_("result"), max_length=8, choices=ItemResultValue.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("checklist result")
        verbose_name_plural = _("checklist results")
        ordering = ["item__order", "pk"]
        constraints = [models.UniqueConstraint(fields=["task", "item"], name="item_result_unique")]


# ---------------------------------------------------------------- hazards


class HazardStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RECTIFIED = "rectified", _("Rectified, awaiting re-inspection")
    CLOSED = "closed", _("Closed")


HAZARD_TRANSITIONS = Transitions(
    {
        HazardStatus.OPEN: {HazardStatus.RECTIFIED},
        # A re-inspection either closes the hazard or finds it not fixed and reopens it.
        HazardStatus.RECTIFIED: {HazardStatus.CLOSED, HazardStatus.OPEN},
        HazardStatus.CLOSED: set(),
    },
    code="invalid_transition",
    message=CANNOT_MOVE,
    labels=HazardStatus,
)
# Until it is closed, a hazard counts (rectified still waits for the re-inspection).
UNCLOSED_HAZARD_STATUSES = (HazardStatus.OPEN, HazardStatus.RECTIFIED)


class Hazard(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="hazards"
    )
    task = models.ForeignKey(
        InspectionTask,
        verbose_name=_("found in"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hazards",
    )
    item_result = models.OneToOneField(
        ItemResult, null=True, blank=True, on_delete=models.PROTECT, related_name="hazard"
    )
    level = models.CharField(_("level"), max_length=16, choices=HazardLevel.choices)
    description = models.TextField(_("description"))
    deadline = models.DateField(_("rectification deadline"))
    status = models.CharField(
        _("status"), max_length=16, choices=HazardStatus.choices, default=HazardStatus.OPEN
    )
    raised_at = models.DateTimeField(_("raised at"))
    raised_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rectified_at = models.DateTimeField(_("rectified at"), null=True, blank=True)
    rectified_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rectification_note = models.TextField(_("rectification"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reinspection_note = models.TextField(_("re-inspection"), blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)

    class Meta:
        verbose_name = _("hazard")
        verbose_name_plural = _("hazards")
        ordering = ["-raised_at", "-pk"]
        permissions = [
            ("rectify_hazard", _("Can record a hazard's rectification")),
            ("close_hazard", _("Can re-inspect and close a hazard")),
        ]
        indexes = [
            models.Index(fields=["status", "deadline"], name="hazard_status_deadline_idx"),
            # The safety report counts hazards raised and closed by local day.
            models.Index(fields=["raised_at"], name="hazard_raised_idx"),
            models.Index(fields=["closed_at"], name="hazard_closed_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="hazard_level_valid", condition=Q(level__in=[s.value for s in HazardLevel])
            ),
            models.CheckConstraint(
                name="hazard_status_valid", condition=Q(status__in=[s.value for s in HazardStatus])
            ),
        ]

    def __str__(self) -> str:
        return f"H{self.pk} {self.get_level_display()} {self.customer_id}"

    @property
    def notice_no(self) -> str:
        return f"YH{self.raised_at:%Y%m%d}-{self.pk:05d}"


def photo_path(instance, filename: str) -> str:
    return f"safety/photos/{instance.uploaded_at:%Y/%m}/{filename}"


class PhotoKind(models.TextChoices):
    INSPECTION = "inspection", _("Inspection")
    RECTIFICATION = "rectification", _("Rectification")


class Photo(models.Model):
    """A photo taken on site, already checked and resized by services.photos."""

    task = models.ForeignKey(
        InspectionTask, null=True, blank=True, on_delete=models.CASCADE, related_name="photos"
    )
    hazard = models.ForeignKey(Hazard, null=True, blank=True, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(_("kind"), max_length=16, choices=PhotoKind.choices)
    image = models.ImageField(_("photo"), upload_to=photo_path, width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    caption = models.CharField(_("caption"), max_length=120, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"))
    uploaded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["uploaded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                name="photo_belongs_somewhere", condition=Q(task__isnull=False) | Q(hazard__isnull=False)
            )
        ]


class SupplyOverride(models.Model):
    """An administrator's decision to let supply go on despite an unclosed major hazard. It lasts
    as long as that hazard stays unclosed (a new major hazard blocks again) or until revoked."""

    hazard = models.ForeignKey(Hazard, on_delete=models.PROTECT, related_name="overrides")
    reason = models.CharField(_("reason"), max_length=255)
    granted_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(_("granted at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("supply override")
        verbose_name_plural = _("supply overrides")
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["hazard"], condition=Q(revoked_at__isnull=True), name="supply_override_one_live"
            )
        ]


# ---------------------------------------------------------------- emergencies


class Crew(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    leader = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    active = models.BooleanField(_("on duty"), default=True)

    class Meta:
        verbose_name = _("emergency crew")
        verbose_name_plural = _("emergency crews")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


PRIORITY_RANK = {Priority.CRITICAL: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class EmergencyStatus(models.TextChoices):
    REPORTED = "reported", _("Reported")
    DISPATCHED = "dispatched", _("Dispatched")
    ARRIVED = "arrived", _("Crew on site")
    RESOLVED = "resolved", _("Resolved")
    CANCELLED = "cancelled", _("Cancelled (false alarm)")


EMERGENCY_TRANSITIONS = Transitions(
    {
        EmergencyStatus.REPORTED: {EmergencyStatus.DISPATCHED, EmergencyStatus.CANCELLED},
        EmergencyStatus.DISPATCHED: {EmergencyStatus.ARRIVED, EmergencyStatus.CANCELLED},
        EmergencyStatus.ARRIVED: {EmergencyStatus.RESOLVED},
        EmergencyStatus.RESOLVED: set(),
        EmergencyStatus.CANCELLED: set(),
    },
    code="invalid_transition",
    message=CANNOT_MOVE,
    labels=EmergencyStatus,
)
OPEN_EMERGENCY_STATUSES = (EmergencyStatus.REPORTED, EmergencyStatus.DISPATCHED, EmergencyStatus.ARRIVED)


class Emergency(models.Model):
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="emergencies",
    )
    address = models.CharField(_("address"), max_length=255)
    description = models.TextField(_("description"))
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices, default=Priority.HIGH)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=EmergencyStatus.choices, default=EmergencyStatus.REPORTED
    )
    crew = models.ForeignKey(Crew, verbose_name=_("crew"), null=True, blank=True, on_delete=models.PROTECT)
    reported_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    dispatched_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reported_at = models.DateTimeField(_("reported at"))
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    # The one-time token of the page form that sent it: a double submit meets the unique index.
    form_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        verbose_name = _("emergency")
        verbose_name_plural = _("emergencies")
        ordering = ["-reported_at", "-pk"]
        permissions = [("dispatch_emergency", _("Can dispatch crews and record arrival and resolution"))]
        indexes = [
            models.Index(fields=["status", "reported_at"], name="emergency_status_idx"),
            # The safety report reads emergencies by the day they were reported, any status.
            models.Index(fields=["reported_at"], name="emergency_reported_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="emergency_priority_valid", condition=Q(priority__in=[s.value for s in Priority])
            ),
            models.CheckConstraint(
                name="emergency_status_valid", condition=Q(status__in=[s.value for s in EmergencyStatus])
            ),
        ]

    def __str__(self) -> str:
        return f"E{self.pk} {self.get_priority_display()} {self.address[:30]}"
