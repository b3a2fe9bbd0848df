"""field__any: one parameter for many values, on both backends, past SQLite's variable limit."""

import pytest

from gasworks.customers.models import Customer
from gasworks.lib import db  # noqa: F401 - registers the lookup
from gasworks.metering.models import Meter
from tests.factories import make_customer
from tests.metering.helpers import make_meter

pytestmark = pytest.mark.django_db


def test_it_matches_strings_ids_and_foreign_keys_among_many_values():
    meters = [make_meter() for _ in range(3)]
    wanted = [meters[0].serial_no, meters[2].serial_no, "no-such-meter", "quote ' and , comma"]
    wanted += [f"X{i}" for i in range(40_000)]  # more than SQLite's 32,766 variables
    assert set(Meter.objects.filter(serial_no__any=wanted).values_list("pk", flat=True)) == {
        meters[0].pk,
        meters[2].pk,
    }
    assert list(Meter.objects.filter(pk__any=[meters[1].pk, 10**12])) == [meters[1]]
    odd = Meter.objects.create(
        serial_no='A"b\\c,d {e}', premises=meters[0].premises, installed_on=meters[0].installed_on
    )
    assert list(Meter.objects.filter(serial_no__any=[odd.serial_no, "A"])) == [odd]
    premises = meters[2].premises_id
    assert list(Meter.objects.filter(premises_id__any=[premises])) == [meters[2]]
    assert list(Meter.objects.filter(premises__any=[premises])) == [meters[2]]


def test_an_empty_list_matches_nothing():
    make_customer()
    assert not Customer.objects.filter(pk__any=[]).exists()
