"""The outbox: messages written with the work that caused them, once per event, customer and
channel, by the customer's preferences and the rules (quiet hours, safety, no phone)."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction

from gasworks.billing import runs
from gasworks.customers.models import Customer
from gasworks.notifications import outbox, preferences
from gasworks.notifications.models import Message
from gasworks.payments import services as payments
from gasworks.safety.services import hazards
from tests.billing.helpers import beijing, local, read
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db


def _bill_two(django_capture_on_commit_callbacks):
    beijing()
    people = [make_customer(), make_customer()]
    for person in people:
        read(person, 12, local(2026, 10, 3))
    with time_machine.travel(local(2026, 11, 1, 10), tick=False):
        run = runs.start_run("2026-10")
        runs.execute(run)
    return people, run


def test_a_billing_run_writes_one_bill_notice_per_customer_and_channel_and_a_rerun_none(
    django_capture_on_commit_callbacks,
):
    people, run = _bill_two(django_capture_on_commit_callbacks)
    notices = Message.objects.filter(event="bill_issued")
    assert sorted(notices.values_list("customer_id", "channel")) == sorted(
        [(p.pk, c) for p in people for c in ("portal", "sms")]
    )
    first = notices.filter(customer=people[0], channel="sms").get()
    assert first.status == "queued" and first.address == people[0].phone
    # The row keeps the bill's id; its figures are looked up when it is worded.
    bill = run.bills.get(customer=people[0])
    assert first.variables == {"bill_id": str(bill.pk)}
    from gasworks.notifications import sender

    worded = sender.values(first)
    assert worded["period"] == "2026-10" and Decimal(worded["amount"]) == bill.total > 0
    assert worded["account_no"] == people[0].account_no and worded["due_on"] == bill.due_on.isoformat()
    assert f"{bill.total}" in sender.wording(first)[1]
    # The same bills told again (a run continued, an event delivered twice): nothing new.
    from gasworks.billing.events import BillsIssued
    from gasworks.notifications import handlers

    handlers.bills_issued(BillsIssued("2026-10", tuple(run.bills.values_list("pk", flat=True)), run.pk))
    assert notices.count() == 4


def test_a_rolled_back_payment_writes_no_message_and_a_committed_one_does():
    cashier = make_user("cashier")
    customer = make_customer()
    with pytest.raises(RuntimeError), transaction.atomic():
        payments.take_counter_payment(customer, "10.00", "cash", cashier)
        raise RuntimeError("the counter's work fails after the payment")
    assert not Message.objects.exists()
    payment = payments.take_counter_payment(customer, "10.00", "cash", cashier)
    message = Message.objects.get(event="payment_received", channel="sms")
    assert message.variables["amount"] == "10.00"
    from gasworks.notifications import sender

    assert payment.receipt_no in sender.wording(message)[1]  # numbered after the notice was queued


def test_no_phone_means_no_sms_but_a_portal_message_and_the_outbox_says_why():
    customer = make_customer()
    Customer.objects.filter(pk=customer.pk).update(phone="")
    outbox.enqueue("low_balance", [("low:1", customer.pk, {"balance": "3.00"})])
    sms = Message.objects.get(channel="sms")
    assert (sms.status, sms.error) == ("suppressed", "no phone number")
    assert Message.objects.get(channel="portal").status == "queued"


def test_an_opted_out_kind_goes_to_the_portal_only_but_safety_messages_always_go_by_sms():
    customer = make_customer()
    preferences.save(customer, sms=False, opt_out=["bill_issued", "hazard_deadline"])
    assert preferences.of(customer).opt_out == ["bill_issued"]  # safety kinds cannot be opted out of
    outbox.enqueue("bill_issued", [("bill:1", customer.pk, {"amount": "1"})])
    assert list(Message.objects.values_list("channel", flat=True)) == ["portal"]
    with time_machine.travel(local(2026, 11, 2), tick=False):
        hazard = hazards.raise_hazard(customer, "major", "hose", by=None)
        hazards.warn_deadlines_near(hazard.deadline - timedelta(days=1), lead_days=(1,))
    told = Message.objects.filter(event="hazard_deadline")
    assert set(told.values_list("channel", flat=True)) == {"portal", "sms"}, hazard.pk


def test_sms_waits_out_the_quiet_hours_except_safety_messages():
    customer = make_customer()
    at = local(2026, 11, 2, 22)
    outbox.enqueue("bill_issued", [("bill:1", customer.pk, {})], at=at)
    outbox.enqueue("emergency_dispatched", [("emergency:1", customer.pk, {})], at=at)
    bill = Message.objects.get(event="bill_issued", channel="sms")
    assert bill.next_try_at == local(2026, 11, 3, 8)
    assert Message.objects.get(event="emergency_dispatched", channel="sms").next_try_at == at
    assert Message.objects.get(event="bill_issued", channel="portal").next_try_at == at
    assert outbox.quiet_until(local(2026, 11, 3, 7)) == local(2026, 11, 3, 8)
    assert outbox.quiet_until(local(2026, 11, 3, 12)) is None
