"""How pages look: one menu item highlighted, the hazards list usable on a phone (390 px), tables
sorted by a click on a column header, a favicon. Screenshots land in var/screenshots/."""

import pytest
from playwright.sync_api import expect

from gasworks.safety.services import hazards
from tests.factories import make_customer, make_user
from tests.ui import assert_fits, browser_page, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def hazard_list(live_server):
    make_user("inspector", username="phone")
    for n, (name, level) in enumerate([("赵大宝", "key"), ("钱多多", "major"), ("孙小美", "ordinary")]):
        customer = make_customer(
            name=name, address=f"北京市朝阳区望京街道阜通东大街{n + 1}号院某某小区某号楼"
        )
        hazards.raise_hazard(
            customer, level, "灶前软管老化开裂，需更换为金属波纹管并加装熄火保护装置" * 2, by=None
        )
    return live_server


def test_the_hazard_list_fits_a_phone(hazard_list):
    with browser_page(hazard_list.url) as page:
        page.set_viewport_size(PHONE)
        log_in(page, "phone")
        page.goto("/safety/hazards/")
        expect(page.locator("tbody tr")).to_have_count(3)
        screenshot(page, "hazards-phone")
        assert_fits(page)
        # The table scrolls inside its box, so its last column can be reached.
        last = page.locator("thead th").last
        last.scroll_into_view_if_needed()
        box = last.bounding_box()
        assert box["x"] + box["width"] <= PHONE["width"] + 1


def test_a_click_on_a_column_header_sorts_the_table(hazard_list):
    with browser_page(hazard_list.url) as page:
        log_in(page, "phone")
        page.goto("/safety/hazards/")
        notices = page.locator("tbody tr td:nth-child(1)")
        header = page.locator("thead th", has_text="Notice")
        header.click()
        expect(header).to_have_attribute("aria-sort", "ascending")
        ascending = notices.all_inner_texts()
        assert ascending == sorted(ascending) and len(set(ascending)) == 3
        header.click()
        expect(header).to_have_attribute("aria-sort", "descending")
        assert notices.all_inner_texts() == list(reversed(ascending))
        screenshot(page, "hazards-sorted")


def test_one_menu_item_is_highlighted_and_there_is_a_favicon(live_server):
    make_user("admin", username="menus")
    with browser_page(live_server.url) as page:
        log_in(page, "menus")
        for path, label in (("/cylinders/fill/", "Filling"), ("/cylinders/orders/", "LPG orders")):
            page.goto(path)
            expect(page.locator("#mainnav .nav-link.active")).to_have_count(1)
            expect(page.locator("#mainnav .nav-link.active")).to_contain_text(label)
        icon = page.request.get(f"{live_server.url}/favicon.ico")
        assert icon.ok and icon.headers["content-type"].startswith("image/")
