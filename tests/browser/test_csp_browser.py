"""The Content-Security-Policy in Chromium: the shared watch (tests/conftest.py csp_violations)
catches what the policy blocks, and the pages whose scripts moved to static files still work."""

import pytest
from playwright.sync_api import expect

from tests.conftest import is_csp_violation
from tests.factories import make_customer, make_user
from tests.metering.helpers import make_meter, monthly
from tests.ui import browser_page, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_watch_catches_what_the_policy_blocks(live_server, csp_violations):
    make_user("cashier", username="watcher")
    with browser_page(live_server.url) as page:
        log_in(page, "watcher")
        with page.expect_console_message(is_csp_violation):
            page.evaluate("document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=\"1\">')")
        with page.expect_console_message(is_csp_violation):
            page.evaluate(
                "const s = document.createElement('script'); s.textContent = '1'; document.body.append(s)"
            )
    assert len(csp_violations) >= 2 and all("Content Security Policy" in v for v in csp_violations)
    csp_violations.clear()  # planted on purpose: the test passes if they were caught


def test_the_meter_chart_draws_from_its_script_file(live_server):
    make_user("meter_reader", username="chart")
    meter = make_meter(make_customer())
    monthly(meter)
    with browser_page(live_server.url) as page:
        log_in(page, "chart")
        page.goto(f"/metering/meters/{meter.pk}/")
        expect(page.locator("#chart canvas")).to_have_count(1)


def test_filters_submit_on_change_without_inline_handlers(live_server):
    make_user("inspector", username="filters")
    with browser_page(live_server.url) as page:
        log_in(page, "filters")
        page.goto("/safety/hazards/")
        with page.expect_navigation():
            page.select_option("select[name=level]", "major")
        assert "level=major" in page.url
