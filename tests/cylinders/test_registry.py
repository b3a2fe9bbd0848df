import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from gasworks.cylinders import rules, services
from gasworks.cylinders.models import Cylinder, CylinderEvent, CylinderStatus, EventKind
from gasworks.errors import DomainError, InvalidInput
from gasworks.system.models import Parameter
from tests.cylinders.helpers import make_cylinder

pytestmark = pytest.mark.django_db
S = CylinderStatus


def test_it_takes_the_rated_fill_from_the_model_parameter():
    assert make_cylinder(model="YSP118", tare="50").rated_fill_kg == Decimal("49.500")
    assert make_cylinder(model="YSP35.5").rated_fill_kg == Decimal("14.500")
    Parameter.objects.create(key="lpg_rated_fill_ysp12", value="5.2")
    assert make_cylinder(model="YSP12", tare="9").rated_fill_kg == Decimal("5.200")


def test_it_computes_the_scrap_date_by_standard():
    made = datetime.date(2020, 2, 29)
    new = make_cylinder(manufactured_on=made)
    old = make_cylinder(manufactured_on=made, standard="GB5842-1996")
    assert new.scrap_on == datetime.date(2032, 2, 29)
    assert new.next_inspection_on == datetime.date(2028, 2, 29)  # end of the 8-year design life
    assert old.scrap_on == datetime.date(2035, 2, 28)  # no 29 February in 2035
    assert old.next_inspection_on == datetime.date(2024, 2, 29)


def test_it_caps_an_old_cylinders_fourth_inspection_at_its_scrap_age():
    # Inspected every 4 years; after the third (at 12) the next falls due at 15 = scrap.
    scrap_on = rules.scrap_date("GB5842-1996", datetime.date(2010, 5, 1))
    assert rules.next_inspection_after(datetime.date(2022, 5, 1), scrap_on) == datetime.date(2025, 5, 1)


def test_it_never_reuses_a_code_even_after_scrapping():
    cylinder = make_cylinder(code="LPG-0001")
    services.scrap(cylinder.code)
    with pytest.raises(DomainError) as info:
        make_cylinder(code="lpg-0001")
    assert info.value.code == "duplicate_code"
    assert Cylinder.objects.filter(code="LPG-0001").count() == 1


@pytest.mark.parametrize("code", ["", "ab", "has space", "x" * 40, "漢字漢字"])
def test_it_refuses_bad_codes(code):
    with pytest.raises(InvalidInput):
        make_cylinder(code=code)
    assert not Cylinder.objects.exists()


def test_it_refuses_a_future_manufacture_date():
    with pytest.raises(InvalidInput):
        make_cylinder(manufactured_on=timezone.localdate() + datetime.timedelta(days=1))
    assert not Cylinder.objects.exists()


# The lifecycle written out here, not read from the table under test (models.TRANSITIONS): a
# wrong entry there must fail this test, not change what it expects.
ALLOWED = {
    ("empty_in_station", "full_in_station"),
    ("empty_in_station", "at_inspection"),
    ("empty_in_station", "scrapped"),
    ("full_in_station", "out_for_delivery"),
    ("full_in_station", "at_inspection"),
    ("full_in_station", "scrapped"),
    ("out_for_delivery", "at_customer"),
    ("out_for_delivery", "full_in_station"),  # could not be delivered: back full
    ("at_customer", "empty_in_station"),
    ("at_inspection", "empty_in_station"),
    ("at_inspection", "scrapped"),
}  # and nothing out of "scrapped"
STATUSES = [
    "empty_in_station",
    "full_in_station",
    "out_for_delivery",
    "at_customer",
    "at_inspection",
    "scrapped",
]


def test_the_lifecycle_names_every_status():
    assert sorted(S.values) == sorted(STATUSES)


@pytest.mark.parametrize(("start", "target"), [(a, b) for a in STATUSES for b in STATUSES])
def test_it_allows_only_the_moves_of_the_lifecycle(start, target):
    cylinder = make_cylinder()
    Cylinder.objects.filter(pk=cylinder.pk).update(status=start)
    cylinder.refresh_from_db()
    events = CylinderEvent.objects.count()
    if (start, target) in ALLOWED:
        services.set_status(cylinder, target, EventKind.OUT)
        cylinder.refresh_from_db()
        assert cylinder.status == target
        assert CylinderEvent.objects.count() == events + 1
    else:
        with pytest.raises(DomainError) as info:
            services.set_status(cylinder, target, EventKind.OUT)
        assert info.value.code == "illegal_transition"
        cylinder.refresh_from_db()
        assert cylinder.status == start
        assert CylinderEvent.objects.count() == events


@time_machine.travel(datetime.datetime(2026, 6, 15, 4, tzinfo=datetime.UTC), tick=False)
def test_it_passes_and_fails_inspections():
    today = timezone.localdate()
    assert today == datetime.date(2026, 6, 15)
    due = make_cylinder(next_inspection_on=today + datetime.timedelta(days=20))
    later = make_cylinder(next_inspection_on=today + datetime.timedelta(days=80))
    make_cylinder(next_inspection_on=today + datetime.timedelta(days=200))
    assert list(services.due_for_inspection(30)) == [due]
    assert list(services.due_for_inspection(90)) == [due, later]
    services.send_to_inspection(due.code)
    assert list(services.due_for_inspection(90)) == [later]
    inspection = services.pass_inspection(due.code)
    due.refresh_from_db()
    assert due.status == S.EMPTY_IN_STATION
    assert due.last_inspection_on == datetime.date(2026, 6, 15)
    assert due.next_inspection_on == datetime.date(2030, 6, 15)  # 4 years on, before the scrap date
    assert inspection.result == "passed"
    services.send_to_inspection(later.code)
    services.fail_inspection(later.code, note="corroded")
    later.refresh_from_db()
    assert later.status == S.SCRAPPED
    with pytest.raises(DomainError):
        services.pass_inspection(later.code)


def test_it_shows_no_personal_data_publicly():
    cylinder = make_cylinder()
    services.record_filling(cylinder.code, "29")
    cylinder.refresh_from_db()
    public = services.public_status(cylinder)
    assert public["net_kg"] == Decimal("14.000")
    assert public["inspection_valid"] is True
    assert "customer" not in public
