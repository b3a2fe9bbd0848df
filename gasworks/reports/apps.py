from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Each report is a subpackage, gasworks/reports/<module>/, that registers itself when imported
# (framework.register) and keeps its SQL in its own store.py and its rollup tables in models.py.
REPORT_MODULES: list[str] = []


class ReportsConfig(AppConfig):
    name = "gasworks.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self):
        for module in REPORT_MODULES:
            import_module(f"gasworks.reports.{module}")
        from gasworks.web.navigation import Item, register

        # Every staff role holds at least one report (its own figures); the index lists them.
        register(Item(_("Reports"), "reports:index", icon="bar-chart-line"))
