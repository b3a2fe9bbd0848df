"""The sender: delivery after commit, retries with backoff, failures kept with the provider's
words, the daily cap, and exactly once across a sender stopped mid-send."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from gasworks.notifications import outbox, preferences, sender
from gasworks.notifications.channels import Outcome
from gasworks.notifications.channels.dev import DevAdapter
from gasworks.notifications.models import Message, Template
from tests.billing.helpers import local
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def _queue(kind="low_balance", ref="low:1", customer=None, variables=None, at=None):
    customer = customer or make_customer()
    outbox.enqueue(kind, [(ref, customer.pk, variables or {"balance": "3.00"})], at=at)
    return customer


def test_due_messages_are_sent_once_in_the_customers_language():
    customer = _queue()
    preferences.save(make_customer(), language="en")
    counts = sender.send_due(now=timezone.now() + timedelta(seconds=1))
    assert counts["sent"] == 2
    sms = Message.objects.get(channel="sms")
    assert sms.status == "sent" and sms.sent_at and "3.00" in sms.text and customer.account_no in sms.text
    assert "余额" in sms.text  # Chinese by default
    assert sender.send_due(now=timezone.now() + timedelta(seconds=2))["sent"] == 0


def test_english_wording_and_an_admins_template(django_user_model):
    customer = make_customer()
    preferences.save(customer, language="en")
    _queue(customer=customer)
    Template.objects.create(
        event="low_balance",
        channel="portal",
        language="en",
        subject="Low",
        body="Only {balance} left, {name}.",
    )
    sender.send_due(now=timezone.now() + timedelta(seconds=1))
    assert Message.objects.get(channel="portal").text == f"Only 3.00 left, {customer.name}."
    assert "balance" in Message.objects.get(channel="sms").text.lower()


def test_a_provider_fault_is_retried_with_backoff_and_a_refusal_is_not(monkeypatch):
    answers = iter([Outcome(sent=False, retry=True, error="HTTP 503"), Outcome(sent=True, ref="x")])
    monkeypatch.setattr(DevAdapter, "send", lambda self, m, s, t: next(answers))
    _queue()
    now = timezone.now() + timedelta(seconds=1)
    sender.send_due(now=now)
    sms = Message.objects.get(channel="sms")
    assert (sms.status, sms.error, sms.next_try_at) == ("queued", "HTTP 503", now + timedelta(minutes=1))
    assert sender.send_due(now=now + timedelta(seconds=30))["sent"] == 0  # not due yet
    sender.send_due(now=now + timedelta(minutes=2))
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == ("sent", 2)
    monkeypatch.setattr(
        DevAdapter, "send", lambda self, m, s, t: Outcome(sent=False, error="isv.MOBILE_NUMBER_ILLEGAL")
    )
    _queue(ref="low:2")
    sender.send_due(now=now + timedelta(minutes=3))
    refused = Message.objects.get(channel="sms", key__startswith="low_balance:low:2")
    assert (refused.status, refused.error, refused.attempts) == ("failed", "isv.MOBILE_NUMBER_ILLEGAL", 1)


def test_after_the_last_try_a_message_fails_keeping_the_providers_words(monkeypatch):
    monkeypatch.setattr(
        DevAdapter, "send", lambda self, m, s, t: Outcome(sent=False, retry=True, error="timeout")
    )
    _queue()
    now = timezone.now()
    for minutes in range(0, 2000, 5):
        sender.send_due(now=now + timedelta(minutes=minutes))
    sms = Message.objects.get(channel="sms")
    assert (sms.status, sms.attempts, sms.error) == ("failed", 5, "timeout")


def test_the_daily_cap_defers_the_rest_to_tomorrow_but_not_safety_messages(settings):
    customer = make_customer()
    with time_machine.travel(local(2026, 11, 2, 10), tick=False):
        for n in range(7):
            outbox.enqueue("low_balance", [(f"low:{n}", customer.pk, {"balance": "1"})])
        outbox.enqueue("emergency_dispatched", [("emergency:1", customer.pk, {"address": "x"})])
        sender.send_due()
    sms = Message.objects.filter(channel="sms")
    assert sms.filter(status="sent", event="low_balance").count() == 5
    waiting = sms.filter(status="queued")
    assert waiting.count() == 2 and {m.next_try_at for m in waiting} == {local(2026, 11, 3, 8)}
    assert sms.get(event="emergency_dispatched").status == "sent"


def test_a_sender_stopped_mid_send_sends_nothing_twice():
    customer = make_customer()
    preferences.save(customer, email=True, email_address="a@example.com")
    _queue(customer=customer)
    now = timezone.now() + timedelta(seconds=1)
    ids = sender.claim(100, now)  # claimed, then the process is killed before any answer is kept
    assert Message.objects.filter(pk__in=ids, status="sending").count() == 3
    later = now + sender.stale_after() + timedelta(minutes=1)
    counts = sender.send_due(now=later)
    assert counts["requeued"] == 2 and counts["failed"] == 1
    email = Message.objects.get(channel="email")
    # Mail has no way to ask whether it went: a person checks before resending.
    assert email.status == "failed" and "mid-send" in email.error and mail.outbox == []
    assert Message.objects.filter(status="sent").count() == 2
    sender.resend(email)
    sender.send_due(now=later + timedelta(minutes=1))
    assert len(mail.outbox) == 1 and Message.objects.get(channel="email").status == "sent"


def test_mail_is_sent_as_html_and_text():
    customer = make_customer()
    preferences.save(customer, email=True, email_address="b@example.com")
    _queue(customer=customer)
    sender.send_due(now=timezone.now() + timedelta(seconds=1))
    (message,) = mail.outbox
    assert message.to == ["b@example.com"] and message.alternatives[0][1] == "text/html"


def test_with_inline_sending_on_a_commit_sends_what_it_queued(settings, django_capture_on_commit_callbacks):
    settings.NOTIFY_SEND_INLINE = True  # the demo; Celery (eager here) when REDIS_URL is set
    with django_capture_on_commit_callbacks(execute=True):
        _queue()
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    settings.NOTIFY_SEND_INLINE = False
    with django_capture_on_commit_callbacks(execute=True):
        _queue(ref="low:2")
    assert Message.objects.filter(status="queued").count() == 2  # left for the sender loop
