"""Each domain event is published once, on commit, by the real service where the thing happens
(a recording subscriber listens to every event class of the project)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from gasworks.billing import events as billing_events
from gasworks.cylinders import events as cylinder_events
from gasworks.lib import events
from gasworks.metering import events as metering_events
from gasworks.payments import events as payment_events
from gasworks.safety import events as safety_events
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

EVENT_CLASSES = [
    cls
    for module in (billing_events, cylinder_events, metering_events, payment_events, safety_events)
    for cls in vars(module).values()
    if isinstance(cls, type) and issubclass(cls, events.Event) and cls is not events.Event
]


@pytest.fixture
def heard(django_capture_on_commit_callbacks):
    """Every event delivered during the test, in order; run the service inside ``heard.commit()``."""
    got: list = []
    for cls in EVENT_CLASSES:
        events.subscribe(cls, got.append)

    class Heard(list):
        def of(self, cls):
            return [e for e in got if type(e) is cls]

        def commit(self):
            return django_capture_on_commit_callbacks(execute=True)

    yield Heard()
    for cls in EVENT_CLASSES:
        events.unsubscribe(cls, got.append)


def test_a_counter_payment_and_its_refund(heard, personas):
    from gasworks.payments import services

    customer, cashier = personas["own_customer"], personas["cashier"]
    with heard.commit():
        payment = services.take_counter_payment(customer, "100", "cash", cashier, tendered="100")
    assert heard.of(payment_events.PaymentReceived) == [
        payment_events.PaymentReceived(
            payment.pk, customer.pk, Decimal("100.00"), "cash", "account", payment.paid_at
        )
    ]
    with heard.commit():
        refund = services.request_refund(payment, "30", "overpaid", cashier)
    assert heard.of(payment_events.PaymentRefunded) == [
        payment_events.PaymentRefunded(refund.pk, payment.pk, customer.pk, Decimal("30.00"))
    ]
    assert len(heard.of(payment_events.PaymentReceived)) == 1


def test_a_bank_payment_is_received_once_even_when_imported_twice(heard):
    from gasworks.payments import services

    customer = make_customer()
    with heard.commit():
        services.record_bank_payment(customer, "50", "TXN-1")
        services.record_bank_payment(customer, "50", "TXN-1")
    assert [e.method for e in heard.of(payment_events.PaymentReceived)] == ["bank"]


def test_a_stored_and_a_flagged_reading(heard):
    from gasworks.metering import services
    from tests.metering.helpers import at, make_meter

    meter = make_meter()
    with heard.commit():
        services.record_reading(meter, Decimal("150"), at(30), now=at(400))
    customer_id = meter.premises.customers.get().pk
    assert heard.of(metering_events.ReadingsStored) == [metering_events.ReadingsStored((customer_id,))]
    assert heard.of(metering_events.ReadingsFlagged) == []
    with heard.commit():
        services.record_reading(meter, Decimal("140"), at(60), now=at(400))  # backwards: flagged
    (flagged,) = heard.of(metering_events.ReadingsFlagged)
    assert flagged.readings == (metering_events.FlaggedReading(meter.pk, customer_id, at(60), ("reverse",)),)
    assert len(heard.of(metering_events.ReadingsStored)) == 2


def test_an_import_publishes_one_stored_and_one_flagged_batch(heard):
    from gasworks.metering import bulk
    from tests.metering.helpers import at, make_meter

    meter = make_meter()
    rows = [["serial_no", "value", "taken_at", "reason"]] + [
        [meter.serial_no, value, at(day).strftime("%Y-%m-%d %H:%M"), ""]
        for day, value in ((30, "120"), (60, "141"), (90, "130"))
    ]
    checked, errors = bulk.check_rows(rows, now=at(400))
    assert errors == {}
    with heard.commit():
        bulk.import_rows(checked, now=at(400))
    assert len(heard.of(metering_events.ReadingsStored)) == 1
    (flagged,) = heard.of(metering_events.ReadingsFlagged)
    assert [(r.meter_id, r.taken_at, r.flags) for r in flagged.readings] == [(meter.pk, at(90), ("reverse",))]


def _prepaid(balance):
    from gasworks.billing import ledger
    from gasworks.billing.models import Account
    from tests.billing.helpers import beijing

    beijing()
    customer = make_customer()
    Account.objects.create(customer=customer, prepaid=True, low_balance_alert=Decimal("20"))
    ledger.post(customer, "payment", Decimal(balance))
    return customer


def test_low_balance_once_per_fall_and_the_valve_command(heard, monkeypatch):
    from gasworks.billing import prepaid
    from gasworks.billing.models import ValveCommand
    from tests.billing.helpers import local, meter_for, read

    monkeypatch.setattr(prepaid, "publish", lambda pk: True)  # no broker in this test
    customer = _prepaid("30")
    meter = meter_for(customer, kind="smart")
    with heard.commit():
        prepaid.charge_prepaid_reading(read(customer, 5, local(2026, 10, 3), meter=meter))  # 30 - 13.05
    assert heard.of(billing_events.LowBalance) == [
        billing_events.LowBalance(customer.pk, Decimal("16.95"), Decimal("20.00"))
    ]
    with heard.commit():  # still low: not told again; now exhausted: the valve closes
        prepaid.charge_prepaid_reading(
            read(customer, 10, local(2026, 10, 4), meter=meter, value=Decimal("2000"))
        )
    assert len(heard.of(billing_events.LowBalance)) == 1
    command = ValveCommand.objects.get()
    assert heard.of(billing_events.ValveCommandQueued) == [
        billing_events.ValveCommandQueued(command.pk, meter.pk, "close", command.reason)
    ]


def test_a_billing_run_publishes_one_bills_issued_per_chunk(heard):
    from gasworks.billing import runs
    from gasworks.billing.models import Bill
    from tests.billing.helpers import beijing, local, read

    beijing()
    first, second = make_customer(), make_customer()
    for customer in (first, second):
        read(customer, 0, local(2026, 9, 30))
        read(customer, 20, local(2026, 10, 30))
    with time_machine.travel(local(2026, 11, 1), tick=False), heard.commit():
        runs.execute(runs.start_run("2026-10"))
    (issued,) = heard.of(billing_events.BillsIssued)
    assert issued.period == "2026-10"
    (finished,) = heard.of(billing_events.BillingRunFinished)  # once, when the run is done
    assert finished.period == "2026-10" and finished.run_id == issued.run_id
    assert (
        sorted(issued.bill_ids) == sorted(Bill.objects.values_list("pk", flat=True))
        and len(issued.bill_ids) == 2
    )


def test_an_inspection_booked_and_done_raises_a_hazard(heard, personas):
    from gasworks.safety.services import checklists, inspections
    from tests.safety.conftest import all_pass

    template = checklists.ensure_standard()
    inspector = personas["inspector"]
    customer = make_customer()
    task = inspections.create_task(customer, dt.date(2026, 5, 1), inspector=inspector)
    start = timezone.now() + dt.timedelta(days=1)
    start = start.replace(hour=9, minute=0, second=0, microsecond=0)
    with heard.commit():
        inspections.book_appointment(task, start, start + dt.timedelta(hours=2), by=inspector)
    assert heard.of(safety_events.InspectionBooked) == [
        safety_events.InspectionBooked(task.pk, customer.pk, start, start + dt.timedelta(hours=2))
    ]
    with heard.commit():
        inspections.complete(
            task,
            all_pass(template, hose=("fail", "hose cracked")),
            by=inspector,
            confirmed_by_name="张三",
            customer_confirmed=True,
        )
    (raised,) = heard.of(safety_events.HazardRaised)
    assert (raised.customer_id, raised.level) == (customer.pk, "key")
    assert heard.of(safety_events.InspectionDone) == [
        safety_events.InspectionDone(task.pk, customer.pk, (raised.hazard_id,))
    ]


def test_hazard_deadlines_near_and_closed(heard, personas):
    from gasworks.safety.services import hazards

    inspector = personas["inspector"]
    customer = make_customer()
    today = timezone.localdate()
    hazard = hazards.raise_hazard(
        customer, "key", "flue loose", by=inspector, deadline=today + dt.timedelta(days=3)
    )
    hazards.raise_hazard(customer, "key", "far off", by=inspector, deadline=today + dt.timedelta(days=10))
    with heard.commit():
        assert hazards.warn_deadlines_near(today) == 1
    assert heard.of(safety_events.DeadlineNear) == [
        safety_events.DeadlineNear(hazard.pk, customer.pk, today + dt.timedelta(days=3), 3)
    ]
    hazard = hazards.rectify(hazard, "refitted", by=inspector)
    with heard.commit():
        hazards.close(hazard, "sound", by=inspector)
    assert heard.of(safety_events.DeadlineClosed) == [safety_events.DeadlineClosed(hazard.pk, customer.pk)]


def test_an_emergency_reported_and_dispatched(heard, personas):
    from gasworks.safety.models import Crew
    from gasworks.safety.services import emergencies

    dispatcher = personas["dispatcher"]
    crew = Crew.objects.create(name="抢修一队")
    with heard.commit():
        case = emergencies.report(
            address="北京市朝阳区1号", description="gas smell", priority="high", by=dispatcher
        )
    assert heard.of(safety_events.EmergencyReported) == [
        safety_events.EmergencyReported(case.pk, "high", None)
    ]
    with heard.commit():
        emergencies.dispatch(case, crew, by=dispatcher)
    assert heard.of(safety_events.EmergencyDispatched) == [
        safety_events.EmergencyDispatched(case.pk, crew.pk)
    ]


def test_an_lpg_order_delivered(heard):
    from gasworks.cylinders import orders
    from tests.cylinders.helpers import loaded

    customer = make_customer()
    order, _fulls = loaded(customer, 1)
    with heard.commit():
        orders.deliver(order)
    assert heard.of(cylinder_events.LpgOrderDelivered) == [
        cylinder_events.LpgOrderDelivered(order.pk, customer.pk, Decimal("110.00"))
    ]


def test_a_refused_service_publishes_nothing(heard, personas):
    from gasworks.errors import DomainError
    from gasworks.safety.models import Crew
    from gasworks.safety.services import emergencies

    dispatcher = personas["dispatcher"]
    case = emergencies.report(address="x路1号", description="smell", priority="low", by=dispatcher)
    emergencies.cancel(case, "false alarm", by=dispatcher)
    with heard.commit(), pytest.raises(DomainError):
        emergencies.dispatch(case, Crew.objects.create(name="B"), by=dispatcher)
    assert heard.of(safety_events.EmergencyDispatched) == []
