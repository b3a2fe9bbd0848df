"""VEE rules (each hit and not hit), rollover, replacement, correction, review, estimation."""

import datetime as dt
from decimal import Decimal

import pytest

from gasworks.errors import DomainError, InvalidInput
from gasworks.metering import services
from gasworks.metering.models import AlertKind, Reading, TamperAlert
from gasworks.system.models import AuditEntry, Parameter
from tests.factories import make_customer
from tests.metering.helpers import at, make_meter, monthly

pytestmark = pytest.mark.django_db
NOW = at(400)


def record(meter, value, when, **kw):
    return services.record_reading(meter, Decimal(str(value)), when, now=kw.pop("now", NOW), **kw)


def test_it_accepts_a_plausible_reading_with_consumption():
    meter = make_meter()
    r = record(meter, "120.5", at(30))
    assert (r.status, r.flags, r.consumption) == ("accepted", [], Decimal("20.500"))
    assert r.customer.premises_id == meter.premises_id


def test_it_handles_rollover_of_the_register():
    meter = make_meter(initial_reading=Decimal("99999.999"))
    r = record(meter, "0.120", at(1))
    assert (r.status, r.consumption) == ("accepted", Decimal("0.121"))


def test_it_flags_reverse_and_raises_a_tamper_alert():
    meter = make_meter()
    record(meter, 150, at(30))
    r = record(meter, 140, at(60))
    assert r.status == "flagged" and "reverse" in r.flags and r.consumption == Decimal("-10.000")
    assert TamperAlert.objects.filter(meter=meter, kind=AlertKind.REVERSE_FLOW, reading=r).exists()


def test_it_flags_a_rollover_that_could_not_have_flowed():
    meter = make_meter(initial_reading=Decimal("99990"))
    r = record(meter, 5000, at(0, hours=1))  # a wrap of 5010 m³ in an hour on a 6 m³/h meter
    assert r.flags == ["rollover_implausible"] and r.consumption is None
    ok = make_meter(initial_reading=Decimal("99990"))
    assert record(ok, 3, at(0, hours=5)).flags == []


def test_it_flags_a_spike_against_history_and_not_a_normal_month():
    meter = make_meter()
    readings = monthly(meter)  # about 20 m³ a month
    assert all(r.status == "accepted" for r in readings)
    normal = record(meter, readings[-1].value + 25, at(150))
    assert normal.flags == []
    spike = record(meter, normal.value + 200, at(180))  # ten times the usual month
    assert spike.flags == ["spike"]


def test_it_flags_a_jump_beyond_rated_flow_as_spike_and_alert():
    meter = make_meter()
    record(meter, 110, at(1))
    r = record(meter, 110 + 30, at(1, hours=2))  # 15 m³/h through a 6 m³/h meter
    assert "spike" in r.flags
    assert TamperAlert.objects.filter(meter=meter, kind=AlertKind.IMPLAUSIBLE_JUMP).count() == 1


def test_it_flags_zero_consumption_over_a_long_time_only():
    meter = make_meter()
    record(meter, 110, at(10))
    assert record(meter, 110, at(40)).flags == []
    assert record(meter, 110, at(101)).flags == ["zero_long"]


def test_it_flags_the_same_value_again_within_minutes_as_duplicate():
    meter = make_meter()
    record(meter, 110, at(10))
    assert record(meter, 110, at(10, hours=0.05)).flags == ["duplicate"]
    other = make_meter()
    record(other, 110, at(10))
    assert record(other, 110, at(10, hours=1)).flags == []


def test_it_refuses_the_same_meter_and_time_twice():
    meter = make_meter()
    record(meter, 110, at(10))
    with pytest.raises(DomainError) as err:
        record(meter, 111, at(10))
    assert err.value.code == "duplicate_reading"
    assert Reading.objects.filter(meter=meter).count() == 1


def test_it_flags_out_of_order_and_keeps_the_chain():
    meter = make_meter()
    record(meter, 120, at(20))
    late = record(meter, 110, at(10))
    assert late.flags == ["out_of_order"] and late.consumption is None
    assert record(meter, 130, at(30)).consumption == Decimal("10.000")


def test_it_flags_a_time_a_little_ahead_and_refuses_far_future():
    meter = make_meter(installed_on=NOW.date() - dt.timedelta(days=1))
    ahead = record(meter, 101, NOW + dt.timedelta(hours=2), now=NOW)
    assert ahead.flags == ["future_time"]
    other = make_meter(installed_on=NOW.date() - dt.timedelta(days=1))
    assert record(other, 101, NOW + dt.timedelta(minutes=5), now=NOW).flags == []
    with pytest.raises(InvalidInput):
        record(other, 102, NOW + dt.timedelta(days=3), now=NOW)
    assert Reading.objects.filter(meter=other).count() == 1


