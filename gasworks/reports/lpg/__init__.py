"""The LPG report (fills, refusals, deliveries, deposits, cylinders due) and its rollup."""

from gasworks.accounts.roles import extend
from gasworks.reports.framework import register
from gasworks.reports.lpg import store  # noqa: F401  (registers the rollup)
from gasworks.reports.lpg.report import LpgReport

# The filler sees the LPG report.
extend("filler", "reports.view_lpg_report")

register(LpgReport())
