from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Each report is a subpackage, gasworks/reports/<module>/, that registers itself when imported
# (framework.register) and keeps its SQL in its own store.py and its rollup tables in models.py.
REPORT_MODULES: list[str] = [
    "arrears",
    "collections",
    "customer_list",
    "lpg",
    "reading",
    "safety",
    "sales",
    "supply_balance",
]


# Who runs which report ("reports.<codename>", the permissions on ReportAccess). The manager
# and the administrator hold them all; a customer none.
REPORT_PERMISSIONS = (
    "reports.view_sales_report",
    "reports.view_collections_report",
    "reports.view_own_collections",
    "reports.view_arrears_report",
    "reports.view_reading_report",
    "reports.view_supply_balance_report",
    "reports.view_safety_report",
    "reports.view_lpg_report",
)
REPORT_ROLES: dict[str, tuple[str, ...]] = {
    "manager": REPORT_PERMISSIONS,
    "cashier": ("reports.view_own_collections",),  # their own collections only
    "inspector": ("reports.view_safety_report",),
    "dispatcher": ("reports.view_safety_report",),
    "filler": ("reports.view_lpg_report",),
    "meter_reader": ("reports.view_reading_report",),  # their own routes
}


class ReportsConfig(AppConfig):
    name = "gasworks.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self):
        for module in REPORT_MODULES:
            import_module(f"gasworks.reports.{module}")
        from gasworks.accounts.roles import extend
        from gasworks.reports import background  # noqa: F401  (registers its task and parameters)
        from gasworks.web.navigation import Item, register

        for role, perms in REPORT_ROLES.items():
            extend(role, *perms)
        # Shown to a user holding at least one report permission (navigation.Item.any_perm).
        register(Item(_("Reports"), "reports:index", any_perm=REPORT_PERMISSIONS, icon="bar-chart-line"))
