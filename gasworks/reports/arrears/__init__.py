"""The arrears report (欠费): aging buckets by category and district, the 12-month trend, top
debtors, late fees charged and collected; its day-end rollup (a past day and the trend read it)."""

from gasworks.reports import framework, rollups
from gasworks.reports.arrears import store
from gasworks.reports.arrears.report import ArrearsReport

framework.register(ArrearsReport())
# A month of days per transaction: a day is one set-based computation of the ledger as it stood.
rollups.register(rollups.Rollup(store.ROLLUP, store.touched, store.rebuild, store.all_keys, chunk=31))
