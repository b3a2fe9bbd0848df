"""A residential account on the Beijing tariff with October billed and a November reading: the
move-out day is 2026-11-20 (the final reading's month), travelled to with time_machine."""

from datetime import datetime
from decimal import Decimal

import time_machine
from django.utils import timezone

from gasworks.billing import runs
from gasworks.customers.services import CustomerData
from gasworks.service.moveout import services
from tests.billing.helpers import beijing, local, meter_for, read
from tests.factories import make_customer

MOVE_DAY = timezone.make_aware(datetime(2026, 11, 20, 15))
HOLDER = CustomerData(name="新户主", category="", phone="13600000000", address="", household_size=2)


def billed_account(**overrides):
    """October billed (300 m³ in tier 1: 783.00), 50 m³ more read on 10 November (register
    1350); the tariff year so far: 300 m³."""
    beijing()
    customer = make_customer(**overrides)
    meter = meter_for(customer)
    with time_machine.travel(local(2026, 11, 2), tick=False):
        read(customer, 300, local(2026, 10, 20), meter=meter, value=Decimal("1300"))
        runs.bill_chunk(None, customer.pk, customer.pk, period_key="2026-10")
    read(customer, 50, local(2026, 11, 10), meter=meter, value=Decimal("1350"))
    return customer, meter


def order(meter, value="1400", **kw) -> services.MoveOutOrder:
    return services.MoveOutOrder(readings=(services.FinalReading(meter.pk, value=value),), **kw)
