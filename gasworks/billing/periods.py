"""Billing periods: "YYYY-MM", a local calendar month in settings.TIME_ZONE."""

import re
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.errors import InvalidInput

_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
# A well-formed period key (a filter that only narrows a list: no "has it started" check).
PERIOD_KEY = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Period:
    key: str
    start: date
    end: date  # exclusive

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime(self.start.year, self.start.month, 1))  # noqa: DTZ001 - local time, made aware

    @property
    def end_at(self) -> datetime:
        return timezone.make_aware(datetime(self.end.year, self.end.month, 1))  # noqa: DTZ001 - local time, made aware


def parse_period(text, today: date | None = None) -> Period:
    """Parse and check a period; a malformed one or one that has not started is a 400."""
    match = _PATTERN.match(str(text or "").strip())
    month = int(match.group(2)) if match else 0
    if not match or not 1 <= month <= 12 or int(match.group(1)) < 2000:
        raise InvalidInput(
            "unknown_period",
            _("“%(p)s” is not a billing period; write YYYY-MM, e.g. 2026-10.") % {"p": text},
            fields={"period": [_("Write YYYY-MM.")]},
        )
    year = int(match.group(1))
    start = date(year, month, 1)
    today = today or timezone.localdate()
    if start > today:  # checked before the end is computed: 9999-12 ends in no representable year
        raise InvalidInput(
            "period_in_future",
            _("The period %(p)s has not started yet.") % {"p": text},
            fields={"period": [_("Not started yet.")]},
        )
    end = date(year + (month == 12), month % 12 + 1, 1)
    return Period(f"{year:04d}-{month:02d}", start, end)
