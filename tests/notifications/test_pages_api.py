"""What staff and customers see: the outbox with filters and resend, the customer page's messages,
the portal inbox and preferences, channels and templates (a variable that does not exist is
refused), and the API of api.md "Notifications"."""

import pytest
from django.utils import timezone

from gasworks.notifications import outbox, sender
from gasworks.notifications.models import Message, Preference, Template
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def told():
    customer = make_customer()
    outbox.enqueue("low_balance", [("low:1", customer.pk, {"balance": "3.00"})])
    sender.send_due(now=timezone.now() + timezone.timedelta(seconds=1))
    return customer


def test_staff_see_the_outbox_filter_it_and_resend_a_failed_message(client, told):
    admin = make_user("admin")
    client.force_login(admin)
    Message.objects.filter(channel="sms").update(status="failed", error="isv.BUSINESS_LIMIT_CONTROL")
    page = client.get("/notifications/outbox/?status=failed").content.decode()
    assert "isv.BUSINESS_LIMIT_CONTROL" in page and told.account_no in page
    sms = Message.objects.get(channel="sms")
    client.post(f"/notifications/outbox/{sms.pk}/resend/")
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.error) == ("queued", 0, "")
    assert client.get("/notifications/outbox/?status=nonsense").status_code == 200
    client.force_login(make_user("customer"))
    assert client.get("/notifications/outbox/").status_code == 403


def test_the_customer_page_lists_messages_and_the_cashier_may_set_preferences(client, told):
    client.force_login(make_user("cashier"))
    page = client.get(f"/customers/{told.pk}/").content.decode()
    assert "3.00" in page and f"/notifications/customers/{told.pk}/preferences/" in page
    response = client.post(
        f"/notifications/customers/{told.pk}/preferences/",
        {"sms": "on", "language": "en", "opt_out": ["bill_issued"]},
    )
    assert response.status_code == 302
    assert Preference.objects.get(customer=told).opt_out == ["bill_issued"]


def test_the_customer_reads_the_inbox_and_sets_preferences_in_the_portal(client, told):
    client.force_login(make_user("customer", customer=told))
    page = client.get("/notifications/inbox/").content.decode()
    assert "3.00" in page
    assert Message.objects.get(channel="portal").read_at is not None
    response = client.post("/notifications/preferences/", {"email": "on", "language": "zh-hans"})
    assert "请填写邮箱地址" in response.content.decode() or "address" in response.content.decode()
    client.post(
        "/notifications/preferences/", {"email": "on", "email_address": "c@example.com", "language": "en"}
    )
    assert Preference.objects.get(customer=told).email_address == "c@example.com"


def test_a_template_naming_a_variable_that_does_not_exist_is_refused_and_a_good_one_previewed(client):
    client.force_login(make_user("admin"))
    bad = {
        "event": "bill_issued",
        "channel": "sms",
        "language": "zh-hans",
        "body": "请缴{amount}元，{pin}",
        "save": "1",
    }
    page = client.post("/notifications/templates/new/", bad).content.decode()
    assert "pin" in page and not Template.objects.exists()
    good = {**bad, "body": "{name}，您{period}燃气费{amount}元。", "preview": "1"}
    del good["save"]
    page = client.post("/notifications/templates/new/", good).content.decode()
    assert "«amount»" in page and 'data-testid="preview"' in page and not Template.objects.exists()
    client.post("/notifications/templates/new/", {**good, "save": "1"})
    assert Template.objects.get().body == "{name}，您{period}燃气费{amount}元。"
    assert "Templates" in client.get("/notifications/templates/").content.decode()
    assert client.get("/notifications/channels/").status_code == 200


def test_the_api_lists_a_customers_messages_and_changes_preferences(client, told):
    client.force_login(make_user("customer", customer=told))
    body = client.get(f"/api/v1/customers/{told.pk}/messages/").json()
    assert {m["channel"] for m in body["results"]} == {"portal", "sms"}
    assert set(body["results"][0]) == {"id", "event", "channel", "status", "text", "created_at", "sent_at"}
    other = make_customer()
    assert client.get(f"/api/v1/customers/{other.pk}/messages/").status_code == 403
    url = f"/api/v1/customers/{told.pk}/notification-preferences/"
    assert client.get(url).json() == {"sms": True, "wechat": False, "email": False, "opt_out": []}
    changed = client.patch(url, {"sms": False, "opt_out": ["bill_issued"]}, content_type="application/json")
    assert changed.json() == {"sms": False, "wechat": False, "email": False, "opt_out": ["bill_issued"]}
    refused = client.patch(url, {"opt_out": ["supply_interruption"]}, content_type="application/json")
    assert refused.status_code == 400 and Preference.objects.get(customer=told).opt_out == ["bill_issued"]
    client.force_login(make_user("meter_reader"))
    assert client.get(url).status_code == 403
