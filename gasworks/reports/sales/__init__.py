"""Gas sales (售气量): the report and its rollup, registered on import (REPORT_MODULES)."""

from gasworks.reports import framework, rollups
from gasworks.reports.sales import report

framework.register(report.SalesReport())
rollups.register(rollups.Rollup(report.NAME, report.touched, report.rebuild, report.all_keys))
