from decimal import Decimal

import pytest

from gasworks.billing import ledger
from gasworks.cylinders.models import Cylinder, CylinderReturn
from tests.cylinders.helpers import delivered
from tests.cylinders.test_browser import ARGS, SHOTS, _login
from tests.services import require_chromium


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_lets_a_cashier_take_cylinders_back_and_refund_the_deposit(live_server, personas):
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    customer = personas["own_customer"]
    _order, fulls = delivered(customer, 2)  # 2 × 110 + 2 × 100 deposit
    base = live_server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        phone = browser.new_context(viewport={"width": 390, "height": 844})
        page = phone.new_page()
        _login(page, base, personas["cashier"])
        page.goto(f"{base}/customers/{customer.pk}/")
        page.click("[data-testid=return-cylinders]")
        page.wait_for_selector("[data-testid=return-form]")
        assert "2 (¥200.00)" in page.inner_text("[data-testid=deposits]")
        page.fill("textarea[name=codes]", f"{fulls[0].code} 15.4\n{fulls[1].code}")
        page.screenshot(path=str(SHOTS / "cylinders-return-form.png"), full_page=True)
        page.click("[data-testid=return-form] button[type=submit]")
        page.wait_for_selector(".alert-success")
        assert "¥200.00" in page.inner_text(".alert-success")
        page.screenshot(path=str(SHOTS / "cylinders-return-done.png"), full_page=True)
        phone.close()
        browser.close()

    assert CylinderReturn.objects.get().deposits_refunded == 2
    assert {c.status for c in Cylinder.objects.filter(pk__in=[c.pk for c in fulls])} == {"empty_in_station"}
    assert ledger.balance(customer) == Decimal("-220.00")
