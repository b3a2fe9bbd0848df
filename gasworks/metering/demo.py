"""Demo and benchmark data: meters with a year of monthly readings for the demo customers, a
supply meter per district whose readings exceed the district's billed gas by a plausible loss
(one district losing more to a tampered meter), and one meter plus a reading for each
generated customer."""

import datetime as dt
import random
from collections import Counter
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from gasworks.customers.models import Customer
from gasworks.customers.models import Status as CustomerStatus
from gasworks.lib.consumption import correction_factor
from gasworks.lib.db import DecimalSum
from gasworks.metering import billable, bulk, routes, services, store, vee
from gasworks.metering.models import (
    AlertKind,
    Meter,
    MeterEvent,
    MeterKind,
    Reading,
    ReadingRoute,
    TamperAlert,
)

MONTHLY_M3 = {"residential": (8, 40), "commercial": (150, 600), "industrial": (1500, 4000)}
KIND = {"residential": MeterKind.DIAPHRAGM, "commercial": MeterKind.SMART, "industrial": MeterKind.INDUSTRIAL}
# Every SPIKE_EVERY-th demo meter (the first included) gets one spike, SPIKE_MONTHS_BACK months
# ago: after eight normal months, so the meter has a usual rate to compare with.
SPIKE_EVERY, SPIKE_MONTHS_BACK = 25, 4
MAX_FLOW = {"residential": Decimal("6"), "commercial": Decimal("40"), "industrial": Decimal("250")}
# The first commercial meter without a spike is tampered with (a magnet) for the last
# TAMPER_MONTHS months: it records TAMPER_SHARE of the gas that goes through it.
TAMPER_MONTHS, TAMPER_SHARE = 3, Decimal("0.06")
TAMPER_DETAIL = "表内检测到强磁干扰"  # "strong magnetic interference detected in the meter"


def _month_back(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 25)


def seed(stdout) -> None:
    """About 12 monthly readings per demo customer; a spike on every 25th meter lands in the
    review queue (placed, not random, so the demo always has readings to review)."""
    rng = random.Random(3)
    today = timezone.localdate()
    first = _month_back(today, 13)
    customers = list(
        Customer.objects.filter(premises__meters__isnull=True).select_related("premises").order_by("pk")[:400]
    )
    if not customers:
        stdout.write("metering: demo meters already present")
        seed_routes(stdout)
        return
    rows: list[bulk.Row] = []
    tampered = _tamper_target(customers)
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
                if customer.pk == tampered and back <= TAMPER_MONTHS:
                    used = (used * TAMPER_SHARE).quantize(Decimal("0.001"))  # the rest passes unseen
                value = (value + used) % Decimal(10**meter.digits)
                day = _month_back(today, back)
                taken = timezone.make_aware(dt.datetime.combine(day, dt.time(10, rng.randint(0, 59))))
                rows.append(bulk.Row(0, meter.serial_no, value, taken, "periodic"))
        result = bulk.import_rows(rows)
        if tampered is not None:
            _raise_tamper_alert(Meter.objects.get(serial_no=f"DM{tampered:07d}"))
    stdout.write(
        f"metering: {len(customers)} meters, {result['imported']} readings ({result['flagged']} flagged)"
    )
    seed_routes(stdout)


def _tamper_target(customers: list) -> int | None:
    """The customer whose meter is tampered with: the first commercial one without a placed
    spike in the district with the most customers (where a shop's gas is a few percent of the
    district's, as a real theft would be)."""
    districts = Counter(c.premises.district for c in customers)
    for district, _count in sorted(districts.items(), key=lambda item: (-item[1], item[0])):
        for index, customer in enumerate(customers):
            commercial = customer.category == "commercial"
            if commercial and customer.premises.district == district and index % SPIKE_EVERY:
                return customer.pk
    return None


def _raise_tamper_alert(meter: Meter) -> None:
    """The device's magnet alarm with the first reading it spoiled, left open for the demo."""
    first = meter.readings.order_by("taken_at")[12 - TAMPER_MONTHS]
    TamperAlert.objects.create(
        meter=meter,
        customer=first.customer,
        reading=first,
        kind=AlertKind.MAGNET,
        detail=TAMPER_DETAIL,
        raised_at=first.taken_at,
    )


