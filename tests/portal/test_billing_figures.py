"""Billing's portal figures (gasworks.billing.portal): where the account stands in its tariff
year, usage by month beside last year, each bill's status and what is owed; and the portal page
that shows them to the customer only."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from gasworks.billing import portal
from gasworks.billing.models import Bill
from gasworks.system.models import Parameter
from tests.billing.helpers import beijing, local, read
from tests.factories import make_customer, make_user
from tests.portal.helpers import bill_months, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def household():
    beijing()
    return make_customer(household_size=3)


def test_it_tells_the_worked_example_300_used_50_left_in_tier_1(household):
    bill_months(household, {(2026, 1): 100, (2026, 2): 200})
    standing = portal.tariff_standing(household, dt.date(2026, 3, 10))
    assert standing.used == Decimal("300.000")
    assert (standing.tier, standing.left_in_tier) == (1, Decimal("50.000"))
    assert (standing.price, standing.next_price) == (Decimal("2.6100"), Decimal("2.8300"))
    assert (standing.year_start, standing.year_end) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert [t.used for t in standing.tiers] == [Decimal("300.000"), Decimal("0.000"), Decimal("0.000")]


def test_it_counts_the_readings_not_billed_yet(household):
    bill_months(household, {(2026, 1): 300})
    read(household, 60, local(2026, 2, 20))  # February is not billed yet
    with time_machine.travel(local(2026, 2, 25), tick=False):
        standing = portal.tariff_standing(household)
    assert standing.used == Decimal("360.000")
    assert (standing.tier, standing.left_in_tier, standing.next_price) == (
        2,
        Decimal("140.000"),
        Decimal("4.2300"),
    )


def test_it_raises_the_quotas_of_a_large_household_and_starts_a_new_year_at_zero():
    beijing()
    big = make_customer(household_size=6)  # 2 persons above 4: quotas × 1.5
    bill_months(big, {(2025, 11): 400})
    standing = portal.tariff_standing(big, dt.date(2025, 12, 5))
    assert (standing.tier, standing.left_in_tier) == (1, Decimal("125.000"))  # 525 − 400
    assert portal.tariff_standing(big, dt.date(2026, 1, 5)).used == Decimal("0.000")


def test_the_last_tier_has_no_end_and_no_tariff_gives_nothing(household):
    bill_months(household, {(2026, 1): 600})
    standing = portal.tariff_standing(household, dt.date(2026, 2, 3))
    assert (standing.tier, standing.left_in_tier, standing.next_price) == (3, None, None)
    assert portal.tariff_standing(make_customer(category="industrial"), dt.date(2026, 2, 3)) is None


def test_usage_by_month_sits_beside_the_same_month_last_year(household):
    bill_months(household, {(2025, 3): 11, (2025, 9): 19, (2026, 3): 13, (2026, 8): 18})
    read(household, 7, local(2026, 9, 10))  # September 2026 is open: read, not billed
    with time_machine.travel(local(2026, 9, 20), tick=False):
        usage = portal.usage_by_month(household)
    assert (usage[0].period, usage[-1].period, len(usage)) == ("2025-10", "2026-09", 12)
    by = {u.period: u for u in usage}
    assert (by["2026-03"].volume, by["2026-03"].last_year) == (Decimal("13.000"), Decimal("11.000"))
    assert (by["2026-09"].volume, by["2026-09"].last_year, by["2026-09"].open) == (
        Decimal("7.000"),
        Decimal("19.000"),
        True,
    )
    assert by["2026-08"].last_year is None and not by["2026-08"].open
    data = portal.chart_data(usage)
    assert data["volumes"][-1] == "7.000" and data["last_year"][5] == "11.000"


def test_each_bill_says_paid_part_paid_or_unpaid_and_overdue(household):
    bill_months(household, {(2026, 1): 100, (2026, 2): 100, (2026, 3): 100})
    totals = dict(Bill.objects.values_list("period", "total"))
    pay(household, str(totals["2026-01"] + Decimal("100.00")))  # January paid, February in part
    states, owed = portal.bill_states(household, dt.date(2026, 4, 10))
    by = {s.bill.period: s for s in states}
    assert [by[p].state for p in ("2026-01", "2026-02", "2026-03")] == ["paid", "part_paid", "unpaid"]
    assert by["2026-02"].owed == totals["2026-02"] - Decimal("100.00")
    assert by["2026-02"].overdue and not by["2026-01"].overdue
    assert not by["2026-03"].overdue  # due on 2026-04-16
    assert owed == totals["2026-02"] + totals["2026-03"] - Decimal("100.00")
    assert by["2026-02"].label == "Part-paid"


def test_the_portal_page_shows_the_customer_their_figures(client, household):
    bill_months(household, {(2026, 1): 100, (2026, 2): 200})
    user = make_user("customer", customer=household)
    client.force_login(user)
    with time_machine.travel(local(2026, 3, 10), tick=False):
        page = client.get("/portal/").content.decode()
    assert 'data-testid="tariff-standing"' in page and "50 m³ are left in tier 1" in page
    assert 'id="usage-chart"' in page and "billing/usage_chart.js" in page and "echarts.min.js" in page
    assert page.count('data-testid="bill-state"') == 2 and "Unpaid" in page
    assert 'data-testid="pay-bill"' in page and "/billing/bills/" in page
    assert 'data-testid="portal-tiles"' in page and "/metering/portal/reading/" in page


def test_staff_are_sent_to_their_dashboard_and_strangers_to_log_in(client, household):
    client.force_login(make_user("cashier"))
    assert client.get("/portal/").status_code == 302
    client.logout()
    assert client.get("/portal/").status_code == 302


def test_the_tariff_year_start_comes_from_the_tariff(household):
    from gasworks.billing.models import Tariff

    Tariff.objects.update(year_start_month=11, year_start_day=1)  # a heating-year tariff
    standing = portal.tariff_standing(household, dt.date(2026, 3, 10))
    assert (standing.year_start, standing.year_end) == (dt.date(2025, 11, 1), dt.date(2026, 10, 31))
    assert not Parameter.objects.exists()
