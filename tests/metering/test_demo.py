"""Demo and benchmark data from metering: the seed's placed spikes and the generate_data hook."""

import io

import pytest
from django.core.management import call_command

from gasworks.customers.management.commands import generate_data, seed_demo
from gasworks.customers.models import Customer
from gasworks.metering import demo
from gasworks.metering.models import Meter, Reading
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_it_seeds_a_year_of_readings_with_spikes_on_fixed_meters():
    assert demo.seed in seed_demo.EXTRA_SEEDERS
    customers = [make_customer() for _ in range(demo.SPIKE_EVERY + 1)]
    out = io.StringIO()
    demo.seed(out)
    assert Meter.objects.count() == len(customers)
    assert Reading.objects.count() == 12 * len(customers)
    spiky = {Meter.objects.get(premises_id=c.premises_id).pk for c in (customers[0], customers[-1])}
    flagged = list(Reading.objects.filter(status="flagged"))
    assert flagged and {r.meter_id for r in flagged} == spiky  # the first and the 26th meter only
    for customer in (customers[0], customers[-1]):
        # The placed spike; the months after it stay flagged (measured from the last billable
        # reading) until someone reviews it, as in real life.
        first = min((r for r in flagged if r.customer_id == customer.pk), key=lambda r: r.taken_at)
        assert first.flags == ["spike"]
        assert first.consumption == 8 * demo.MONTHLY_M3[customer.category][1]
    assert f"({len(flagged)} flagged)" in out.getvalue()
    demo.seed(out)  # again: nothing new
    assert Reading.objects.count() == 12 * len(customers)


def test_it_gives_generated_customers_a_meter_and_a_reading():
    assert demo.generate in generate_data.EXTRA_GENERATORS
    call_command("generate_data", customers=3, no_progress=True, stdout=io.StringIO())
    customers = Customer.objects.all()
    meters = {m.premises_id: m for m in Meter.objects.filter(serial_no__startswith="GEN")}
    assert set(meters) == {c.premises_id for c in customers} and len(meters) == 3
    readings = list(Reading.objects.filter(meter__in=meters.values()))
    assert len(readings) == 3
    assert all(r.status == "accepted" and r.consumption == r.value > 0 for r in readings)
    assert {r.customer_id for r in readings} == {c.pk for c in customers}