def _hidden_use() -> dict[tuple[str, str], Decimal]:
    """(district, month) -> gas that went through the demo's tampered meter unrecorded: its
    usual monthly use (before the alarm) less what it recorded since."""
    alert = TamperAlert.objects.filter(detail=TAMPER_DETAIL).select_related("meter__premises").first()
    if alert is None or alert.meter.premises is None:
        return {}
    district = alert.meter.premises.district
    readings = list(alert.meter.readings.order_by("taken_at"))
    before = [r.consumption or Decimal(0) for r in readings if r.taken_at < alert.raised_at]
    usual = sum(before, Decimal(0)) / len(before) if before else Decimal(0)
    hidden: dict[tuple[str, str], Decimal] = {}
    for r in readings:
        if r.taken_at >= alert.raised_at:
            month = timezone.localtime(r.taken_at).strftime("%Y-%m")
            hidden[(district, month)] = max(usual - (r.consumption or Decimal(0)), Decimal(0))
    return hidden


def seed_supply(stdout) -> None:
    """A supply meter at each district's regulator, read on the customers' reading day with
    pressure and temperature, so that it measures (at base conditions) the district's billable
    use plus a loss of 2–4 %, plus what the tampered meter hides: the supply–sales balance then
    shows a plausible loss everywhere and flags one district. Skipped once any supply meter
    exists, or before the customers' meters have readings."""
    if Meter.objects.filter(kind=MeterKind.DISTRICT).exists():
        return
    if not Reading.objects.exists():
        return
    rng = random.Random(5)
    today = timezone.localdate()
    monthly = (
        Reading.objects.filter(status__in=billable.STATUSES, customer__status=CustomerStatus.ACTIVE)
        .exclude(meter__premises__district="")
        .values_list("meter__premises__district", "taken_at")
        .annotate(volume=DecimalSum(billable.VOLUME))
    )
    use: dict[tuple[str, str], Decimal] = {}
    for district, taken_at, volume in monthly:
        key = (district, timezone.localtime(taken_at).strftime("%Y-%m"))
        use[key] = use.get(key, Decimal(0)) + (volume or 0)
    for key, hidden in _hidden_use().items():
        use[key] = use.get(key, Decimal(0)) + hidden
    atmospheric, base_p, base_t = vee.base_conditions()
    districts = sorted({d for d, _m in use})
    made = readings = 0
    with transaction.atomic():
        for number, district in enumerate(districts, start=1):
            # Installed on the customers' first reading day: the first month only opens the
            # customers' history (it is not billed), so supply starts with the first billed one.
            installed = _month_back(today, 12)
            meter = services.install_meter(
                f"SUP{number:03d}",
                None,
                kind=MeterKind.DISTRICT,
                district=district,
                digits=9,
                initial_reading=Decimal(rng.randint(10_000, 90_000)),
                installed_on=installed,
                max_flow_m3h=Decimal("3000"),
            )
            value = meter.initial_reading
            made += 1
            for back in range(11, 0, -1):
                day = _month_back(today, back)
                sold = use.get((district, day.strftime("%Y-%m")))
                if not sold:
                    continue
                loss = Decimal(rng.randint(200, 400)) / 10_000  # 2–4 % lost on the way
                pressure = Decimal(rng.randint(1900, 2100)) / 10  # about 0.2 MPa at the regulator
                temperature = Decimal(rng.randint(20, 180)) / 10
                factor = correction_factor(pressure, temperature, atmospheric, base_p, base_t)
                measured = (sold * (1 + loss) / factor).quantize(Decimal("0.001"))
                value += measured
                taken = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))
                services.record_reading(meter, value, taken, pressure_kpa=pressure, temperature_c=temperature)
                readings += 1
    stdout.write(f"metering: {made} district supply meters, {readings} supply readings")


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


