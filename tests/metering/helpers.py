import datetime as dt
import itertools
from decimal import Decimal

from django.utils import timezone

from gasworks.metering import services
from tests.factories import make_customer

_serial = itertools.count(1)
T0 = timezone.make_aware(dt.datetime(2026, 1, 1, 10, 0))


def at(days: float = 0, hours: float = 0) -> dt.datetime:
    return T0 + dt.timedelta(days=days, hours=hours)


def make_meter(customer=None, **kw):
    customer = customer or make_customer()
    kw.setdefault("installed_on", dt.date(2025, 12, 1))
    kw.setdefault("initial_reading", Decimal("100"))
    return services.install_meter(f"M{next(_serial):06d}-{id(kw) % 9999}", customer.premises, **kw)


def monthly(meter, start_value="100", volumes=(20, 22, 19, 21), start_day=0, step_days=30):
    """Readings every step_days with the given volumes; returns them."""
    value = Decimal(start_value)
    out = []
    for i, v in enumerate(volumes, start=1):
        value += Decimal(v)
        out.append(services.record_reading(meter, value, at(start_day + i * step_days), now=at(400)))
    return out
