"""Billable volume has one definition (gasworks.metering.billable) and three spellings: the
billing run's set-based SQL read (PostgreSQL), its ORM read (any database), metering's ORM
aggregate, and the Python rule. On random histories they must agree to the litre.

A history mixes every reading status (flagged, estimated, approved, rejected, accepted), meter
replacements (readings of two meters at one premises), register rollovers (a value below the
previous one), corrections to base conditions (corrected_consumption set), readings without a
consumption, readings before and after the period, and readings a prepaid meter has already
charged one by one (which the run leaves out)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gasworks.billing import ledger, store
from gasworks.billing.models import PrepaidCharge
from gasworks.billing.periods import parse_period
from gasworks.metering import billable, services
from gasworks.metering.models import Reading, ReadingStatus
from tests.billing.helpers import meter_for
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

PERIOD = parse_period("2026-10")
STATUSES = [str(s) for s in ReadingStatus.values]
volumes = st.decimals(min_value=0, max_value=900, places=3, allow_nan=False, allow_infinity=False)
reading = st.fixed_dictionaries(
    {
        "customer": st.integers(0, 1),
        "meter": st.integers(0, 1),  # 1: the replacement meter at the same premises
        "status": st.sampled_from(STATUSES),
        "volume": st.one_of(st.none(), volumes),  # None: a reading VEE could not measure
        "factor": st.one_of(st.none(), st.sampled_from(["0.955", "1.013", "1.250"])),  # correction
        "day": st.integers(-3, 33),  # before, in and after October
        "charged": st.booleans(),  # a prepaid meter charged it already
    }
)


def _store(history) -> tuple[list, dict]:
    """Write the history as the metering services would have stored it; the customers and a
    list of (customer pk, status, consumption, corrected, taken_at, charged) to check against."""
    customers = [make_customer(), make_customer()]
    meters = {(c, m): meter_for(customers[c]) for c in (0, 1) for m in (0, 1)}
    for meter in meters.values():
        meter.digits = 4  # a short register, so rollovers happen
        meter.save(update_fields=["digits"])
    span = Decimal(10) ** 4
    values = dict.fromkeys(meters, Decimal("9500.000"))
    rows = []
    for n, item in enumerate(history):
        key = (item["customer"], item["meter"])
        customer = customers[item["customer"]]
        consumption = item["volume"]
        if consumption is not None:
            values[key] = (values[key] + consumption) % span  # past 9999.999: a rollover
        corrected = None
        if item["factor"] and consumption is not None:
            corrected = (consumption * Decimal(item["factor"])).quantize(Decimal("0.001"))
        taken_at = PERIOD.start_at + timedelta(days=item["day"], minutes=n)
        stored = Reading.objects.create(
            meter=meters[key],
            customer=customer,
            value=values[key],
            taken_at=taken_at,
            status=item["status"],
            consumption=consumption,
            corrected_consumption=corrected,
        )
        charged = item["charged"] and consumption is not None and billable.is_billable(item["status"])
        if charged:
            entry = ledger.post(customer, "prepaid_charge", Decimal("-1.00"), idempotency_key=f"r{stored.pk}")
            PrepaidCharge.objects.create(
                reading=stored,
                customer=customer,
                volume=billable.volume(consumption, corrected),
                amount=Decimal("1.00"),
                tariff_year=PERIOD.start,
                entry=entry,
                created_at=taken_at,
            )
        rows.append((customer.pk, item["status"], consumption, corrected, taken_at, charged))
    return customers, rows


def _expected(rows, leave_out_charged: bool) -> dict[int, Decimal]:
    """The Python rule, reading by reading."""
    totals: dict[int, Decimal] = {}
    for cid, status, consumption, corrected, taken_at, charged in rows:
        if not billable.is_billable(status) or not PERIOD.start_at <= taken_at < PERIOD.end_at:
            continue
        if charged and leave_out_charged:
            continue
        totals[cid] = totals.get(cid, Decimal(0)) + billable.volume(consumption, corrected)
    return totals


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.lists(reading, max_size=16))
@example(history=[])
@example(  # a rollover, a correction, a flagged spike and a rejected reading of one meter
    history=[
        {"customer": 0, "meter": 0, "status": "accepted", "volume": Decimal("600"), "factor": None,
         "day": 2, "charged": False},
        {"customer": 0, "meter": 0, "status": "accepted", "volume": Decimal("12.5"), "factor": "1.013",
         "day": 9, "charged": False},
        {"customer": 0, "meter": 0, "status": "flagged", "volume": Decimal("900"), "factor": None,
         "day": 10, "charged": False},
        {"customer": 0, "meter": 0, "status": "rejected", "volume": Decimal("3"), "factor": None,
         "day": 11, "charged": False},
        {"customer": 0, "meter": 1, "status": "estimated", "volume": Decimal("4.25"), "factor": None,
         "day": 20, "charged": False},
    ]
)  # fmt: skip
def test_every_path_computes_the_same_billable_volume(history):
    with transaction.atomic():
        customers, rows = _store(history)
        lo, hi = min(c.pk for c in customers), max(c.pk for c in customers)
        to_bill = _expected(rows, leave_out_charged=True)

        # The billing run's chunk read: the SQL statement on PostgreSQL, the ORM read everywhere.
        if connection.vendor == "postgresql":
            sql = {row[0]: row[4] for row in store._read_chunk_sql(PERIOD, lo, hi, force=False)}
            assert sql == to_bill
        orm = {row[0]: row[4] for row in store._read_chunk_orm(PERIOD, lo, hi, force=False)}
        assert orm == to_bill
        assert {row[0]: row[4] for row in store.read_chunk(PERIOD, lo, hi, force=False)} == to_bill

        # Metering's figure counts prepaid-charged readings too (they are billable readings).
        all_billable = _expected(rows, leave_out_charged=False)
        for customer in customers:
            figure = services.billable_volume(customer, PERIOD.start_at, PERIOD.end_at)
            assert figure == all_billable.get(customer.pk, Decimal(0))
        transaction.set_rollback(True)