def test_it_flags_a_gap_and_the_threshold_is_a_parameter():
    meter = make_meter()
    record(meter, 110, at(10))
    assert record(meter, 130, at(80)).flags == ["gap"]
    Parameter.objects.create(key="vee_gap_days", value="200")  # 140 days since the last billable
    assert record(meter, 150, at(150)).flags == []


def test_it_uses_the_meter_spike_factor_over_the_parameter():
    meter = make_meter()
    readings = monthly(meter)
    meter.spike_factor = Decimal("50")
    meter.save()
    assert record(meter, readings[-1].value + 200, at(150)).flags == []


def test_it_corrects_with_pressure_and_temperature_against_a_hand_computed_value():
    meter = make_meter(kind="industrial", digits=8)
    r = record(meter, 1100, at(10), pressure_kpa="200", temperature_c="10")
    # Vb = 1000 · (200 + 101.325)/101.325 · 293.15/283.15 = 3080.5... (absolute pressure, kelvin)
    expected = Decimal(1000) * Decimal("301.325") / Decimal("101.325") * Decimal("293.15") / Decimal("283.15")
    assert r.corrected_consumption == expected.quantize(Decimal("0.001"))
    assert r.corrected_consumption == Decimal("3078.874")


def test_it_corrects_with_base_conditions_from_parameters_and_a_fixed_factor():
    Parameter.objects.create(key="base_temperature_c", value="0")
    meter = make_meter(kind="industrial", digits=8)
    r = record(meter, 1100, at(10), pressure_kpa="0", temperature_c="20")
    assert r.corrected_consumption == (Decimal(1000) * Decimal("273.15") / Decimal("293.15")).quantize(
        Decimal("0.001")
    )
    fixed = make_meter(correction_factor=Decimal("1.02"))
    assert record(fixed, 200, at(10)).corrected_consumption == Decimal("102.000")


def test_it_adds_both_meters_across_a_replacement():
    customer = make_customer()
    old = make_meter(customer)
    record(old, 150, at(10))
    new = services.replace_meter(old, Decimal("170"), "NEW-1", dt.date(2026, 1, 20), Decimal("5"))
    old.refresh_from_db()
    assert old.status == "removed" and new.premises_id == old.premises_id and new.initial_reading == 5
    record(new, 35, at(40))
    start, end = at(0), at(41)
    # old: 150 → 170 = 20, new: 5 → 35 = 30; plus the first 50 of the old meter.
    assert services.billable_volume(customer, start, end) == Decimal("100.000")
    with pytest.raises(DomainError):
        record(old, 180, at(45))


def test_it_approves_corrects_and_rejects_with_audit():
    meter = make_meter()
    record(meter, 150, at(30))
    flagged = record(meter, 140, at(60))
    services.reject(flagged, note="mistyped")
    assert Reading.objects.get(pk=flagged.pk).status == "rejected"
    again = record(meter, 149, at(61))
    fixed = services.correct(again, Decimal("159"), note="photo shows 159")
    assert (fixed.status, fixed.consumption) == ("approved", Decimal("9.000"))
    assert AuditEntry.objects.filter(action__in=["reject", "correct"], model="metering.Reading").count() == 2
    with pytest.raises(DomainError):
        services.approve(fixed)


def test_it_approving_an_out_of_order_reading_rechains_the_next():
    meter = make_meter()
    record(meter, 120, at(20))
    nxt = record(meter, 140, at(40))
    late = record(meter, 130, at(30))
    services.approve(late)
    assert Reading.objects.get(pk=late.pk).consumption == Decimal("10.000")
    assert Reading.objects.get(pk=nxt.pk).consumption == Decimal("10.000")


def test_it_estimates_from_history_and_trues_up():
    meter = make_meter()
    readings = monthly(meter, volumes=(30, 30, 30))
    estimate = services.estimate_reading(meter, at(120))
    assert estimate.status == "estimated" and estimate.consumption == Decimal("30.000")
    true_up = record(meter, readings[-1].value + 40, at(150))  # real use 40 over two months
    assert true_up.status == "accepted" and true_up.consumption == Decimal("10.000")
    low = make_meter()
    base = monthly(low, volumes=(30, 30, 30))
    services.estimate_reading(low, at(120))
    down = record(low, base[-1].value + 20, at(150))  # the estimate ran ahead: negative true-up
    assert down.status == "accepted" and down.consumption == Decimal("-10.000")


def test_it_refuses_an_estimate_without_history():
    meter = make_meter()
    with pytest.raises(DomainError) as err:
        services.estimate_reading(meter, at(30))
    assert err.value.code == "no_history"


def test_it_refuses_values_beyond_the_register():
    meter = make_meter(digits=5)
    with pytest.raises(InvalidInput):
        record(meter, "100000", at(10))
    assert not Reading.objects.filter(meter=meter).exists()
