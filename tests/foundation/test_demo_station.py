"""The demo station has an address and phones, so bills, receipts and the leak page print them."""

import io

import pytest
import time_machine
from pypdf import PdfReader

from gasworks.billing import runs
from gasworks.billing.models import Bill
from gasworks.billing.pdf import render_bill
from gasworks.customers.management.commands.seed_demo import DEMO_STATION, seed_station
from gasworks.payments import receipts, services
from gasworks.system import parameters
from gasworks.system.services import set_parameters
from tests.billing.helpers import beijing, local, read

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_demo_fills_the_station_contacts_but_keeps_the_operators():
    set_parameters({"station_phone": "0571-1234"})
    seed_station()
    assert parameters.get("station_address") == DEMO_STATION["station_address"]
    assert parameters.get("emergency_phone") == DEMO_STATION["emergency_phone"]
    assert parameters.get("station_phone") == "0571-1234"  # set by the operator: left alone
    seed_station()  # again: nothing changes
    assert parameters.get("station_phone") == "0571-1234"


def test_bills_and_receipts_print_the_demo_station_address_and_phone(personas):
    seed_station()
    beijing()
    read(personas["own_customer"], 30, local(2026, 9, 3))
    with time_machine.travel(local(2026, 10, 1), tick=False):
        runs.execute(runs.start_run("2026-09"))
    bill = _text(render_bill(Bill.objects.get(), "zh-hans"))
    assert DEMO_STATION["station_address"] in bill and DEMO_STATION["station_phone"] in bill
    payment = services.take_counter_payment(personas["own_customer"], "20", "cash", personas["cashier"])
    receipt = _text(receipts.render(payment))
    assert DEMO_STATION["station_address"] in receipt and DEMO_STATION["station_phone"] in receipt


def test_the_leak_page_shows_the_emergency_number(client, personas):
    client.force_login(personas["customer"])
    page = client.get("/safety/portal/emergency/").content.decode()
    assert 'data-testid="emergency-phone"' not in page
    set_parameters({"emergency_phone": "010-96777"})
    page = client.get("/safety/portal/emergency/").content.decode()
    assert 'data-testid="emergency-phone"' in page and 'href="tel:010-96777"' in page
