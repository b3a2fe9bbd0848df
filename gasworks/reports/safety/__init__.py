"""The safety report (inspection coverage, hazards, emergencies) and its rollup."""

from gasworks.reports.framework import register
from gasworks.reports.safety import store  # noqa: F401  (registers the rollup)
from gasworks.reports.safety.report import SafetyReport

register(SafetyReport())
