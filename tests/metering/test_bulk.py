"""File import below the pages: the same VEE verdicts as one-by-one entry, alerts linked to the
stored readings, and nothing written when a row became a duplicate after the preview."""

import datetime as dt
from decimal import Decimal

import pytest

from gasworks.errors import DomainError
from gasworks.metering import bulk, services
from gasworks.metering.models import AlertKind, Reading, TamperAlert
from tests.metering.helpers import at, make_meter

pytestmark = pytest.mark.django_db
NOW = at(400)
# Values of one meter over a year: normal months, a reverse step, a spike, a long zero run.
SERIES = [(30, "120"), (60, "141"), (90, "160"), (120, "181"), (150, "175"), (180, "200"),
          (210, "420"), (240, "221"), (250, "221"), (345, "221"), (350, "243")]  # fmt: skip


def table(meter, series):
    rows = [["serial_no", "value", "taken_at", "reason"]]
    for day, value in series:
        rows.append([meter.serial_no, value, at(day).strftime("%Y-%m-%d %H:%M"), ""])
    return rows


def test_it_gives_an_import_the_verdicts_of_one_by_one_entry():
    typed, imported = make_meter(), make_meter()
    expected = [services.record_reading(typed, Decimal(v), at(day), now=NOW) for day, v in SERIES]
    rows, errors = bulk.check_rows(table(imported, SERIES), now=NOW)
    assert errors == {}
    result = bulk.import_rows(rows, now=NOW)
    got = list(Reading.objects.filter(meter=imported).order_by("taken_at"))
    assert [(r.status, r.flags, r.consumption) for r in got] == [
        (r.status, r.flags, r.consumption) for r in expected
    ]
    assert [r.flags for r in got if r.flags] == [["reverse"], ["spike"], ["zero_long", "gap"], ["gap"]]
    assert result == {"imported": len(SERIES), "flagged": sum(1 for r in got if r.flags)}
    assert all(r.source == "import" and r.reason == "periodic" for r in got)


def test_it_links_import_alerts_to_their_readings():
    meter = make_meter(initial_reading=Decimal("100"))
    jump = [(10, "110"), (10.1, "150")]  # 40 m³ in 2.4 hours through a 6 m³/h meter
    rows, _errors = bulk.check_rows(table(meter, jump), now=NOW)
    bulk.import_rows(rows, now=NOW)
    alert = TamperAlert.objects.get(meter=meter)
    assert alert.kind == AlertKind.IMPLAUSIBLE_JUMP
    assert alert.reading == Reading.objects.get(meter=meter, taken_at=at(10.1))
    assert alert.customer == services.billing_customer(meter.premises_id)


def test_it_writes_nothing_when_a_row_was_stored_after_the_preview():
    meter = make_meter()
    rows, errors = bulk.check_rows(table(meter, [(10, "110"), (20, "120")]), now=NOW)
    assert not errors
    services.record_reading(meter, Decimal("121"), at(20), now=NOW)  # someone typed it meanwhile
    with pytest.raises(DomainError) as err:
        bulk.import_rows(rows, now=NOW)
    assert err.value.code == "duplicate_reading" and set(err.value.fields) == {"3"}
    assert Reading.objects.filter(meter=meter).count() == 1


def test_it_reports_rows_already_stored_and_bad_times_at_preview():
    meter = make_meter()
    services.record_reading(meter, Decimal("110"), at(10), now=NOW)
    rows, errors = bulk.check_rows(
        [["serial_no", "value", "taken_at"], [meter.serial_no, "111", at(10).strftime("%Y-%m-%d %H:%M")],
         [meter.serial_no, "112", "2026-13-01 10:00"], [meter.serial_no, "113", "2026/01/31 10:00"]],
        now=NOW,
    )  # fmt: skip
    assert set(errors) == {2, 3}
    assert "already has a reading" in errors[2][0] and "not a date" in errors[3][0]
    assert [(r.line, r.taken_at) for r in rows] == [(4, dt.datetime(2026, 1, 31, 10, 0, tzinfo=at(0).tzinfo))]
