"""A planned supply interruption that covers a customer shows where they are served: at the
counter, on the staff customer page and in their portal; a customer elsewhere sees none."""

from datetime import timedelta

import pytest
from django.utils import timezone

from gasworks.notifications import interruptions
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db

NOTICE = 'data-testid="interruption-notice"'


def test_the_counter_the_customer_page_and_the_portal_show_a_coming_interruption(client):
    inside = make_customer(district="朝阳", address="北京市朝阳区望京街1号")
    elsewhere = make_customer(district="海淀", address="北京市海淀区中关村大街1号")
    start = timezone.now() + timedelta(days=2)
    interruptions.announce("朝阳", start, start + timedelta(hours=6), "换管", streets=["望京街"])
    client.force_login(make_user("cashier"))
    for customer, shown in ((inside, True), (elsewhere, False)):
        for url in (f"/payments/counter/{customer.pk}/", f"/customers/{customer.pk}/"):
            page = client.get(url).content.decode()
            assert (NOTICE in page) == shown and ("换管" in page) == shown, url
    client.force_login(make_user("customer", customer=inside))
    assert NOTICE in client.get("/portal/").content.decode()
    client.force_login(make_user("customer", customer=elsewhere))
    assert NOTICE not in client.get("/portal/").content.decode()


def test_a_cancelled_or_ended_interruption_is_not_shown(client):
    inside = make_customer(district="朝阳", address="北京市朝阳区望京街1号")
    start = timezone.now() + timedelta(days=2)
    item = interruptions.announce("朝阳", start, start + timedelta(hours=6), "换管")
    interruptions.cancel(item)
    client.force_login(make_user("cashier"))
    assert NOTICE not in client.get(f"/payments/counter/{inside.pk}/").content.decode()
