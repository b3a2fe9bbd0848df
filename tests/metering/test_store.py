"""The set-based store behind the batch paths: the VEE state of many meters in one query, the
existence check, the COPY writer. Runs on SQLite and PostgreSQL, so both code paths are held
to the same expectations."""

import datetime as dt
import sys
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gasworks.lib.consumption import register_span, volume_used
from gasworks.metering import services, store, vee
from gasworks.metering.models import Reading, ReadingStatus
from tests.metering.helpers import at, make_meter

pytestmark = pytest.mark.django_db
NOW = at(400)
D = Decimal


def record(meter, value, when):
    return services.record_reading(meter, D(str(value)), when, now=NOW)


def test_it_builds_the_baseline_from_billable_readings_only():
    meter = make_meter()  # initial 100, installed 2025-12-01
    for day, value in ((10, 110), (20, 125), (30, 135), (40, 150)):
        record(meter, value, at(day))
    flagged = record(meter, 140, at(50))  # reverse: flagged, not billable
    assert flagged.status == ReadingStatus.FLAGGED
    rejected = record(meter, 139, at(55))
    services.reject(Reading.objects.get(pk=flagged.pk))
    base = services.baseline(meter)
    assert (base.value, base.at, base.estimated) == (D("150"), at(40), False)
    assert (base.latest_value, base.latest_at) == (rejected.value, at(55))  # flagged but not rejected
    assert base.last_change_at == at(40) and base.real_value == D("150")
    # Usual rate: the newest 7 billable readings (here 4), volume of all but the oldest over their span.
    assert base.rate_per_hour == D("40") / vee._hours(at(40), at(10))


def test_it_cuts_the_chain_before_a_time_and_keeps_the_newest_reading():
    meter = make_meter()
    for day, value in ((10, 110), (20, 110), (30, 130)):
        record(meter, value, at(day))
    base = services.baseline(meter, before=at(30))
    assert (base.value, base.at) == (D("110"), at(20))
    assert base.last_change_at == at(10)  # the zero-volume reading at day 20 did not move it
    assert base.rate_per_hour is None  # two readings are not a history
    assert base.latest_at == at(30)  # the newest stored reading is not limited by `before`


def test_it_starts_from_the_install_without_readings_and_remembers_the_last_real_value():
    meter = make_meter()
    base = services.baseline(meter)
    assert (base.value, base.real_value, base.latest_at) == (D("100"), D("100"), None)
    assert base.at == base.last_change_at == store.start_of(meter.installed_on)
    for day, value in ((30, 130), (60, 160), (90, 190)):
        record(meter, value, at(day))
    services.estimate_reading(meter, at(120))
    services.estimate_reading(meter, at(150))
    base = services.baseline(meter)
    assert base.estimated and base.value == D("250") and base.real_value == D("190")


def test_it_loads_many_meters_in_one_query():
    meters = [make_meter() for _ in range(5)]
    for meter in meters:
        record(meter, 120, at(10))
    general = vee.Thresholds.current()
    with CaptureQueriesContext(connection) as one:
        store.baselines(meters[:1], general)
    with CaptureQueriesContext(connection) as queries:
        bases = store.baselines(meters, general)
    assert len(queries) == len(one) == (1 if connection.vendor == "postgresql" else 4)
    assert {m.pk: bases[m.pk].value for m in meters} == {m.pk: D("120") for m in meters}
    assert bases == {m.pk: services.baseline(m) for m in meters}


def test_it_finds_stored_times_of_any_status_and_skips_the_lookup_for_new_times():
    meter = make_meter()
    first = record(meter, 150, at(10))
    flagged = record(meter, 140, at(20))
    services.reject(flagged)
    found = store.existing([(meter.pk, at(10)), (meter.pk, at(20)), (meter.pk, at(15))])
    assert found == {(meter.pk, at(10)): first.value, (meter.pk, at(20)): flagged.value}
    with CaptureQueriesContext(connection) as queries:
        assert store.existing([(meter.pk, at(30)), (meter.pk, at(31))]) == {}
    assert len(queries) == 1  # the newest time rules both out


def test_it_writes_rows_with_awkward_text_and_empty_fields():
    meter = make_meter()
    customer_id = services.billing_customer(meter.premises_id).pk
    note = "tab\there, new\nline, back\\slash"
    row = (meter.pk, customer_id, D("101.5"), at(3), "periodic", "flagged", ["spike", "gap"], D("1.500"),
           None, NOW, "import", 7, note)  # fmt: skip
    store.write([row, (meter.pk, customer_id, D("102"), at(4), "periodic", "accepted", [], None, None,
                       NOW, "device", None, "")])  # fmt: skip
    first, second = Reading.objects.filter(meter=meter).order_by("taken_at")
    assert (first.value, first.flags, first.consumption, first.corrected_consumption) == (
        D("101.5"), ["spike", "gap"], D("1.500"), None)  # fmt: skip
    assert (first.note, first.seq, first.status, first.taken_at) == (note, 7, "flagged", at(3))
    assert (second.consumption, second.seq, second.note, second.flags) == (None, None, "", [])


def _rows(meter, customer_id, days):
    return [
        (
            meter.pk,
            customer_id,
            D(100 + day),
            at(day),
            "periodic",
            "accepted",
            [],
            D(1),
            None,
            NOW,
            "import",
            None,
            "",
        )
        for day in days
    ]


def _copy_threads():
    return [t for t in threading.enumerate() if t.name == "reading-copy"]


