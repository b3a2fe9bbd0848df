"""The collections report and the daily collection report's print view in a browser: English,
Chinese and a phone's width; its charts drawn, a row drilled down to its payments, the lines to
sign on the printed daily report. Screenshots: var/screenshots/report-collections-*.png."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from gasworks.billing import ledger
from gasworks.billing.models import EntryKind
from gasworks.payments import cards, services
from gasworks.payments.gateways import sandbox
from gasworks.payments.models import Shift, ShiftStatus
from tests.factories import make_customer, make_user
from tests.ui import assert_fits, browser_page, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
TZ = dt.timezone(dt.timedelta(hours=8))
DAYS = [dt.date(2026, 3, d) for d in range(1, 11)]
RANGE = "from=2026-03-01&to=2026-03-10"


def local(day, hour, minute=0):
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


@pytest.fixture
def station(live_server, tmp_path, monkeypatch):
    monkeypatch.setenv("PAYMENTS_CARD_DIR", str(tmp_path / "cards"))
    boss = make_user("dispatcher", username="boss")
    boss.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_collections_report", "view_payment"])
    )
    ana = make_user("cashier", username="ana")
    ana.user_permissions.add(Permission.objects.get(codename="view_own_collections"))
    bo = make_user("cashier", username="bo")
    web = make_user("customer", username="web")
    people = [
        make_customer(name="王芳", category="residential", district="东城"),
        make_customer(name="北京老字号餐馆", category="commercial", district="西城"),
        make_customer(name="京东方工厂", category="industrial", district="朝阳"),
    ]
    card = cards.issue_card(people[0], ana)
    for i, day in enumerate(DAYS):
        with time_machine.travel(local(day, 8), tick=False):
            for n, customer in enumerate(people):
                ledger.post(
                    customer, EntryKind.CHARGE, -(150 + 40 * n + 3 * i), idempotency_key=f"b:{day}:{n}"
                )
        with time_machine.travel(local(day, 10), tick=False):
            services.take_counter_payment(people[0], 120 + i, "cash", ana, tendered=200)
            services.take_counter_payment(people[1], 180, "card", bo)
            if i % 2:
                services.take_counter_payment(people[2], 260, "bank", ana)
            if i % 3 == 0:
                cards.top_up(card, 50, "cash", bo)
            order = services.create_online_order(people[0], 35, web, gateway="sandbox")
            services.handle_callback("sandbox", *sandbox.SandboxGateway().pay(order))
            if i % 4 == 0:
                services.record_bank_payment(people[2], 400, f"B{day:%Y%m%d}")
        with time_machine.travel(local(day, 15), tick=False):
            if i == 2:
                paid = ana.shifts.get(status=ShiftStatus.OPEN).payments.first()
                services.request_refund(paid, 20, "多收", ana)
        with time_machine.travel(local(day, 17, 30), tick=False):
            for who, counted in ((ana, 120 + i - (20 if i == 2 else 0)), (bo, None)):
                shift = Shift.objects.filter(cashier=who, status=ShiftStatus.OPEN).first()
                if shift:
                    services.close_shift(shift, who, cash_counted=counted, handed_to="财务室")
    return live_server


def _chart_drawn(page):
    expect(page.locator("[data-testid=report-chart] canvas").first).to_be_visible()


def test_the_report_in_english_with_its_charts_and_drill_down(station):
    with browser_page(station.url) as page:
        log_in(page, "boss")
        page.goto(f"/reports/collections/?{RANGE}&group_by=day")
        expect(page.locator("[data-testid=report-total]")).to_contain_text("Total")
        _chart_drawn(page)
        screenshot(page, "report-collections-en")
        page.goto(f"/reports/collections/?{RANGE}&group_by=channel")
        expect(page.locator("[data-testid=report-table]")).to_contain_text("IC card top-up")
        expect(page.locator("[data-testid=report-table]")).to_contain_text("Bank statement")
        _chart_drawn(page)
        screenshot(page, "report-collections-channels")
        page.goto(f"/reports/collections/?{RANGE}&group_by=cashier")
        _chart_drawn(page)
        screenshot(page, "report-collections-cashiers")
        page.goto(f"/reports/collections/?{RANGE}&group_by=channel")
        page.locator("tr", has_text="Bank card").locator("[data-testid=drill]").click()
        expect(page.locator("[data-testid=payments-narrowed]")).to_contain_text("Bank card")
        expect(page.locator("tbody tr")).to_have_count(len(DAYS))
        screenshot(page, "report-collections-drill")


def test_the_daily_report_prints_with_lines_to_sign(station):
    with browser_page(station.url) as page:
        log_in(page, "boss")
        page.goto("/reports/daily-collections/?from=2026-03-03")
        expect(page.locator("[data-testid=report-table]")).to_contain_text("Cash")
        page.click("[data-testid=print-link]")
        expect(page.locator("[data-testid=print-signatures]")).to_contain_text("Checked by")
        expect(page.locator("body")).to_contain_text("Agrees with the shift closes.")
        # The 20.00 cash refund of that day came out of the drawer: expected 102.00, counted
        # 102.00, no difference (it said −20.00 while agreeing before).
        expect(page.locator("body")).to_contain_text("Cash expected in the drawer")
        expect(page.locator("body")).to_contain_text("¥102.00")
        expect(page.locator("body")).not_to_contain_text("-¥20.00")
        screenshot(page, "report-collections-daily-print-en")


def test_the_reports_in_chinese(station):
    with browser_page(station.url) as page:
        log_in(page, "boss")
        page.goto(f"/reports/collections/?{RANGE}&group_by=day")
        with page.expect_navigation():
            page.select_option("[data-testid=language]", "zh-hans")
        expect(page.locator("h1")).to_have_text("营收与收费")
        expect(page.locator("[data-testid=report-table]")).to_contain_text("回收率")
        _chart_drawn(page)
        screenshot(page, "report-collections-zh")
        page.goto("/reports/daily-collections/print/?from=2026-03-03")
        expect(page.locator("[data-testid=print-signatures]")).to_contain_text("收款员")
        expect(page.locator("[data-testid=print-signatures]")).to_contain_text("复核")
        expect(page.locator("body")).to_contain_text("与日结一致")
        expect(page.locator("body")).to_contain_text("钱箱应有现金")
        screenshot(page, "report-collections-daily-print-zh")


def test_a_cashier_on_a_phone_sees_their_own(station):
    with browser_page(station.url) as page:
        page.set_viewport_size(PHONE)
        log_in(page, "ana")
        page.goto(f"/reports/collections/?{RANGE}&group_by=cashier")
        rows = page.locator("[data-testid=report-table] tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("ana")
        screenshot(page, "report-collections-phone")
        assert_fits(page)
        page.goto("/reports/daily-collections/print/?from=2026-03-03")
        expect(page.locator("body")).to_contain_text("ana")
        expect(page.locator("[data-testid=print-signatures]")).to_be_visible()
        screenshot(page, "report-collections-daily-print-phone")
