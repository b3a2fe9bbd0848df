"""The supply–sales balance report (供销差) and its suspect meters (drill-down)."""

from gasworks.reports.supply_balance import report  # noqa: F401 - registers the report
