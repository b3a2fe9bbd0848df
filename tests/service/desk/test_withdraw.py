"""A customer calls off its own request from the portal while nobody is on it yet; staff see who
did. Refusals change nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from gasworks.errors import DomainError, NotAllowed
from gasworks.safety.models import Crew
from gasworks.service.desk import services
from gasworks.service.desk.models import RequestEvent, ServiceRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(personas):
    return services.open_request(
        personas["own_customer"],
        "repair",
        "the stove will not light",
        source="portal",
        by=personas["customer"],
    )


def _url(req) -> str:
    return f"/service/my-requests/{req.pk}/withdraw/"


def _unchanged(req) -> None:
    req.refresh_from_db()
    assert req.status == "open" and req.outcome == "" and req.closed_at is None
    assert not RequestEvent.objects.filter(request=req, action="withdrawn").exists()


def test_a_customer_calls_off_its_open_request_and_staff_see_who(client, personas, mine):
    client.force_login(personas["customer"])
    page = client.get(f"/service/requests/{mine.pk}/").content.decode()
    assert 'data-testid="withdraw-form"' in page
    response = client.post(_url(mine), {"reason": "fixed it myself"})
    assert response.status_code == 302 and response.url == f"/service/requests/{mine.pk}/"
    mine.refresh_from_db()
    assert (mine.status, mine.outcome, mine.refused) == ("cancelled", "fixed it myself", False)
    line = RequestEvent.objects.get(request=mine, action="withdrawn")
    assert (line.by, line.from_status, line.to_status) == (personas["customer"], "open", "cancelled")
    # The form is gone once called off.
    assert 'data-testid="withdraw-form"' not in client.get(f"/service/requests/{mine.pk}/").content.decode()
    client.force_login(personas["admin"])
    staff = client.get(f"/service/requests/{mine.pk}/").content.decode()
    assert "Withdrawn by the customer" in staff and personas["customer"].username in staff


def test_without_a_reason_the_outcome_says_the_customer_withdrew(personas, mine):
    done = services.withdraw(mine, "  ", by=personas["customer"])
    assert done.outcome == "Withdrawn by the customer."


def test_an_assigned_request_cannot_be_called_off(client, personas, mine):
    services.assign(mine, personas["dispatcher"], by=personas["dispatcher"])
    client.force_login(personas["customer"])
    assert 'data-testid="withdraw-form"' not in client.get(f"/service/requests/{mine.pk}/").content.decode()
    client.post(_url(mine), {"reason": "changed my mind"})
    mine.refresh_from_db()
    assert mine.status == "assigned" and mine.outcome == ""
    with pytest.raises(DomainError) as refused:
        services.withdraw(mine, "", by=personas["customer"])
    assert refused.value.code == "not_withdrawable" and refused.value.status == 409


def test_a_visit_booked_on_an_open_request_keeps_it(personas, mine):
    crew = Crew.objects.create(name="一队")
    services.schedule(mine, crew, timezone.now() + dt.timedelta(days=1), by=personas["dispatcher"])
    assert not services.may_withdraw(personas["customer"], mine)
    with pytest.raises(DomainError):
        services.withdraw(mine, "", by=personas["customer"])
    _unchanged(mine)


def test_the_ladders_order_is_not_the_customers_to_call_off(personas):
    order = services.open_request(personas["own_customer"], "disconnection", "debt", source="system")
    assert not services.may_withdraw(personas["customer"], order)
    with pytest.raises(DomainError):
        services.withdraw(order, "", by=personas["customer"])
    assert ServiceRequest.objects.get(pk=order.pk).status == "open"


def test_another_customers_request_is_a_404_and_staff_use_cancel(client, personas, mine):
    theirs = services.open_request(personas["other_customer"], "repair", "x", source="phone")
    client.force_login(personas["customer"])
    assert client.post(_url(theirs)).status_code == 404
    _unchanged(theirs)
    with pytest.raises(NotAllowed):
        services.withdraw(theirs, "", by=personas["customer"])
    with pytest.raises(NotAllowed):
        services.withdraw(mine, "", by=personas["dispatcher"])
    client.force_login(personas["dispatcher"])
    assert client.post(_url(mine)).status_code == 403
    assert client.get(_url(mine)).status_code in (403, 405)
    _unchanged(mine)


def test_a_reason_too_long_is_refused_and_nothing_changes(client, personas, mine):
    client.force_login(personas["customer"])
    client.post(_url(mine), {"reason": "x" * 201})
    _unchanged(mine)
