import datetime

import pytest
import time_machine

from gasworks.errors import DomainError, InvalidInput
from gasworks.safety.models import Crew, Emergency, EmergencyStatus
from gasworks.safety.services import emergencies
from gasworks.safety.services.emergencies import percentile

T0 = datetime.datetime(2026, 3, 1, 2, 0, tzinfo=datetime.UTC)


@pytest.fixture
def crew(db):
    return Crew.objects.create(name="抢修一队")


def _report(by=None, **kw):
    data = {"address": "北京市朝阳区1号", "description": "gas smell", "priority": "high", "by": by}
    data.update(kw)
    return emergencies.report(**data)


def test_it_records_each_time_along_the_transitions(personas, crew):
    dispatcher = personas["dispatcher"]
    with time_machine.travel(T0, tick=False):
        case = _report(dispatcher)
    with time_machine.travel(T0 + datetime.timedelta(minutes=5), tick=False):
        case = emergencies.dispatch(case, crew, by=dispatcher)
    with time_machine.travel(T0 + datetime.timedelta(minutes=25), tick=False):
        case = emergencies.arrive(case, by=dispatcher)
    with time_machine.travel(T0 + datetime.timedelta(minutes=60), tick=False):
        case = emergencies.resolve(case, "joint tightened", by=dispatcher)
    assert case.status == EmergencyStatus.RESOLVED and case.crew == crew
    assert (case.reported_at, case.dispatched_at, case.arrived_at, case.resolved_at) == (
        T0,
        T0 + datetime.timedelta(minutes=5),
        T0 + datetime.timedelta(minutes=25),
        T0 + datetime.timedelta(minutes=60),
    )


def test_it_refuses_illegal_moves(personas, crew):
    dispatcher = personas["dispatcher"]
    case = _report(dispatcher)
    for verb in (
        lambda c: emergencies.arrive(c, by=dispatcher),
        lambda c: emergencies.resolve(c, "done", by=dispatcher),
    ):
        with pytest.raises(DomainError) as exc:
            verb(case)
        assert exc.value.code == "invalid_transition"
    with pytest.raises(InvalidInput):
        emergencies.dispatch(case, None, by=dispatcher)
    crew.active = False
    crew.save()
    with pytest.raises(InvalidInput):
        emergencies.dispatch(case, crew, by=dispatcher)
    crew.active = True
    crew.save()
    case = emergencies.dispatch(case, crew, by=dispatcher)
    with pytest.raises(DomainError):
        emergencies.dispatch(case, crew, by=dispatcher)
    case = emergencies.arrive(case, by=dispatcher)
    with pytest.raises(DomainError):
        emergencies.cancel(case, "false alarm", by=dispatcher)
    with pytest.raises(InvalidInput):
        emergencies.resolve(case, "", by=dispatcher)
    case = emergencies.resolve(case, "fixed", by=dispatcher)
    with pytest.raises(DomainError):
        emergencies.arrive(case, by=dispatcher)
    other = emergencies.cancel(_report(dispatcher), "false alarm", by=dispatcher)
    assert other.status == EmergencyStatus.CANCELLED
    with pytest.raises(DomainError):
        emergencies.dispatch(other, crew, by=dispatcher)


def test_it_refuses_an_incomplete_report_and_writes_nothing(personas):
    with pytest.raises(InvalidInput) as exc:
        emergencies.report(address=" ", description="", priority="urgent", by=None)
    assert set(exc.value.fields) == {"address", "description", "priority"}
    assert not Emergency.objects.exists()


def test_it_takes_the_customer_address_when_none_is_given(personas):
    own = personas["own_customer"]
    case = emergencies.report(address="", description="smell", priority="critical", by=None, customer=own)
    assert case.address == own.premises.address and case.contact_phone == own.phone


def test_it_computes_response_figures(personas, crew):
    dispatcher = personas["dispatcher"]
    for minutes in range(1, 11):  # dispatched after 1..10 minutes, arrived 10 minutes later
        with time_machine.travel(T0, tick=False):
            case = _report(dispatcher)
        with time_machine.travel(T0 + datetime.timedelta(minutes=minutes), tick=False):
            case = emergencies.dispatch(case, crew, by=dispatcher)
        with time_machine.travel(T0 + datetime.timedelta(minutes=minutes + 10), tick=False):
            emergencies.arrive(case, by=dispatcher)
    emergencies.cancel(_report(dispatcher), "false alarm", by=dispatcher)  # not counted
    _report(dispatcher)  # still waiting: counts, has no times yet
    figures = emergencies.response_figures()
    assert figures.count == 11
    assert figures.dispatch_mean_min == 5.5 and figures.dispatch_p90_min == 9.0
    assert figures.arrival_mean_min == 15.5 and figures.arrival_p90_min == 19.0


def test_it_takes_the_nearest_rank_percentile():
    assert percentile([], 0.9) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([float(n) for n in range(1, 101)], 0.9) == 90.0
