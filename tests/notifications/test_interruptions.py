"""Planned supply interruptions: every active customer of the area told once per channel, again
before the start, and when changed or cancelled; customers elsewhere hear nothing."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from gasworks.customers import services as customer_services
from gasworks.errors import InvalidInput
from gasworks.notifications import interruptions
from gasworks.notifications.models import Message, SupplyInterruption
from tests.billing.helpers import local
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def street():
    inside = [make_customer(district="朝阳", address=f"北京市朝阳区望京街{n}号") for n in range(3)]
    other_street = make_customer(district="朝阳", address="北京市朝阳区酒仙桥路1号")
    elsewhere = make_customer(district="海淀", address="北京市海淀区中关村大街1号")
    closed = make_customer(district="朝阳", address="北京市朝阳区望京街9号")
    customer_services.change_status(closed, "closed", "moved out")
    return inside, other_street, elsewhere, closed


def _told(kind="supply_interruption"):
    return set(Message.objects.filter(event=kind).values_list("customer_id", "channel"))


def test_the_area_is_told_once_per_channel_and_nobody_else(street):
    inside, _other_street, _elsewhere, _closed = street
    start = timezone.now() + timedelta(days=3)
    item = interruptions.announce("朝阳", start, start + timedelta(hours=6), "换管", streets=["望京街"])
    assert item.customers_told == 3
    assert _told() == {(c.pk, ch) for c in inside for ch in ("portal", "sms")}
    again = SupplyInterruption.objects.get(pk=item.pk)
    interruptions._tell(again, "supply_interruption", f"interruption:{item.pk}:v1")  # told twice: no new rows
    assert Message.objects.filter(event="supply_interruption").count() == 6
    whole = interruptions.announce("朝阳", start, start + timedelta(hours=2), "检修")
    assert whole.customers_told == 4  # the whole district's active customers


def test_a_reminder_before_the_start_a_change_and_a_cancellation_are_told(street):
    inside, *_ = street
    with time_machine.travel(local(2026, 11, 2, 10), tick=False):
        item = interruptions.announce(
            "朝阳", local(2026, 11, 5, 9), local(2026, 11, 5, 15), "换管", streets=["望京街"]
        )
    with time_machine.travel(local(2026, 11, 3, 10), tick=False):
        assert interruptions.remind_due() == 0  # two days ahead: not yet
    with time_machine.travel(local(2026, 11, 4, 10), tick=False):
        assert interruptions.remind_due() == 1
        assert interruptions.remind_due() == 0  # once
    reminders = Message.objects.filter(key__contains=":reminder:")
    assert reminders.count() == 6
    with time_machine.travel(local(2026, 11, 4, 12), tick=False):
        interruptions.change(item, local(2026, 11, 6, 9), local(2026, 11, 6, 12), "换管延期")
        interruptions.cancel(item)
        interruptions.cancel(item)  # twice: told once
    assert len(_told("supply_interruption_changed")) == 6 and len(_told("supply_interruption_cancelled")) == 6
    assert Message.objects.get(event="supply_interruption_changed", customer=inside[0], channel="sms").safety


def test_bad_announcements_are_refused_and_write_nothing(street):
    start = timezone.now() + timedelta(days=1)
    for args in (
        ("火星", start, start + timedelta(hours=1), "x"),
        ("朝阳", start, start - timedelta(hours=1), "x"),
        ("朝阳", timezone.now() - timedelta(hours=1), start, "x"),
        ("朝阳", start, start + timedelta(days=30), "x"),
        ("朝阳", start, start + timedelta(hours=1), "  "),
    ):
        with pytest.raises(InvalidInput):
            interruptions.announce(*args)
    assert not SupplyInterruption.objects.exists() and not Message.objects.exists()


def test_the_api_announces_once_per_key_and_cancels(client, street):
    client.force_login(make_user("dispatcher"))
    start = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    body = {
        "district": "朝阳",
        "streets": ["望京街"],
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=4)).isoformat(),
        "reason": "换管",
    }
    first = client.post(
        "/api/v1/supply-interruptions/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert first.status_code == 201 and first.json()["customers"] == 3
    replay = client.post(
        "/api/v1/supply-interruptions/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert replay.json() == first.json() and SupplyInterruption.objects.count() == 1
    assert (
        client.post("/api/v1/supply-interruptions/", body, content_type="application/json").status_code == 400
    )
    bad = client.post(
        "/api/v1/supply-interruptions/",
        {**body, "district": "火星"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k2",
    )
    assert bad.status_code == 400 and SupplyInterruption.objects.count() == 1
    assert client.get("/api/v1/supply-interruptions/").json()["results"][0]["status"] == "announced"
    pk = first.json()["id"]
    assert client.post(f"/api/v1/supply-interruptions/{pk}/cancel/").json()["status"] == "cancelled"
    client.force_login(make_user("cashier"))
    assert (
        client.post(
            "/api/v1/supply-interruptions/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k3"
        ).status_code
        == 403
    )
    client.force_login(make_user("customer"))
    assert client.get("/api/v1/supply-interruptions/").status_code == 403


def test_the_portal_and_the_customer_page_show_the_interruption(client, street):
    inside, _other, elsewhere, _closed = street
    start = timezone.now() + timedelta(days=1)
    interruptions.announce("朝阳", start, start + timedelta(hours=3), "换管", streets=["望京街"])
    client.force_login(make_user("customer", customer=inside[0]))
    assert 'data-testid="interruption-notice"' in client.get("/portal/").content.decode()
    client.force_login(make_user("customer", customer=elsewhere))
    assert 'data-testid="interruption-notice"' not in client.get("/portal/").content.decode()
    client.force_login(make_user("cashier"))
    assert 'data-testid="interruption-notice"' in client.get(f"/customers/{inside[0].pk}/").content.decode()
    client.force_login(make_user("dispatcher"))
    page = client.post(
        "/notifications/interruptions/new/",
        {
            "district": "朝阳",
            "streets": "",
            "starts_at": (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(days=1, hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "reason": "检修",
        },
    )
    assert page.status_code == 302 and SupplyInterruption.objects.count() == 2