def test_it_streams_a_batch_of_many_chunks_and_leaves_the_foreign_keys_deferred(monkeypatch):
    monkeypatch.setattr(store.Writer, "CHUNK", 3)
    meter = make_meter()
    customer_id = services.billing_customer(meter.premises_id).pk
    switch = sys.getswitchinterval()
    store.write(_rows(meter, customer_id, range(1, 11)))
    assert sys.getswitchinterval() == switch
    assert list(Reading.objects.filter(meter=meter).values_list("taken_at", flat=True)) == [
        at(day) for day in range(1, 11)
    ]
    assert not _copy_threads()
    if connection.vendor == "postgresql":
        # Checked at commit again, as Django declares them: a dangling id passes the INSERT.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO metering_reading (meter_id, customer_id, value, taken_at, reason, status,"
                " flags, created_at, source, note) VALUES (%s, %s, 1, %s, 'periodic', 'accepted',"
                " '[]', %s, 'import', '')",
                [meter.pk, customer_id + 10**9, at(50), NOW],
            )
            cursor.execute("DELETE FROM metering_reading WHERE taken_at = %s", [at(50)])


def test_a_conflict_in_a_later_chunk_stores_nothing(monkeypatch):
    monkeypatch.setattr(store.Writer, "CHUNK", 3)
    meter = make_meter()
    customer_id = services.billing_customer(meter.premises_id).pk
    rows = _rows(meter, customer_id, [1, 2, 3, 4, 5, 6, 7, 2, 9, 10])  # the 8th repeats day 2
    switch = sys.getswitchinterval()
    with pytest.raises(IntegrityError), transaction.atomic():
        store.write(rows)
    assert sys.getswitchinterval() == switch
    assert not Reading.objects.filter(meter=meter).exists()
    assert not _copy_threads()


def test_an_error_while_producing_rows_abandons_the_chunks_sent(monkeypatch):
    monkeypatch.setattr(store.Writer, "CHUNK", 3)
    meter = make_meter()
    customer_id = services.billing_customer(meter.premises_id).pk
    with pytest.raises(ValueError), transaction.atomic(), store.Writer() as writer:
        for row in _rows(meter, customer_id, range(1, 8)):
            writer.add(row)
        raise ValueError("a bad row")
    assert not Reading.objects.filter(meter=meter).exists()
    assert not _copy_threads()


@settings(max_examples=200, deadline=None)
@given(
    digits=st.integers(3, 8),
    previous=st.integers(0, 10**11),
    current=st.integers(0, 10**11),
    hours=st.integers(0, 24 * 400),
)
def test_it_computes_the_same_volume_as_the_library(digits, previous, current, hours):
    # evaluate() takes the forward case itself; whatever the case, a billable or reverse
    # reading's consumption is volume_used's with the meter's physical limit.
    span = register_span(digits)
    v0, v1 = D(previous).scaleb(-3) % span, D(current).scaleb(-3) % span
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    base = vee.Baseline(value=v0, at=start, real_value=v0, last_change_at=start)
    taken = start + dt.timedelta(hours=hours)
    verdict = vee.evaluate(digits, D(6), base, v1, taken, taken, vee.Thresholds())
    physical = D(6) * max(vee._hours(taken, start), D(1))
    expected = volume_used(v0, v1, digits=digits, max_plausible=min(physical, span / 10))
    if "rollover_implausible" in verdict.flags:
        assert expected.reverse and verdict.consumption is None
    else:
        assert verdict.consumption == expected.volume
        assert verdict.rolled_over == expected.rolled_over


STATUSES = [str(s) for s in ReadingStatus.values]


@pytest.mark.postgres_only  # the window query is PostgreSQL's
@settings(max_examples=60, deadline=None)
@given(
    history=st.lists(
        st.tuples(st.sampled_from(STATUSES), st.sampled_from([None, "0", "0.000", "1.5", "20"])),
        max_size=24,
    )
)
@example(history=[("accepted", "20")] * 3 + [("flagged", "20")] * 12)  # too few billable in the window
@example(history=[("accepted", "20")] * 3 + [("accepted", "0")] * 12)  # the last move is older
@example(history=[("accepted", "20")] * 3 + [("estimated", "20")] * 12)  # the last real one too
@example(history=[("accepted", "20")] * 3 + [("rejected", "20")] * 12)  # and the latest of all
@example(history=[("accepted", "20")] * 3)  # a short history: no second query
@example(history=[("accepted", "1.5")] + [("accepted", None)] * 8)  # the move is past `size`, in the window
@example(history=[("accepted", "20")] + [("estimated", "20")] * 8)  # the real value too
def test_the_window_of_newest_readings_gives_the_same_state_as_the_full_query(history):
    """Any mix of statuses and volumes: long runs of flagged or zero readings push a part out
    of the window, and the meter is read again in full."""
    meter = make_meter()
    customer_id = services.billing_customer(meter.premises_id).pk
    store.write(
        [
            (meter.pk, customer_id, D(100 + day), at(day), "periodic", status, [],
             None if volume is None else D(volume), None, NOW, "import", None, "")
            for day, (status, volume) in enumerate(history, start=1)
        ]
    )  # fmt: skip
    size = 7
    full = store._full_states([meter.pk], size, None)[0]
    fast = store._state_rows([meter.pk], size, None)[0]
    n = full[1]
    assert fast[:4] == full[:4]
    assert list(fast[4]) == list(full[4] or []) and list(fast[5]) == list(full[5] or [])
    assert fast[6:] == full[6:], (n, history)
