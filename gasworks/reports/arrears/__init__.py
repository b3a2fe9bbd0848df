"""The arrears report (欠费): aging buckets by category and district, the 12-month trend, top
debtors, late fees charged and collected; its month-end rollup."""

from gasworks.reports import framework, rollups
from gasworks.reports.arrears import store
from gasworks.reports.arrears.report import ArrearsReport

framework.register(ArrearsReport())
rollups.register(rollups.Rollup(store.ROLLUP, store.touched, store.rebuild, store.all_keys))
