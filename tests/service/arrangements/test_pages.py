"""The pages: make one from the customer page (with the preview), see it, print it, cancel it;
the customer page's and the portal's panels; the counter's line; permissions."""

from datetime import date

import pytest

from gasworks.service.arrangements import services
from gasworks.service.arrangements.models import Arrangement, ArrangementStatus
from tests.service.arrangements.helpers import in_debt

pytestmark = pytest.mark.django_db
TERMS = {"down_payment": "100", "instalments": "3", "first_due_on": "2026-12-20", "note": ""}


@pytest.fixture
def own(personas, frozen):
    customer = personas["own_customer"]
    in_debt(customer, "400.00")
    return customer


def test_a_cashier_makes_one_from_the_customer_page(client, personas, own):
    client.force_login(personas["cashier"])
    page = client.get(f"/customers/{own.pk}/").content.decode()
    assert f"/service/customers/{own.pk}/arrangement/" in page
    form = client.get(f"/service/customers/{own.pk}/arrangement/")
    assert form.status_code == 200 and "400.00" in form.content.decode()
    preview = client.get(f"/service/customers/{own.pk}/arrangement/preview/", TERMS).content.decode()
    assert "2027-02-20" in preview and "100.00" in preview and 'data-testid="preview-total"' in preview
    assert Arrangement.objects.count() == 0  # a preview writes nothing
    response = client.post(f"/service/customers/{own.pk}/arrangement/", TERMS)
    arrangement = Arrangement.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/service/arrangements/{arrangement.pk}/"
    detail = client.get(response["Location"]).content.decode()
    assert "2027-01-20" in detail and 'data-testid="arrangement-cancel"' not in detail  # cashier
    assert client.get(f"/service/arrangements/{arrangement.pk}/agreement/").status_code == 200
    counter = client.get(f"/payments/counter/{own.pk}/").content.decode()
    assert "Arrangement down payment" in counter


def test_bad_terms_show_on_the_form_and_write_nothing(client, personas, own):
    client.force_login(personas["cashier"])
    response = client.post(
        f"/service/customers/{own.pk}/arrangement/", {**TERMS, "first_due_on": "2026-11-01"}
    )
    assert response.status_code == 200 and "after today" in response.content.decode()
    preview = client.get(f"/service/customers/{own.pk}/arrangement/preview/", {**TERMS, "instalments": "40"})
    assert "between 1 and 12" in preview.content.decode().lower()
    assert Arrangement.objects.count() == 0


def test_the_manager_cancels(client, personas, own):
    arrangement = services.make_arrangement(
        own, down_payment="0", instalments=2, first_due_on=date(2026, 12, 20)
    )
    client.force_login(personas["cashier"])
    assert client.post(f"/service/arrangements/{arrangement.pk}/cancel/").status_code == 403
    client.force_login(personas["manager"])
    assert (
        'data-testid="arrangement-cancel"'
        in client.get(f"/service/arrangements/{arrangement.pk}/").content.decode()
    )
    client.post(f"/service/arrangements/{arrangement.pk}/cancel/")
    arrangement.refresh_from_db()
    assert arrangement.status == ArrangementStatus.CANCELLED


def test_the_customer_sees_its_own_in_the_portal(client, personas, own):
    arrangement = services.make_arrangement(
        own, down_payment="0", instalments=2, first_due_on=date(2026, 12, 20)
    )
    client.force_login(personas["customer"])
    portal = client.get("/portal/").content.decode()
    assert 'data-testid="arrangement-portal"' in portal and "2027-01-20" in portal
    assert client.get(f"/service/arrangements/{arrangement.pk}/agreement/").status_code == 200
    assert client.get(f"/service/customers/{own.pk}/arrangement/").status_code == 403


def test_strangers_and_roles_without_the_permission_are_refused(client, personas, own):
    arrangement = services.make_arrangement(
        own, down_payment="0", instalments=2, first_due_on=date(2026, 12, 20)
    )
    stranger = personas["other_customer"]
    from tests.factories import make_user

    client.force_login(make_user("customer", customer=stranger))
    assert client.get(f"/service/arrangements/{arrangement.pk}/").status_code == 403
    assert "arrangement-portal" not in client.get("/portal/").content.decode()
    client.force_login(personas["meter_reader"])
    assert client.get(f"/service/arrangements/{arrangement.pk}/").status_code == 403
    assert client.get(f"/service/customers/{own.pk}/arrangement/").status_code == 403
    assert "arrangement-panel" not in client.get(f"/customers/{own.pk}/").content.decode()
