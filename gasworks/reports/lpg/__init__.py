"""The LPG report (fills, refusals, deliveries, deposits, cylinders due) and its rollup."""

from gasworks.reports.framework import register
from gasworks.reports.lpg import store  # noqa: F401  (registers the rollup)
from gasworks.reports.lpg.report import LpgReport

register(LpgReport())
