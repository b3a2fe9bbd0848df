"""The events told last: the inspection reminder the day before, nobody home, a hazard deadline
passed, the valve closed and reopened, and the supply back after an interruption. Each gives
its messages once, however often its periodic run is repeated."""

import datetime
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command

from gasworks.billing.models import ValveCommandKind
from gasworks.billing.prepaid import queue_valve
from gasworks.metering.models import MeterKind
from gasworks.notifications import interruptions
from gasworks.notifications.models import Message
from gasworks.safety.models import Hazard, HazardStatus
from gasworks.safety.services import hazards, inspections
from tests.billing.helpers import local, meter_for
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db


def _told(kind):
    return sorted(Message.objects.filter(event=kind).values_list("customer_id", "channel"))


def test_an_appointment_is_reminded_the_day_before_once():
    inspector = make_user("inspector")
    tomorrow, later = make_customer(), make_customer()
    with time_machine.travel(local(2026, 11, 2, 10), tick=False):
        for customer, day in ((tomorrow, 3), (later, 4)):
            task = inspections.create_task(customer, datetime.date(2026, 11, day), inspector=inspector)
            inspections.book_appointment(task, local(2026, 11, day, 9), local(2026, 11, day, 11), by=None)
        assert inspections.remind_appointments() == 1
        call_command("plan_inspections", date="2026-11-02", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _told("inspection_reminder") == [(tomorrow.pk, "portal"), (tomorrow.pk, "sms")]
    message = Message.objects.get(event="inspection_reminder", channel="sms")
    assert message.variables["starts_at"] == "2026-11-03 09:00" and message.variables["ends_at"] == "11:00"
    with time_machine.travel(local(2026, 11, 3, 10), tick=False):
        inspections.remind_appointments()
    assert _told("inspection_reminder") == sorted(
        [(tomorrow.pk, "portal"), (tomorrow.pk, "sms"), (later.pk, "portal"), (later.pk, "sms")]
    )


def test_nobody_home_leaves_a_card():
    inspector = make_user("inspector")
    customer = make_customer()
    task = inspections.create_task(customer, datetime.date(2026, 11, 2), inspector=inspector)
    inspections.nobody_home(task, "door locked", by=inspector)
    assert _told("nobody_home") == [(customer.pk, "portal"), (customer.pk, "sms")]
    assert (
        Message.objects.filter(event="nobody_home").first().variables["visited_at"].startswith("2026-11-02")
    )


def test_a_passed_hazard_deadline_is_told_once_and_a_closed_hazard_not_at_all():
    customer, fixed = make_customer(), make_customer()
    with time_machine.travel(local(2026, 11, 2, 10), tick=False):
        open_one = hazards.raise_hazard(customer, "major", "hose", by=None)
        closed = hazards.raise_hazard(fixed, "major", "hose", by=None)
        Hazard.objects.filter(pk=closed.pk).update(status=HazardStatus.CLOSED)
    after = open_one.deadline + timedelta(days=1)
    assert hazards.warn_deadlines_passed(open_one.deadline) == 0  # on the day: not yet passed
    assert hazards.warn_deadlines_passed(after) == 1
    hazards.warn_deadlines_passed(after + timedelta(days=1))  # the next day's run: nothing new
    assert _told("hazard_deadline_passed") == [(customer.pk, "portal"), (customer.pk, "sms")]
    assert Message.objects.filter(event="hazard_deadline_passed").first().safety
    assert hazards.warn_deadlines_passed(after + timedelta(days=30)) == 0  # long past: left alone


def test_the_valve_closed_and_reopened_are_both_told():
    customer = make_customer()
    meter = meter_for(customer, kind=MeterKind.SMART)
    queue_valve(meter, ValveCommandKind.CLOSE, "Prepaid balance exhausted")
    queue_valve(meter, ValveCommandKind.OPEN)
    assert _told("valve_closed") == [(customer.pk, "portal"), (customer.pk, "sms")]
    assert _told("valve_opened") == [(customer.pk, "portal"), (customer.pk, "sms")]
    assert (
        Message.objects.filter(event="valve_closed").first().variables["reason"]
        == "Prepaid balance exhausted"
    )


def test_the_supply_back_is_told_once_after_the_end_and_not_for_a_cancelled_one():
    inside = make_customer(district="朝阳", address="北京市朝阳区望京街1号")
    make_customer(district="海淀", address="北京市海淀区中关村大街1号")
    with time_machine.travel(local(2026, 11, 2, 10), tick=False):
        item = interruptions.announce("朝阳", local(2026, 11, 3, 9), local(2026, 11, 3, 15), "换管")
        cancelled = interruptions.announce("朝阳", local(2026, 11, 4, 9), local(2026, 11, 4, 15), "检修")
        interruptions.cancel(cancelled)
    with time_machine.travel(local(2026, 11, 3, 14), tick=False):
        assert interruptions.restored_due() == 0  # still off
    with time_machine.travel(local(2026, 11, 3, 15) + timedelta(minutes=30), tick=False):
        assert interruptions.restored_due() == 1
        assert interruptions.restored_due() == 0
    with time_machine.travel(local(2026, 11, 5, 10), tick=False):
        assert interruptions.restored_due() == 0  # the cancelled one never cut the supply
    assert _told("supply_restored") == [(inside.pk, "portal"), (inside.pk, "sms")]
    message = Message.objects.get(event="supply_restored", channel="sms")
    assert (
        message.safety and message.key == f"supply_restored:interruption:{item.pk}:restored:{inside.pk}:sms"
    )
