"""Calendar helpers shared by the apps: the start of a local day, and plausible dates (what
people and devices type, checked against a window around today).

``9999-12-31`` is a valid date and a wrong one: as a cylinder's next inspection it sidestepped
the filling interlock for ever. Every date field of a form or serializer carries a
``PlausibleDate`` validator (a test walks them all); the window is ``PAST_YEARS`` back and
``FUTURE_YEARS`` ahead unless the field says otherwise (a number, or a callable reading a
parameter), and the message says the window.
"""

import datetime as dt
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _

# Records go back decades (a cylinder made in the 1990s, a meter installed long ago), not centuries.
PAST_YEARS = 100
# Plans, deadlines and due dates reach a few years ahead; ten is generous.
FUTURE_YEARS = 10

Years = int | Callable[[], int]


def shift_years(day: dt.date, years: int) -> dt.date:
    """``day`` moved by whole years (29 February becomes 28 February where needed)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@deconstructible
class PlausibleDate:
    def __init__(self, past_years: Years = PAST_YEARS, future_years: Years = FUTURE_YEARS):
        self.past_years, self.future_years = past_years, future_years

    def window(self, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
        today = today or timezone.localdate()
        past = self.past_years() if callable(self.past_years) else self.past_years
        future = self.future_years() if callable(self.future_years) else self.future_years
        return shift_years(today, -past), shift_years(today, future)

    def __call__(self, value) -> None:
        if value is None:
            return
        if isinstance(value, dt.datetime):
            value = timezone.localdate(value) if timezone.is_aware(value) else value.date()
        first, last = self.window()
        if not first <= value <= last:
            raise ValidationError(
                _("%(day)s is not a plausible date here: give one from %(first)s to %(last)s."),
                code="implausible_date",
                params={"day": value.isoformat(), "first": first.isoformat(), "last": last.isoformat()},
            )

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, PlausibleDate)
            and self.past_years == other.past_years
            and self.future_years == other.future_years
        )


def start_of_day(day: dt.date, tz: dt.tzinfo | None = None) -> dt.datetime:
    """Midnight starting ``day`` in ``tz`` (default: the current time zone; batch paths look it
    up once and pass it). Time zones are zoneinfo, so attaching one is exact."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz or timezone.get_current_timezone())
