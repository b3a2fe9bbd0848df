"""The meter reader's phone page in a real browser: last reading, enter, save, next meter."""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from gasworks.metering import services
from gasworks.metering.models import Reading, ReadingRoute, RouteStop
from tests.factories import PASSWORD, make_customer, make_user
from tests.metering.helpers import make_meter
from tests.services import require_chromium

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_walks_a_route_on_a_phone(live_server):
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    reader = make_user("meter_reader")
    installed = timezone.localdate() - dt.timedelta(days=60)
    first = make_meter(make_customer(name="王五"), installed_on=installed)
    second = make_meter(make_customer(name="赵六"), installed_on=installed)
    month_start = timezone.make_aware(dt.datetime.combine(timezone.localdate().replace(day=1), dt.time(9)))
    services.record_reading(first, 112, month_start - dt.timedelta(days=3))  # last month's reading
    route = ReadingRoute.objects.create(name="朝阳 1", reader=reader)
    RouteStop.objects.bulk_create(
        [RouteStop(route=route, meter=first, position=1), RouteStop(route=route, meter=second, position=2)]
    )
    Path("var/screenshots").mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", reader.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{live_server.url}/metering/routes/{route.pk}/")
        assert page.text_content("[data-testid=stop] h1").strip() == first.serial_no
        assert page.text_content("[data-testid=last-reading]").strip() == "112.000"
        page.fill("#id_value", "131.5")
        page.screenshot(path="var/screenshots/metering_route_walk.png", full_page=True)
        page.click("[data-testid=save]")
        page.wait_for_load_state()
        assert page.text_content("[data-testid=stop] h1").strip() == second.serial_no
        assert page.text_content("[data-testid=last-reading]").strip() == "100.000"
        page.screenshot(path="var/screenshots/metering_route_next.png", full_page=True)
        browser.close()
    assert Reading.objects.get(meter=first, value="131.5").consumption == 19.5
