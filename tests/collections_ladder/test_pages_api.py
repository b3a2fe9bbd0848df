"""The run and the steps through the API and the pages, for each role; the arrears page's step
column; the portal."""

from datetime import date

import pytest
import time_machine
from rest_framework.test import APIClient

from gasworks.service.collections.models import CollectionRun, CollectionStep
from tests.collections_ladder.helpers import NOW, overdue_bill
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db
REMIND_ON = date(2026, 10, 20)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_manager_runs_the_ladder_through_the_api():
    overdue_bill(make_customer())
    client = api(make_user("manager"))
    answer = client.post("/api/v1/collections/runs/", {"as_of": "2026-10-20"}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"reminders": 1, "final_notices": 0, "disconnection_orders": 0}
    again = client.post("/api/v1/collections/runs/", {"as_of": "2026-10-20"}, format="json")
    assert again.json() == {"reminders": 0, "final_notices": 0, "disconnection_orders": 0}


@pytest.mark.parametrize("role", ["cashier", "meter_reader", "customer"])
def test_other_roles_may_not_run_it(role):
    overdue_bill(make_customer())
    answer = api(make_user(role)).post("/api/v1/collections/runs/", {"as_of": "2026-10-20"}, format="json")
    assert answer.status_code == 403
    assert not CollectionStep.objects.exists() and not CollectionRun.objects.exists()


@pytest.mark.parametrize("body", [{}, {"as_of": "2026-13-01"}, {"as_of": "1900-01-01"}, {"as_of": 5}])
def test_a_bad_day_is_refused_and_runs_nothing(body):
    overdue_bill(make_customer())
    answer = api(make_user("admin")).post("/api/v1/collections/runs/", body, format="json")
    assert answer.status_code == 400
    assert "as_of" in answer.json()["error"]["fields"]
    assert not CollectionRun.objects.exists()


def test_the_steps_of_a_customer():
    customer = make_customer()
    overdue_bill(customer, "300.00")
    api(make_user("manager")).post("/api/v1/collections/runs/", {"as_of": "2026-10-20"}, format="json")
    url = f"/api/v1/customers/{customer.pk}/collection-steps/"
    answer = api(make_user("cashier")).get(url)
    assert answer.status_code == 200
    [step] = answer.json()
    assert {k: step[k] for k in ("step", "created_on", "status", "amount")} == {
        "step": "reminder",
        "created_on": "2026-10-20",
        "status": "open",
        "amount": "300.00",
    }
    assert api(make_user("customer", customer=customer)).get(url).status_code == 200
    assert api(make_user("customer")).get(url).status_code == 403  # someone else's
    assert api(make_user("meter_reader")).get(url).status_code == 403
    assert api(make_user("manager")).get("/api/v1/customers/999999/collection-steps/").status_code == 404


def test_the_collections_page_and_its_run_button(client):
    customer = make_customer(name="欠费客户")
    overdue_bill(customer)
    manager = make_user("manager")
    client.force_login(manager)
    answer = client.post("/service/collections/run/", {"as_of": "2026-10-20"})
    assert answer.status_code == 302
    page = client.get("/service/collections/").content.decode()
    assert "欠费客户" in page and 'data-testid="collections-run"' in page
    client.force_login(make_user("cashier"))
    page = client.get("/service/collections/").content.decode()
    assert "欠费客户" in page and 'data-testid="collections-run"' not in page
    assert client.post("/service/collections/run/", {"as_of": "2026-10-21"}).status_code == 403
    client.force_login(make_user("meter_reader"))
    assert client.get("/service/collections/").status_code == 403
    assert CollectionRun.objects.count() == 1


def test_a_bad_day_on_the_page_runs_nothing(client):
    client.force_login(make_user("manager"))
    answer = client.post("/service/collections/run/", {"as_of": "soon"}, follow=True)
    assert answer.status_code == 200
    assert not CollectionRun.objects.exists()


def test_the_customer_page_arrears_page_and_portal_show_the_step(client):
    customer = make_customer(name="欠费客户")
    overdue_bill(customer, "300.00")
    from gasworks.service.collections import services

    services.run(REMIND_ON)
    client.force_login(make_user("cashier"))
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="collection-step"' in page and "Reminder" in page
    client.force_login(make_user("manager"))
    page = client.get("/billing/overdue/").content.decode()
    assert '<td data-testid="overdue-step">Reminder</td>' in page
    client.force_login(make_user("customer", customer=customer))
    assert 'data-testid="portal-collections"' in client.get("/portal/").content.decode()
    mine = client.get("/service/collections/mine/").content.decode()
    assert 'data-testid="collection-step"' in mine


def test_the_arrears_page_asks_for_the_steps_in_one_query(client, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        overdue_bill(make_customer())
    from gasworks.service.collections import services

    services.run(REMIND_ON)
    client.force_login(make_user("manager"))
    with CaptureQueriesContext(connection) as queries:
        client.get("/billing/overdue/")
    assert sum("service_collectionstep" in q["sql"] for q in queries) == 1
