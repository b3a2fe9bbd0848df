"""A billing run reports the accounts it held back and why (readings in review, no reading,
parked), on the run, its page and the API."""

import io

import pytest
import time_machine
from django.core.management import call_command

from gasworks.billing import ledger, runs
from gasworks.billing.models import Account
from tests.billing.helpers import beijing, local, meter_for, read
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(local(2026, 11, 5), tick=False):
        yield


@pytest.fixture
def station():
    beijing()
    billed = make_customer(name="已出账")
    read(billed, 20, local(2026, 10, 10))
    reviewed = make_customer(name="待复核")
    read(reviewed, 20, local(2026, 9, 10))
    spike = read(reviewed, 900, local(2026, 10, 10), status="flagged")
    spike.flags = ["spike"]
    spike.save()
    unread = make_customer(name="未抄表")
    read(unread, 20, local(2026, 9, 10))  # metered, but nothing in October
    no_tariff = make_customer(name="无价目", category="industrial")
    read(no_tariff, 500, local(2026, 10, 10))
    make_customer(name="无表户")  # no meter: LPG only, nothing to bill, not held back
    prepaid = make_customer(name="预付费")
    meter_for(prepaid)
    Account.objects.filter(pk=ledger.account_for(prepaid).pk).update(prepaid=True)
    return {"billed": billed, "reviewed": reviewed, "unread": unread, "no_tariff": no_tariff}


def test_a_run_stores_the_accounts_it_held_back_and_why(station):
    run = runs.execute(runs.start_run("2026-10"))
    assert run.status == "done" and run.bills_created == 1
    assert run.held_back["counts"] == {"parked": 1, "in_review": 1, "no_reading": 1}
    held = {a["reason"]: a for a in run.held_back["accounts"]}
    assert held["in_review"]["customer"] == station["reviewed"].pk and held["in_review"]["detail"] == "spike"
    assert held["no_reading"]["account_no"] == station["unread"].account_no
    assert held["parked"]["customer"] == station["no_tariff"].pk and held["parked"]["detail"] == "no_tariff"
    assert len(run.held_back["accounts"]) == 3


def test_the_run_page_and_the_api_show_them_with_links_to_the_review_queues(admin_client, station):
    run = runs.execute(runs.start_run("2026-10"))
    page = admin_client.get(f"/billing/runs/{run.pk}/").content.decode()
    assert 'data-testid="held-in_review"' in page and 'href="/metering/review/"' in page
    assert 'data-testid="held-parked"' in page and 'href="/billing/reviews/"' in page
    assert station["reviewed"].account_no in page and station["unread"].account_no in page
    body = admin_client.get(f"/api/v1/billing/runs/{run.pk}/").json()
    assert body["held_back"]["counts"]["in_review"] == 1
    assert {a["reason"] for a in body["held_back"]["accounts"]} == {"parked", "in_review", "no_reading"}
    out = io.StringIO()
    call_command("billing_run", "2026-10", no_progress=True, stdout=out)  # a rerun says it again
    assert "held back: 1 parked, 1 in_review, 1 no_reading" in out.getvalue()


def test_a_run_with_nothing_to_bill_says_why():
    beijing()
    waiting = make_customer()
    flagged = read(waiting, 900, local(2026, 10, 10), status="flagged")
    run = runs.execute(runs.start_run("2026-10"))
    assert (run.status, run.bills_created, run.accounts_total) == ("done", 0, 0)
    assert run.held_back["counts"]["in_review"] == 1
    flagged.status = "approved"
    flagged.save()
    again = runs.execute(runs.start_run("2026-10"))
    assert again.bills_created == 1 and not any(again.held_back["counts"].values())


def test_a_run_not_finished_has_an_empty_report_in_the_api(admin_client):
    from gasworks.billing.models import BillingRun

    run = BillingRun.objects.create(period="2026-10")
    body = admin_client.get(f"/api/v1/billing/runs/{run.pk}/").json()
    assert body["held_back"] == {"counts": {}, "accounts": []}


def test_the_portal_tells_the_customer_a_bill_waits_for_a_reading_in_review(client, personas):
    client.force_login(personas["customer"])
    assert 'data-testid="bill-waiting"' not in client.get("/portal/").content.decode()
    read(personas["own_customer"], 900, local(2026, 10, 10), status="flagged")
    page = client.get("/portal/").content.decode()
    assert 'data-testid="bill-waiting"' in page and "2026-10-10" in page


def test_the_run_page_says_why_a_bill_was_parked_in_words(admin_client, station):
    run = runs.execute(runs.start_run("2026-10"))
    page = admin_client.get(f"/billing/runs/{run.pk}/").content.decode()
    parked = page.split('data-testid="held-parked"')[1].split('data-testid="held-')[0]
    assert "no tariff for the account&#x27;s category" in parked and "no_tariff" not in parked
