"""Browser tests: Debian's chromium through Playwright against the live server."""

from pathlib import Path

import pytest
from django.utils import timezone

from gasworks.safety.models import Crew, Emergency, Hazard
from gasworks.safety.services import emergencies, inspections
from tests.factories import PASSWORD
from tests.services import require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    path = require_chromium()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=path, args=ARGS)
        yield chromium
        chromium.close()


def _login(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_it_lets_an_inspector_complete_a_checklist_that_raises_a_hazard(browser, live_server, personas):
    from gasworks.safety.services import checklists

    template = checklists.ensure_standard()
    inspector = personas["inspector"]
    customer = personas["own_customer"]
    inspections.create_task(customer, timezone.localdate(), inspector=inspector)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    _login(page, live_server, inspector)
    page.goto(f"{live_server.url}/safety/inspections/")
    page.locator('[data-testid="today-tasks"] a').first.click()
    page.wait_for_load_state()
    for item in template.items.all():
        value = "fail" if item.code == "leak_test" else "pass"
        page.click(f"label[for=r_{item.code}_{value}]")
    page.fill("input[name=note_leak_test]", "表前阀接头漏气")
    page.fill("input[name=confirmed_by_name]", customer.name)
    page.check("#customer_confirmed")
    page.screenshot(path=str(SHOTS / "safety_checklist.png"), full_page=True)
    page.click('[data-testid="complete"]')
    page.wait_for_selector('[data-testid="raised-hazard"]')
    assert page.inner_text('[data-testid="task-status"]') == "Completed"
    assert page.is_visible('[data-testid="supply-blocked"]')  # the leak test raises a major hazard
    page.screenshot(path=str(SHOTS / "safety_checklist_done.png"), full_page=True)
    hazard = Hazard.objects.get(customer=customer)
    assert hazard.level == "major" and "表前阀接头漏气" in hazard.description


def test_it_lets_a_dispatcher_dispatch_and_resolve_an_emergency(browser, live_server, personas):
    dispatcher = personas["dispatcher"]
    Crew.objects.create(name="抢修一队")
    emergencies.report(
        address="北京市朝阳区望京街道8号院", description="楼道燃气味", priority="critical", by=None
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _login(page, live_server, dispatcher)
    page.goto(f"{live_server.url}/safety/emergencies/")
    assert page.inner_text('[data-testid="open-count"]') == "1"
    page.screenshot(path=str(SHOTS / "safety_board.png"), full_page=True)
    page.click('[data-testid="open-emergencies"] a')
    page.wait_for_load_state()
    page.select_option("select[name=crew]", label="抢修一队")
    page.click('[data-testid="dispatch"]')
    page.wait_for_selector('[data-testid="arrive"]')
    page.click('[data-testid="arrive"]')
    page.wait_for_selector('[data-testid="resolve"]')
    page.fill("textarea[name=resolution]", "立管接头紧固，检漏合格")
    page.click('[data-testid="resolve"]')
    page.wait_for_load_state()
    assert page.inner_text('[data-testid="emergency-status"]') == "Resolved"
    assert page.inner_text('[data-testid="resolved-at"]') != "—"
    page.screenshot(path=str(SHOTS / "safety_emergency_resolved.png"), full_page=True)
    case = Emergency.objects.get()
    assert case.status == "resolved" and case.dispatched_at and case.arrived_at and case.resolved_at
    # The board, refreshed by htmx, no longer lists it.
    page.goto(f"{live_server.url}/safety/emergencies/")
    assert page.inner_text('[data-testid="open-count"]') == "0"
