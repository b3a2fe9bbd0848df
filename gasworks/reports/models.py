"""The reports app's own tables: when each rollup was last refreshed, and the permissions to view
each report (held on `ReportAccess`, a table with no rows: Django permissions need a model).
Each report's rollup tables live in its subpackage's models.py, imported at the end of this file
so that Django finds them."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReportAccess(models.Model):
    class Meta:
        managed = True
        default_permissions = ()
        permissions = [
            ("view_sales_report", _("Can view the gas sales report")),
            ("view_collections_report", _("Can view the revenue and collections report")),
            ("view_own_collections", _("Can view their own collections")),
            ("view_arrears_report", _("Can view the arrears report")),
            ("view_reading_report", _("Can view the meter reading report")),
            ("view_supply_balance_report", _("Can view the supply–sales balance report")),
            ("view_safety_report", _("Can view the safety report")),
            ("view_lpg_report", _("Can view the LPG report")),
        ]


class RollupState(models.Model):
    """A refresh began at `refreshed_from`: every row recorded before it (less the margin) is in
    the rollup."""

    name = models.CharField(max_length=40, unique=True)
    refreshed_from = models.DateTimeField(null=True)

    def __str__(self):
        return self.name


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class Export(models.Model):
    """A report's export written in the background (more rows than the user should wait for):
    the file waits in the default storage (exports/) for its owner, who alone may download it, until
    `export_keep_days` have passed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="report_exports",
        verbose_name=_("user"),
    )
    report = models.CharField(_("report"), max_length=40)
    params = models.JSONField(_("filters"), default=dict)  # the query string that gives the params back
    format = models.CharField(_("format"), max_length=4)  # xlsx | csv
    language = models.CharField(max_length=16, default="en")  # the file's header and labels
    status = models.CharField(
        _("status"), max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    file = models.CharField(max_length=255, blank=True)  # the file's name in the default storage
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.TextField(blank=True)
    # The run writing the file (a worker's host, pid and a nonce) and its last sign of life (the
    # claim, then each progress note): a run silent for `export_stall_seconds` is taken over.
    claimed_by = models.CharField(max_length=80, blank=True)
    beat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-created_at"], name="export_user_created_idx"),
            models.Index(fields=["created_at"], name="export_created_idx"),
        ]

    def __str__(self):
        return f"{self.report}.{self.format} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return min(99, self.rows_done * 100 // self.rows_total) if self.rows_total else 0

    @property
    def finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED)


# The reports' own tables (rollups), one import per report subpackage:
from gasworks.reports.arrears.models import ArrearsDay  # noqa: E402, F401
from gasworks.reports.collections.models import BilledDay, CollectionsCashierDay, CollectionsDay  # noqa: E402, F401
from gasworks.reports.lpg.models import *  # noqa: E402,F403
from gasworks.reports.reading.models import *  # noqa: E402, F403
from gasworks.reports.safety.models import *  # noqa: E402,F403
from gasworks.reports.sales.models import SalesRollup  # noqa: E402, F401
