"""The safety report (inspection coverage, hazards, emergencies) and its rollup."""

from gasworks.accounts.roles import extend
from gasworks.reports.framework import register
from gasworks.reports.safety import store  # noqa: F401  (registers the rollup)
from gasworks.reports.safety.report import SafetyReport

# Inspectors and dispatchers see their safety figures.
extend("inspector", "reports.view_safety_report")
extend("dispatcher", "reports.view_safety_report")

register(SafetyReport())
