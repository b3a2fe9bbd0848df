"""The reports app's own tables: when each rollup was last refreshed, and the permissions to view
each report (held on `ReportAccess`, a table with no rows: Django permissions need a model).
Each report's rollup tables live in its subpackage's models.py, imported at the end of this file
so that Django finds them."""

from django.db import models
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


# The reports' own tables (rollups), one import per report subpackage:
from gasworks.reports.collections.models import BilledDay, CollectionsCashierDay, CollectionsDay  # noqa: E402, F401
