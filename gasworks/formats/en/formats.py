"""Dates as the whole station writes them, in English too: 2026-11-27 and 2026-11-27 14:05
(ISO order, the way Chinese staff and the bills read them; "Nov. 16, 2026" beside "2026-11-27"
on one page was the problem). Numbers keep Django's defaults (no grouping in form inputs);
money goes through gasworks.lib.money."""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "m-d"
YEAR_MONTH_FORMAT = "Y-m"
