from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "gasworks.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from gasworks.web.navigation import Item, register

        # Every staff role holds at least one report (its own figures); the index lists them.
        register(Item(_("Reports"), "reports:index", icon="bar-chart-line"))
