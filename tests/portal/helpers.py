"""Portal test data: a household on the Beijing tariff with bills made by real billing runs."""

import datetime as dt
from decimal import Decimal

import time_machine
from django.utils import timezone

from gasworks.billing import ledger, runs
from gasworks.billing.models import EntryKind
from tests.billing.helpers import local, read


def bill_months(customer, volumes: dict[tuple[int, int], int]) -> None:
    """A reading on the 15th of each (year, month) with that volume, then the month's run."""
    for (year, month), volume in sorted(volumes.items()):
        read(customer, volume, local(year, month, 15))
        with time_machine.travel(local(year + (month == 12), month % 12 + 1, 1), tick=False):
            runs.execute(runs.start_run(f"{year}-{month:02d}"))


def pay(customer, amount: str) -> None:
    ledger.post(customer, EntryKind.PAYMENT, Decimal(amount), reference="test payment")


def local_time(y, m, d, h=10, minute=0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(y, m, d, h, minute))
