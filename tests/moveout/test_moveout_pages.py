"""The staff flow: form, preview (nothing kept), confirm, summary; the old transfer address."""

import pytest
import time_machine

from gasworks.billing.models import Bill
from gasworks.customers.models import Customer, Status
from gasworks.service.moveout.models import MoveOut
from tests.moveout.helpers import MOVE_DAY, billed_account

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _move_day():
    with time_machine.travel(MOVE_DAY, tick=False):
        yield


def _form(meter, **kw):
    data = {"kind": "move_out", f"value_{meter.pk}": "1400", "settlement": "keep", "household_size": "2"}
    data.update(kw)
    return data


@pytest.mark.parametrize(
    ("role", "status"),
    [("cashier", 200), ("admin", 200), ("manager", 403), ("meter_reader", 403), ("customer", 403)],
)
def test_who_may_open_the_flow(client, personas, role, status):
    customer, _meter = billed_account()
    client.force_login(personas[role])
    assert client.get(f"/service/moveout/customers/{customer.pk}/").status_code == status


def test_the_old_transfer_address_starts_the_flow_as_a_transfer(client, personas):
    customer = personas["other_customer"]
    client.force_login(personas["cashier"])
    response = client.get(f"/customers/{customer.pk}/transfer/?request=5")
    assert response.status_code == 302
    assert response.url.startswith(f"/service/moveout/customers/{customer.pk}/?")
    assert "kind=transfer" in response.url and "request=5" in response.url
    client.force_login(personas["meter_reader"])
    assert client.get(f"/customers/{customer.pk}/transfer/").status_code == 403


def test_preview_then_confirm(client, personas):
    customer, meter = billed_account()
    client.force_login(personas["cashier"])
    url = f"/service/moveout/customers/{customer.pk}/"
    shown = client.post(url, {**_form(meter), "preview": "1"})
    assert shown.status_code == 200 and shown.context["preview"].bill["total"] == 272
    assert b'data-testid="confirm-button"' in shown.content
    assert not Bill.objects.filter(period="2026-11").exists()  # the preview kept nothing
    done = client.post(url, {**_form(meter), "confirm": "1", "request": "9"})
    row = MoveOut.objects.get()
    assert done.url == f"/service/moveout/{row.pk}/" and row.request_id == 9
    page = client.get(done.url)
    assert page.status_code == 200 and "¥272.00" in page.content.decode()
    assert client.get(url).url == done.url  # a closed account's flow shows what was done


def test_a_transfer_on_the_page_opens_the_new_account(client, personas):
    customer, meter = billed_account()
    client.force_login(personas["cashier"])
    data = _form(meter, kind="transfer", name="新户主", phone="13600000000", confirm="1")
    client.post(f"/service/moveout/customers/{customer.pk}/", data)
    new = Customer.objects.get(name="新户主")
    customer.refresh_from_db()
    assert customer.status == Status.CLOSED and new.premises_id == customer.premises_id


def test_no_reading_is_explained_and_writes_nothing(client, personas):
    customer, meter = billed_account()
    client.force_login(personas["cashier"])
    response = client.post(
        f"/service/moveout/customers/{customer.pk}/",
        {**_form(meter), f"value_{meter.pk}": "", "confirm": "1"},
    )
    assert response.status_code == 200 and response.context["form"].errors
    customer.refresh_from_db()
    assert customer.status == Status.ACTIVE and not MoveOut.objects.exists()
