"""Every page of a staff member's menu, the shared form page and the login and sign-up pages on a
phone (390 px), in English and in Chinese: no sideways scrolling and a top bar on one line.
Screenshots land in var/screenshots/fit-*.png."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from gasworks.web.navigation import menu_for
from tests.factories import make_customer, make_user
from tests.ui import assert_fits, browser_page, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def _name(url: str) -> str:
    return url.strip("/").replace("/", "-") or "home"


def _switch(page, lang: str) -> None:
    if lang == "zh":
        with page.expect_navigation():  # the switch reloads the page
            page.select_option("[data-testid=language]", "zh-hans")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_sign_in_pages_fit_a_phone(live_server, lang):
    with browser_page(live_server.url) as page:
        page.set_viewport_size(PHONE)
        page.goto("/accounts/login/")
        _switch(page, lang)
        for path in ("/accounts/login/", "/accounts/register/"):
            page.goto(path)
            expect(page.locator("form").last).to_be_visible()
            screenshot(page, f"fit-{lang}-{_name(path)}")
            assert_fits(page)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_staff_page_and_the_form_page_fit_a_phone(live_server, lang):
    user = make_user("admin", username="phoneadmin")
    customer = make_customer(name="王小明")
    with browser_page(live_server.url) as page:
        page.set_viewport_size(PHONE)
        log_in(page, "phoneadmin")
        _switch(page, lang)
        # The name and role the top bar leaves out on a phone are at the top of the user's menu.
        page.click("[data-testid=user-menu]")
        role = "管理员" if lang == "zh" else "Administrator"
        expect(page.locator(".dropdown-header")).to_have_text(f"phoneadmin · {role}")
        screenshot(page, f"fit-{lang}-user-menu")
        pages = [entry["url"] for entry in menu_for(user, "/")]
        pages += ["/customers/new/", f"/customers/{customer.pk}/", f"/customers/{customer.pk}/edit/"]
        pages += ["/accounts/profile/", "/users/new/"]
        # The other pages that centre a column in a row (row justify-content-center).
        pages += [
            reverse(name)
            for name in (
                "service:desk-new",
                "safety:emergency-create",
                "safety:area-create",
                "metering:reading-import",
                "notifications:template-new",
            )
        ]
        pages.append(reverse("cylinders:return", args=[customer.pk]))
        for url in pages:
            page.goto(url)
            expect(page.locator("h1").first).to_be_visible()
            screenshot(page, f"fit-{lang}-{_name(url)}")
            assert_fits(page)
