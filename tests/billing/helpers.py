"""Billing test data: tariffs through the service, meters and readings straight through the ORM
(the metering services are built in parallel)."""

import itertools
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

from gasworks.billing.tariffs import create_tariff
from gasworks.metering.models import Meter, Reading

_serial = itertools.count(1)
BEIJING_COOKING = [
    {"up_to": "350", "price": "2.61"},
    {"up_to": "500", "price": "2.83"},
    {"up_to": None, "price": "4.23"},
]


def beijing(effective_from=date(2024, 1, 1), **kw):
    return create_tariff("北京居民", "residential", effective_from, BEIJING_COOKING, **kw)


def flat(category="commercial", price="2.63", **kw):
    return create_tariff(
        "非居民",
        category,
        kw.pop("effective_from", date(2024, 1, 1)),
        [{"up_to": None, "price": price}],
        **kw,
    )


def meter_for(customer, kind="diaphragm"):
    return Meter.objects.create(
        premises=customer.premises,
        serial_no=f"M{next(_serial):07d}",
        installed_on=date(2024, 1, 1),
        kind=kind,
    )


def local(y, m, d, h=12):
    return timezone.make_aware(datetime(y, m, d, h))


def read(customer, volume, at, meter=None, status="accepted", value=None):
    meter = meter or Meter.objects.filter(premises=customer.premises).first() or meter_for(customer)
    volume = Decimal(str(volume))
    return Reading.objects.create(
        meter=meter,
        customer=customer,
        value=value if value is not None else volume + 1000,
        taken_at=at,
        status=status,
        consumption=volume,
    )
