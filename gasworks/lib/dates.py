"""Calendar helpers shared by the apps."""

import datetime as dt

from django.utils import timezone


def start_of_day(day: dt.date, tz: dt.tzinfo | None = None) -> dt.datetime:
    """Midnight starting ``day`` in ``tz`` (default: the current time zone; batch paths look it
    up once and pass it). Time zones are zoneinfo, so attaching one is exact."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz or timezone.get_current_timezone())
