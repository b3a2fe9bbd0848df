"""Demo and benchmark data: meters with a year of monthly readings for the demo customers, and
one meter plus a reading for each generated customer."""

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from gasworks.customers.models import Customer
from gasworks.metering import bulk, routes, store
from gasworks.metering.models import Meter, MeterEvent, MeterKind, ReadingRoute

MONTHLY_M3 = {"residential": (8, 40), "commercial": (150, 600), "industrial": (1500, 4000)}
KIND = {"residential": MeterKind.DIAPHRAGM, "commercial": MeterKind.SMART, "industrial": MeterKind.INDUSTRIAL}
# Every SPIKE_EVERY-th demo meter (the first included) gets one spike, SPIKE_MONTHS_BACK months
# ago: after eight normal months, so the meter has a usual rate to compare with.
SPIKE_EVERY, SPIKE_MONTHS_BACK = 25, 4
MAX_FLOW = {"residential": Decimal("6"), "commercial": Decimal("40"), "industrial": Decimal("250")}


def _month_back(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 25)


def seed(stdout) -> None:
    """About 12 monthly readings per demo customer; a spike on every 25th meter lands in the
    review queue (placed, not random, so the demo always has readings to review)."""
    rng = random.Random(3)
    today = timezone.localdate()
    first = _month_back(today, 13)
    customers = list(Customer.objects.filter(premises__meters__isnull=True).order_by("pk")[:400])
    if not customers:
        stdout.write("metering: demo meters already present")
        seed_routes(stdout)
        return
    rows: list[bulk.Row] = []
    with transaction.atomic():
        for index, customer in enumerate(customers):
            category = customer.category
            kind = KIND[category]
            meter = Meter.objects.create(
                serial_no=f"DM{customer.pk:07d}",
                kind=kind,
                premises_id=customer.premises_id,
                installed_on=first,
                initial_reading=Decimal(rng.randint(0, 900)),
                correction_factor=Decimal("1.018") if kind == MeterKind.INDUSTRIAL else None,
                max_flow_m3h=MAX_FLOW[category],
            )
            MeterEvent.objects.create(
                meter=meter, kind=MeterEvent.Kind.INSTALLED, on=first, register_value=meter.initial_reading
            )
            value = meter.initial_reading
            low, high = MONTHLY_M3[category]
            spiky = index % SPIKE_EVERY == 0
            for back in range(12, 0, -1):
                used = Decimal(rng.randint(low * 1000, high * 1000)) / 1000
                if spiky and back == SPIKE_MONTHS_BACK:
                    # Eight times the top of the usual range: above the spike factor (5) times
                    # any usual rate, so VEE flags it and the review queue has work.
                    used = Decimal(high * 8)
                value = (value + used) % Decimal(10**meter.digits)
                day = _month_back(today, back)
                taken = timezone.make_aware(dt.datetime.combine(day, dt.time(10, rng.randint(0, 59))))
                rows.append(bulk.Row(0, meter.serial_no, value, taken, "periodic"))
        result = bulk.import_rows(rows)
    stdout.write(
        f"metering: {len(customers)} meters, {result['imported']} readings ({result['flagged']} flagged)"
    )
    seed_routes(stdout)


def seed_routes(stdout) -> None:
    """A reading route per district, stops in address order, assigned to the demo meter
    reader, so the reader's page has rounds to walk. Skipped once any route exists."""
    if ReadingRoute.objects.exists():
        return
    reader = routes.readers().filter(username="reader").first() or routes.readers().first()
    made = 0
    for district in routes.districts():
        ids = list(routes.installed_meters(district=district).values_list("pk", flat=True))
        routes.create_route(f"{district}抄表册", reader, ids)
        made += 1
    stdout.write(f"metering: {made} reading routes, assigned to {reader or 'nobody'}")


def generate(customer_ids: range, rng, stdout) -> None:
    """Benchmark data: a meter per generated customer and one reading this month (COPY on
    PostgreSQL), so a billing run has a volume for every account."""
    today = timezone.localdate()
    now = timezone.now()
    installed = today.replace(day=1) - dt.timedelta(days=40)
    taken = timezone.make_aware(dt.datetime.combine(today.replace(day=1), dt.time(9)))
    premises = dict(Customer.objects.filter(pk__in=customer_ids).values_list("pk", "premises_id"))
    chunk = 20_000
    ids = sorted(premises)
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        with transaction.atomic():
            Meter.objects.bulk_create(
                [
                    Meter(
                        serial_no=f"GEN{pk:09d}",
                        premises_id=premises[pk],
                        installed_on=installed,
                        initial_reading=0,
                    )
                    for pk in part
                ],
                batch_size=5000,
            )
            meter_of = dict(
                Meter.objects.filter(serial_no__in=[f"GEN{pk:09d}" for pk in part]).values_list(
                    "premises_id", "pk"
                )
            )
            readings: list = []
            for pk in part:
                used = Decimal(rng.randint(5000, 60000)) / 1000
                readings.append(
                    (
                        meter_of[premises[pk]],
                        pk,
                        used,
                        taken,
                        "periodic",
                        "accepted",
                        [],
                        used,
                        None,
                        now,
                        "import",
                        None,
                        "",
                    )
                )
            store.write(readings)
    stdout.write(f"metering: {len(ids)} meters with one reading each")
