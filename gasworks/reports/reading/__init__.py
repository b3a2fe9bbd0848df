"""The meter reading report (抄表) and its rollups: readings per local day, meters installed and
removed per day, and each meter's last real reading."""

from gasworks.reports import framework, rollups
from gasworks.reports.reading import store
from gasworks.reports.reading.report import ReadingReport

framework.register(ReadingReport())
rollups.register(
    rollups.Rollup(
        "reading_day",
        touched=store.touched_reading_days,
        rebuild=store.rebuild_reading_days,
        all_keys=store.all_reading_days,
    )
)
rollups.register(
    rollups.Rollup(
        "reading_meter_day",
        touched=store.touched_meter_days,
        rebuild=store.rebuild_meter_days,
        all_keys=store.all_meter_days,
    )
)
rollups.register(
    rollups.Rollup(
        "reading_last",
        touched=store.touched_meters,
        rebuild=store.rebuild_last_reads,
        all_keys=store.all_meter_ids,
        chunk=5000,
        rebuild_all=store.rebuild_all_last_reads,
    )
)
