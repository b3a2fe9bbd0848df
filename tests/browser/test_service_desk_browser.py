"""The service desk in the browser: staff open a meter change from the customer page, assign,
start and complete it (the meters swapped); a customer opens a repair from the portal on a phone
(390 px), follows it and calls it off; in English and in Chinese. Screenshots land in
var/screenshots/desk-*.png."""

import pytest
from playwright.sync_api import expect

from gasworks.metering.models import Meter
from gasworks.service.desk.models import ServiceRequest
from tests.factories import make_customer, make_user
from tests.service.desk.conftest import make_meter
from tests.ui import assert_fits, browser_page, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
WORDS = {
    "en-US": {
        "new": "New service request",
        "assign": "Assign",
        "start": "Start the work",
        "done": "Done",
        "cancelled": "Cancelled",
        "withdrawn": "Withdrawn by the customer",
    },
    "zh-CN": {
        "new": "新建工单",
        "assign": "派单",
        "start": "开工",
        "done": "已完成",
        "cancelled": "已取消",
        "withdrawn": "客户已撤销",
    },
}


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_staff_take_a_meter_change_from_the_customer_page_to_done(live_server, locale):
    reader = make_user("meter_reader", username="reader1")
    customer = make_customer(name="王五")
    old = make_meter(customer)
    words = WORDS[locale]
    tag = locale[:2]
    with browser_page(live_server.url, locale=locale) as page:
        log_in(page, "reader1")
        page.goto(f"/customers/{customer.pk}/")
        page.click("[data-testid=new-request]")
        expect(page.locator("h1")).to_have_text(words["new"])
        page.select_option("#id_kind", "meter_change")
        page.select_option("#id_source", "counter")
        page.fill("#id_description", "表具到期更换 / meter due for replacement")
        screenshot(page, f"desk-new-{tag}")
        page.locator("form.gw-card button[type=submit]").click()
        expect(page.locator("[data-testid=request-status]")).to_be_visible()
        page.select_option("#id_user", str(reader.pk))
        page.locator("[data-testid=assign-form] button").first.click()
        expect(page.locator("[data-testid=history]")).to_contain_text(
            words["assign"] if tag == "en" else "已派"
        )
        page.get_by_role("button", name=words["start"]).click()
        expect(page.locator("[data-testid=complete-form]")).to_be_visible()
        page.fill("#id_old_reading", "131.250")
        page.fill("#id_new_serial_no", f"NEW-{tag}")
        page.fill("#id_new_reading", "0")
        page.fill("#id_note", "换表完成 / swapped")
        screenshot(page, f"desk-complete-{tag}")
        page.locator("[data-testid=complete-form] button").click()
        expect(page.locator("[data-testid=request-status]")).to_contain_text(words["done"])
        expect(page.locator("[data-testid=outcome]")).to_contain_text(f"NEW-{tag}")
        screenshot(page, f"desk-done-{tag}")
        page.goto("/service/requests/?status=all")
        expect(page.locator("table tbody tr")).to_have_count(1)
        screenshot(page, f"desk-list-{tag}")
    old.refresh_from_db()
    assert old.status == "removed"
    assert Meter.objects.get(serial_no=f"NEW-{tag}").premises_id == customer.premises_id
    assert ServiceRequest.objects.get().status == "done"


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_a_customer_opens_a_repair_from_the_portal_on_a_phone(live_server, locale):
    customer = make_customer(name="赵六")
    make_user("customer", customer=customer, username="home1")
    tag, words = locale[:2], WORDS[locale]
    with browser_page(live_server.url, locale=locale) as page:
        page.set_viewport_size(PHONE)
        log_in(page, "home1")
        page.goto("/service/my-requests/")
        expect(page.locator("a.alert-link[href='/safety/portal/emergency/']")).to_be_visible()
        options = page.locator("#id_kind option").all_inner_texts()
        assert len(options) == 7  # the kinds a customer may open; no disconnection, no meter change
        page.select_option("#id_kind", "repair")
        page.fill("#id_description", "灶具打不着火 / the stove will not light")
        assert_fits(page)
        screenshot(page, f"desk-portal-form-{tag}")
        page.locator("[data-testid=portal-open-form] button[type=submit]").click()
        expect(page.locator("[data-testid=request-status]")).to_be_visible()
        assert_fits(page)
        screenshot(page, f"desk-portal-request-{tag}")
        page.goto("/portal/")
        expect(page.locator("[data-testid=portal-requests-panel]")).to_be_visible()
        assert_fits(page)
        screenshot(page, f"desk-portal-home-{tag}")
        # Nobody is on it yet: the customer calls it off.
        page.goto("/service/my-requests/")
        page.locator("[data-testid=my-requests] a").first.click()
        page.fill("[data-testid=withdraw-form] input[name=reason]", "自己修好了 / fixed it myself")
        assert_fits(page)
        screenshot(page, f"desk-portal-withdraw-{tag}")
        page.locator("[data-testid=withdraw-form] button[type=submit]").click()
        expect(page.locator("[data-testid=request-status]")).to_contain_text(words["cancelled"])
        expect(page.locator("[data-testid=history]")).to_contain_text(words["withdrawn"])
        expect(page.locator("[data-testid=withdraw-form]")).to_have_count(0)
        assert_fits(page)
        screenshot(page, f"desk-portal-withdrawn-{tag}")
    req = ServiceRequest.objects.get()
    assert (req.customer_id, req.kind, req.source) == (customer.pk, "repair", "portal")
    assert (req.status, req.outcome) == ("cancelled", "自己修好了 / fixed it myself")
