import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gasworks.billing import ledger
from gasworks.cylinders import orders
from gasworks.cylinders.models import Cylinder, LpgOrder, LpgPrice
from tests.cylinders.helpers import make_cylinder, make_full
from tests.factories import PASSWORD
from tests.services import require_chromium

SHOTS = Path("var/screenshots")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _login(page, base, user):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/**")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_lets_a_filler_fill_and_a_dispatcher_deliver(live_server, personas):
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    LpgPrice.objects.create(model="YSP35.5", price=Decimal("115"), effective_from=datetime.date(2020, 1, 1))
    empty = make_cylinder(code="BRW-0001", tare="15.000")
    full = make_full(code="BRW-0002")
    customer = personas["own_customer"]
    order = orders.place_order(customer, "YSP35.5", 1, "phone")
    base = live_server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        phone = browser.new_context(viewport={"width": 390, "height": 844})
        page = phone.new_page()
        _login(page, base, personas["filler"])
        page.goto(f"{base}/cylinders/fill/")
        page.fill("[data-testid=scan-code]", "brw-0001")
        page.click("[data-testid=lookup]")
        assert "Interlock passed" in page.inner_text("[data-testid=interlock]")
        page.fill("input[name=gross_kg]", "29.300")
        page.screenshot(path=str(SHOTS / "cylinders-filler-before-save.png"), full_page=True)
        page.click("[data-testid=save-fill]")
        page.wait_for_selector(".alert-success")
        assert "14.300 kg net" in page.inner_text(".alert-success")
        # The interlock refuses the same cylinder now that it is full.
        page.fill("[data-testid=scan-code]", "BRW-0001")
        page.click("[data-testid=lookup]")
        assert "wrong_status" in page.inner_text("[data-testid=interlock]")
        page.screenshot(path=str(SHOTS / "cylinders-filler-refused.png"), full_page=True)
        phone.close()

        desk = browser.new_context(viewport={"width": 390, "height": 844})
        page = desk.new_page()
        _login(page, base, personas["dispatcher"])
        page.goto(f"{base}/cylinders/orders/")
        page.click("[data-testid=order-row]")
        page.select_option("select[name=worker]", str(personas["dispatcher"].pk))
        page.fill("input[name=vehicle]", "京A·12345")
        page.click("[data-testid=assign-form] button[type=submit]")
        page.wait_for_selector("[data-testid=load-form]")
        page.fill("textarea[name=out_codes]", full.code)
        page.click("[data-testid=load-form] button[type=submit]")
        page.wait_for_selector("[data-testid=deliver-form]")
        page.screenshot(path=str(SHOTS / "cylinders-dispatcher-out.png"), full_page=True)
        page.click("[data-testid=deliver-form] button[type=submit]")
        page.wait_for_selector("[data-testid=amount]")
        assert "115.00" in page.inner_text("[data-testid=amount]")
        page.screenshot(path=str(SHOTS / "cylinders-dispatcher-delivered.png"), full_page=True)
        desk.close()
        browser.close()

    assert Cylinder.objects.get(code="BRW-0001").status == "full_in_station"
    assert Cylinder.objects.get(code="BRW-0002").status == "at_customer"
    assert LpgOrder.objects.get(pk=order.pk).status == "delivered"
    assert ledger.balance(customer) == Decimal("-215.00")  # 115 fill + 100 deposit
    assert empty.pk
