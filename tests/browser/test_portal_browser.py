"""The customer's portal in the browser, on a phone (390 px) and at desktop width, in English and
in Chinese: every page of the customer's menu opened and photographed (var/screenshots/
portal-*.png) with no sideways scrolling and the top bar on one line; the usage chart drawn; a
self-reading with a photo sent; an inspection slot booked and moved."""

import io

import pytest
import time_machine
from playwright.sync_api import expect

from gasworks.safety.models import InspectorArea
from gasworks.web.navigation import menu_for
from tests.billing.helpers import beijing, meter_for
from tests.factories import make_customer, make_user
from tests.portal.helpers import bill_months, local_time, pay
from tests.ui import assert_fits, browser_page, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
NOW = local_time(2026, 11, 23, 9, 30)  # a Monday morning


@pytest.fixture
def household(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    beijing()
    customer = make_customer(district="朝阳区", household_size=3)
    meter_for(customer)
    bill_months(
        customer,
        {(2025, 9): 30, (2025, 10): 35, (2026, 1): 90, (2026, 2): 80, (2026, 9): 32, (2026, 10): 40},
    )
    pay(customer, "400.00")
    InspectorArea.objects.create(district="朝阳区", inspector=make_user("inspector"))
    user = make_user("customer", customer=customer, username="resident1")
    return live_server, user


def _photo(tmp_path):
    from PIL import Image

    path = tmp_path / "meter.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (120, 90), (30, 30, 30)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def _walk(page, user, lang: str, width: str) -> None:
    """Open every page of the customer's menu; none scrolls sideways; each photographed."""
    for entry in menu_for(user, "/"):
        page.goto(entry["url"])
        expect(page.locator("h1").first).to_be_visible()
        name = entry["url"].strip("/").replace("/", "-") or "home"
        screenshot(page, f"portal-{lang}-{width}-{name}")
        assert_fits(page)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(("width", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_every_portal_page_fits_in_both_languages(household, lang, width, viewport):
    server, user = household
    with time_machine.travel(NOW, tick=True), browser_page(server.url) as page:
        page.set_viewport_size(viewport)
        log_in(page, "resident1")
        page.goto("/portal/")
        if lang == "zh":
            with page.expect_navigation():  # the switch reloads the page
                page.select_option("[data-testid=language]", "zh-hans")
        expect(page.locator("#usage-chart canvas")).to_have_count(1)
        expect(page.locator("[data-testid=tariff-standing] progress")).to_have_count(2)
        expect(page.locator("[data-testid=bill-state]").first).to_be_visible()
        if lang == "zh":
            assert "阶梯年度" in page.inner_text("[data-testid=tariff-standing]")
            assert "部分缴纳" in page.inner_text("[data-testid=portal-bills]")
        else:
            assert "Part-paid" in page.inner_text("[data-testid=portal-bills]")
        _walk(page, user, lang, width)


def test_a_customer_sends_a_reading_and_books_then_moves_a_visit_on_a_phone(household, tmp_path):
    server, _user = household
    with time_machine.travel(NOW, tick=True), browser_page(server.url) as page:
        page.set_viewport_size(PHONE)
        log_in(page, "resident1")
        page.goto("/portal/")
        page.locator("[data-testid=portal-tiles] a", has_text="Send a meter reading").click()
        page.fill("input[name=value]", "1075")
        page.set_input_files("input[name=photo]", str(_photo(tmp_path)))
        page.click("[data-testid=self-reading-form] button[type=submit]")
        expect(page.locator(".alert-success")).to_contain_text("is recorded")
        expect(page.locator("[data-testid=my-readings] img")).to_have_count(1)
        # The photo is drawn: the access view let its sender through (no public /media/ address).
        page.wait_for_function(
            "() => { const i = document.querySelector('[data-testid=my-readings] img');"
            " return i && i.complete && i.naturalWidth > 0 && i.src.includes('/metering/readings/') }"
        )
        assert_fits(page)
        screenshot(page, "portal-en-phone-reading-sent")
        page.goto("/safety/portal/inspections/")
        page.locator("[data-testid=slot]").first.click()
        expect(page.locator(".alert-success")).to_contain_text("Your visit is booked for 2026-11-24 at 10:00")
        expect(page.locator("[data-testid=upcoming-appointments]")).to_contain_text("10:00–11:00")
        page.locator("details.gw-slot-day summary").nth(1).click()
        page.locator("details.gw-slot-day").nth(1).locator("[data-testid=slot]").nth(2).click()
        expect(page.locator(".alert-success")).to_contain_text("2026-11-25 at 11:00")
        expect(page.locator("[data-testid=upcoming-appointments] .list-group-item")).to_have_count(1)
        assert_fits(page)
        screenshot(page, "portal-en-phone-visit-moved")
