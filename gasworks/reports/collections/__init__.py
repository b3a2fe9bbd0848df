"""Revenue and collections (营收) and the daily collection report (收费日报), with their rollup."""

from gasworks.reports.collections.figures import register_rollup
from gasworks.reports.collections.report import CollectionsReport, DailyCollectionsReport
from gasworks.reports.framework import register

register(CollectionsReport())
register(DailyCollectionsReport())
register_rollup()
