import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from gasworks.cylinders import services
from gasworks.cylinders.models import Cylinder, CylinderStatus, Station
from gasworks.errors import DomainError, InvalidInput
from tests.cylinders.helpers import counts, make_cylinder

pytestmark = pytest.mark.django_db


def _refused(code, gross, reason):
    before = counts()
    status_before = Cylinder.objects.get(code=code).status
    with pytest.raises(DomainError) as info:
        services.record_filling(code, gross)
    assert info.value.code == reason
    assert counts() == before
    assert Cylinder.objects.get(code=code).status == status_before
    assert Cylinder.objects.get(code=code).last_fill is None or reason == "wrong_status"


def test_it_fills_net_gross_minus_tare():
    cylinder = make_cylinder(tare="15.200")
    filling = services.record_filling(cylinder.code, "29.650", scale_id="SC1")
    assert filling.net_kg == Decimal("14.450")
    cylinder.refresh_from_db()
    assert cylinder.status == CylinderStatus.FULL_IN_STATION
    assert cylinder.last_fill == filling
    assert list(cylinder.events.values_list("kind", flat=True)) == ["registered", "filled"]


def test_it_fills_exactly_the_rated_fill():
    cylinder = make_cylinder(tare="15.000")
    assert services.record_filling(cylinder.code, "29.500").net_kg == Decimal("14.500")


def test_it_refuses_an_overfill():
    cylinder = make_cylinder(tare="15.000")
    _refused(cylinder.code, "29.501", "overfill")


def test_it_refuses_gross_below_tare():
    cylinder = make_cylinder(tare="15.000")
    _refused(cylinder.code, "14.9", "gross_below_tare")


def test_it_refuses_a_scrapped_cylinder():
    cylinder = make_cylinder()
    services.scrap(cylinder.code)
    _refused(cylinder.code, "29", "cylinder_scrapped")


def test_it_refuses_a_cylinder_of_another_station():
    other = Station.objects.create(code="S99", name="Elsewhere")
    cylinder = make_cylinder()
    Cylinder.objects.filter(pk=cylinder.pk).update(owner=other)
    _refused(cylinder.code, "29", "not_owned")


def test_it_refuses_past_the_inspection_date():
    cylinder = make_cylinder(next_inspection_on=timezone.localdate() - datetime.timedelta(days=1))
    _refused(cylinder.code, "29", "inspection_overdue")


def test_it_fills_on_the_inspection_due_date_itself():
    cylinder = make_cylinder(next_inspection_on=timezone.localdate())
    assert services.record_filling(cylinder.code, "29").net_kg == Decimal("14.000")


def test_it_refuses_past_the_scrap_date():
    # A GB 5842-2006 cylinder is scrapped at 8 + 4 = 12 years.
    made = timezone.localdate() - datetime.timedelta(days=365 * 12 + 5)
    cylinder = make_cylinder(
        manufactured_on=made, next_inspection_on=timezone.localdate() + datetime.timedelta(days=30)
    )
    assert cylinder.scrap_on <= timezone.localdate()
    _refused(cylinder.code, "29", "past_scrap_date")


@pytest.mark.parametrize(
    ("today", "refusal"),
    [
        (datetime.date(2032, 2, 28), None),  # the last day before the scrap date
        (datetime.date(2032, 2, 29), "past_scrap_date"),  # the scrap date itself
        (datetime.date(2032, 3, 1), "past_scrap_date"),
    ],
)
def test_the_scrap_date_itself_is_the_first_day_a_cylinder_is_refused(today, refusal):
    # GB 5842-2006, made 29 Feb 2020: scrapped at 8 + 4 = 12 years, on 29 Feb 2032.
    with time_machine.travel(datetime.datetime(2032, 1, 1, 12, tzinfo=datetime.UTC), tick=False):
        cylinder = make_cylinder(
            manufactured_on=datetime.date(2020, 2, 29), next_inspection_on=datetime.date(2032, 6, 1)
        )
    assert cylinder.scrap_on == datetime.date(2032, 2, 29)
    station = Station.objects.get(pk=cylinder.owner_id)
    refused = services.fill_refusal(cylinder, station, today)
    assert (refused and refused.code) == refusal
    with time_machine.travel(
        datetime.datetime.combine(today, datetime.time(12), tzinfo=datetime.UTC), tick=False
    ):
        if refusal:
            _refused(cylinder.code, "29", refusal)
        else:
            assert services.record_filling(cylinder.code, "29").net_kg == Decimal("14.000")


def test_it_refuses_a_cylinder_that_is_already_full():
    cylinder = make_cylinder()
    services.record_filling(cylinder.code, "29")
    _refused(cylinder.code, "29", "wrong_status")


def test_it_refuses_a_cylinder_at_inspection():
    cylinder = make_cylinder()
    services.send_to_inspection(cylinder.code)
    _refused(cylinder.code, "29", "wrong_status")


def test_it_refuses_an_unknown_code():
    with pytest.raises(DomainError) as info:
        services.record_filling("NOPE0001", "29")
    assert info.value.code == "unknown_cylinder"
    assert info.value.status == 404


@pytest.mark.parametrize("gross", ["", "abc", "-1", "0", "1000", "NaN"])
def test_it_refuses_bad_weights_as_invalid_input(gross):
    cylinder = make_cylinder()
    before = counts()
    with pytest.raises(InvalidInput):
        services.record_filling(cylinder.code, gross)
    assert counts() == before


def test_it_weighs_the_residual_of_a_returned_cylinder():
    from gasworks.cylinders.models import EventKind

    cylinder = make_cylinder(tare="15.000")
    services.record_filling(cylinder.code, "29.500")
    cylinder.refresh_from_db()
    # Returned by hand along the table: out, at customer, back empty.
    services.set_status(cylinder, CylinderStatus.OUT_FOR_DELIVERY, EventKind.OUT)
    services.set_status(cylinder, CylinderStatus.AT_CUSTOMER, EventKind.DELIVERED)
    services.set_status(cylinder, CylinderStatus.EMPTY_IN_STATION, EventKind.RETURNED)
    weighing = services.record_residual(cylinder.code, "15.800")
    assert weighing.residual_kg == Decimal("0.800")
    assert weighing.used_kg == Decimal("13.700")
    with pytest.raises(DomainError) as info:
        services.record_residual(cylinder.code, "15.800")
    assert info.value.code == "already_weighed"
