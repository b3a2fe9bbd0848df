import datetime as dt
import re

import pytest
from django.utils import timezone

from gasworks.service.desk import services
from gasworks.service.desk.models import ServiceRequest
from tests.service.desk.conftest import jpeg

pytestmark = pytest.mark.django_db


def _token(response) -> str:
    match = re.search(r'name="form_token" value="([0-9a-f-]{36})"', response.content.decode())
    assert match
    return match.group(1)


def test_staff_open_a_request_from_the_customer_page(client, personas):
    customer = personas["own_customer"]
    client.force_login(personas["cashier"])
    page = client.get(f"/customers/{customer.pk}/")
    assert f"/service/requests/new/?customer={customer.pk}" in page.content.decode()
    form = client.get(f"/service/requests/new/?customer={customer.pk}&source=counter")
    data = {
        "customer": customer.pk,
        "kind": "bill_query",
        "source": "counter",
        "description": "why so high",
        "form_token": _token(form),
    }
    first = client.post("/service/requests/new/", data)
    again = client.post("/service/requests/new/", data)  # a double submit
    req = ServiceRequest.objects.get()
    assert first.status_code == again.status_code == 302
    assert first.url == f"/service/requests/{req.pk}/"
    assert req.source == "counter" and req.opened_by == personas["cashier"]


def test_the_list_filters_and_marks_overdue_rows(client, personas):
    boss = personas["dispatcher"]
    late = services.open_request(personas["own_customer"], "repair", "late one", source="phone", by=boss)
    services.open_request(personas["other_customer"], "reconnection", "fresh", source="system")
    ServiceRequest.objects.filter(pk=late.pk).update(due_by=timezone.now() - dt.timedelta(hours=1))
    client.force_login(boss)
    html = client.get("/service/requests/").content.decode()
    assert html.count("data-overdue") == 1
    only_late = client.get("/service/requests/?overdue=1").content.decode()
    assert late.number in only_late and "reconnection" not in only_late.lower().split("<tbody>")[1]
    by_kind = client.get("/service/requests/?kind=reconnection").content.decode()
    assert late.number not in by_kind


def test_the_request_page_shows_actions_only_to_who_may_work_it(client, personas):
    req = services.open_request(
        personas["own_customer"], "repair", "x", source="phone", by=personas["dispatcher"]
    )
    client.force_login(personas["dispatcher"])
    assert 'data-testid="assign-form"' in client.get(f"/service/requests/{req.pk}/").content.decode()
    client.force_login(personas["manager"])
    page = client.get(f"/service/requests/{req.pk}/")
    assert page.status_code == 200
    client.force_login(personas["cashier"])
    assert client.get(f"/service/requests/{req.pk}/").status_code == 404
    client.force_login(personas["filler"])
    assert client.get("/service/requests/").status_code == 403


def test_staff_assign_start_and_add_a_photo(client, personas):
    boss = personas["dispatcher"]
    req = services.open_request(personas["own_customer"], "repair", "x", source="phone", by=boss)
    client.force_login(boss)
    client.post(f"/service/requests/{req.pk}/assign/", {"user": boss.pk})
    client.post(f"/service/requests/{req.pk}/start/")
    client.post(f"/service/requests/{req.pk}/photo/", {"photo": jpeg(), "caption": "before"})
    req.refresh_from_db()
    assert req.status == "in_progress" and req.photos.count() == 1
    page = client.get(f"/service/requests/{req.pk}/").content.decode()
    assert 'data-testid="complete-form"' in page


def test_the_portal_opens_a_repair_and_follows_it(client, personas):
    client.force_login(personas["customer"])
    form = client.get("/service/my-requests/")
    html = form.content.decode()
    assert 'value="repair"' in html and 'value="disconnection"' not in html
    assert "/safety/portal/emergency/" in html
    answer = client.post(
        "/service/my-requests/", {"kind": "repair", "description": "stove", "form_token": _token(form)}
    )
    req = ServiceRequest.objects.get()
    assert answer.url == f"/service/requests/{req.pk}/"
    assert req.customer == personas["own_customer"] and req.source == "portal"
    assert req.number in client.get("/portal/").content.decode()
    assert client.get(answer.url).status_code == 200
    refused = client.post(
        "/service/my-requests/", {"kind": "disconnection", "description": "x", "form_token": _token(form)}
    )
    assert refused.status_code == 200
    assert ServiceRequest.objects.count() == 1


def test_a_customer_does_not_see_anothers_request(client, personas):
    other = services.open_request(
        personas["other_customer"], "repair", "x", source="phone", by=personas["dispatcher"]
    )
    client.force_login(personas["customer"])
    assert client.get(f"/service/requests/{other.pk}/").status_code == 404
    assert client.post(f"/service/requests/{other.pk}/start/").status_code == 403


def test_the_dashboard_shows_overdue_requests_to_the_owning_role(client, personas):
    late = services.open_request(
        personas["own_customer"], "repair", "x", source="phone", by=personas["dispatcher"]
    )
    ServiceRequest.objects.filter(pk=late.pk).update(due_by=timezone.now() - dt.timedelta(hours=1))
    client.force_login(personas["dispatcher"])
    assert "/service/requests/?overdue=1" in client.get("/").content.decode()
    client.force_login(personas["filler"])
    assert "/service/requests/?overdue=1" not in client.get("/").content.decode()


def test_the_counter_links_to_a_new_request(client, personas):
    customer = personas["own_customer"]
    client.force_login(personas["cashier"])
    html = client.get(f"/payments/counter/{customer.pk}/").content.decode()
    assert f"/service/requests/new/?customer={customer.pk}&amp;source=counter" in html
