"""The route builder in Chromium, in Chinese: find a district's meters, select all, add, drag a
stop to the front (the order is kept on the server), move one with the arrows, assign."""

import datetime as dt

import pytest
from django.utils import timezone

from gasworks.metering.models import ReadingRoute
from tests.factories import make_customer, make_user
from tests.metering.helpers import make_meter
from tests.ui import browser_page, log_in, screenshot


def order(route):
    return list(route.stops.order_by("position").values_list("meter__serial_no", flat=True))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_supervisor_builds_a_route_in_the_browser(live_server):
    admin = make_user("admin")
    reader = make_user("meter_reader", username="zhang-reader")
    installed = timezone.localdate() - dt.timedelta(days=30)
    meters = [
        make_meter(
            make_customer(district="朝阳区", address=f"北京市朝阳区望京街道{n}号院"), installed_on=installed
        )
        for n in (1, 2, 3)
    ]
    make_meter(make_customer(district="海淀区", address="北京市海淀区学院路1号"), installed_on=installed)
    with browser_page(live_server.url, locale="zh-CN") as page:
        log_in(page, admin.username)
        page.goto("/metering/routes/new/")
        page.fill("input[name=name]", "望京抄表册")
        page.click("main form button[type=submit]")
        page.wait_for_selector("[data-testid=route-find]")
        route = ReadingRoute.objects.get(name="望京抄表册")
        assert "按抄表顺序排列的表具" in page.content() and order(route) == []
        page.select_option("#f-district", "朝阳区")
        page.click("[data-testid=route-find] button")
        page.wait_for_selector("[data-testid=route-pick]")
        page.check("#pick-all")  # the static script ticks every meter found
        assert page.locator("[data-testid=route-pick] input[name=meter]:checked").count() == 3
        page.click("[data-testid=add-selected]")
        page.wait_for_selector("#route-stops li[data-meter]")
        assert order(route) == [m.serial_no for m in meters]
        last, first = (f'#route-stops li[data-meter="{m.pk}"]' for m in (meters[2], meters[0]))
        with page.expect_navigation():
            page.drag_and_drop(last, first)
        page.wait_for_selector("[data-testid=stops]")
        assert order(route) == [meters[2].serial_no, meters[0].serial_no, meters[1].serial_no]
        assert page.locator("[data-testid=stop-serial]").all_text_contents() == order(route)
        page.locator(f'#route-stops li[data-meter="{meters[2].pk}"] button[value=down]').click()
        page.wait_for_load_state()
        assert order(route) == [meters[0].serial_no, meters[2].serial_no, meters[1].serial_no]
        page.select_option("select[name=reader]", str(reader.pk))
        page.click("button[value=settings]")
        page.wait_for_load_state()
        assert page.text_content("[data-testid=route-reader]").strip() == reader.username
        screenshot(page, "metering_route_builder_zh")
        route.refresh_from_db()
        assert route.reader == reader