def generate(customer_ids: range, rng, stdout, months: int = 0) -> None:
    """Benchmark data: a meter per generated customer (COPY on PostgreSQL). Without ``months``,
    one reading this month, so a billing run has a volume for every account; with ``months``, a
    reading near the end of each of the last ``months`` whole months (the register climbing by a
    month's use of the customer's category, more in the heating months), so the billing
    generator can bill each of those months. Chunked by customer id: memory stays flat."""
    today = timezone.localdate()
    now = timezone.now()
    first_month = _month_start(today, months) if months else today.replace(day=1)
    installed = first_month - dt.timedelta(days=40)
    chunk = 20_000
    meters = readings = 0
    for low in range(customer_ids.start, customer_ids.stop, chunk):
        high = min(low + chunk, customer_ids.stop)
        customers = list(
            Customer.objects.filter(pk__gte=low, pk__lt=high)
            .order_by("pk")
            .values_list("pk", "premises_id", "category")
        )
        with transaction.atomic():
            meter_of = store.write_generated_meters(
                [
                    (
                        f"GEN{pk:09d}",
                        premises,
                        {"kind": KIND[category], "max_flow_m3h": MAX_FLOW[category]} if months else {},
                    )
                    for pk, premises, category in customers
                ],
                installed,
            )
            rows = (
                _monthly_rows(customers, meter_of, rng, today, months, now)
                if months
                else _one_reading_rows(customers, meter_of, rng, today, now)
            )
            store.write(rows)
        meters += len(customers)
        readings += len(rows)
    stdout.write(f"metering: {meters} meters, {readings} readings")


def _month_start(day: dt.date, months_back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


# Heating months use more gas: a factor on the month's use (December to February the most).
SEASON = {1: 1.6, 2: 1.5, 3: 1.2, 4: 1.0, 5: 0.8, 6: 0.7, 7: 0.7, 8: 0.7, 9: 0.8, 10: 1.0, 11: 1.2, 12: 1.5}


def _reading(meter, customer, value, taken, used, recorded) -> tuple:
    # metering.store.COLUMNS order: an accepted periodic reading from an import, recorded at
    # `recorded` (created_at).
    head: tuple = (meter, customer, value, taken, "periodic", "accepted", [], used, None)
    return (*head, recorded, "import", None, "")


def _recorded(taken: dt.datetime, rng, now: dt.datetime) -> dt.datetime:
    """When the reader's round was imported: the same evening or the next morning. The report
    rollups find what changed by this recorded time, so a year of history recorded "now" would
    make every day of it look freshly changed (read live) after each generation."""
    return min(taken + dt.timedelta(minutes=rng.randint(30, 20 * 60)), now)


def _one_reading_rows(customers, meter_of, rng, today, now) -> list[tuple]:
    taken = timezone.make_aware(dt.datetime.combine(today.replace(day=1), dt.time(9)))
    rows = []
    for pk, premises, _category in customers:
        used = Decimal(rng.randint(5000, 60000)) / 1000
        rows.append(_reading(meter_of[premises], pk, used, taken, used, _recorded(taken, rng, now)))
    return rows


def _monthly_rows(customers, meter_of, rng, today, months, now) -> list[tuple]:
    """A reading on a day from the 20th to the 28th of each of the last ``months`` whole months
    (the reader's round), the register starting at 0 when the meter was installed."""
    zone = timezone.get_current_timezone()
    days = [_month_start(today, back) for back in range(months, 0, -1)]
    rows = []
    for pk, premises, category in customers:
        meter = meter_of[premises]
        low, high = MONTHLY_M3[category]
        value = Decimal(0)
        for first in days:
            used = (Decimal(rng.randint(low * 1000, high * 1000)) * Decimal(SEASON[first.month])).quantize(
                Decimal(1)
            ) / 1000
            value += used
            taken = dt.datetime.combine(
                first.replace(day=rng.randint(20, 28)), dt.time(rng.randint(8, 17), rng.randint(0, 59)), zone
            )
            rows.append(_reading(meter, pk, value, taken, used, _recorded(taken, rng, now)))
    return rows
