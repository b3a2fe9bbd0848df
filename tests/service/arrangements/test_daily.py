"""The daily run: reminders once per instalment; a missed instalment or an unpaid new bill ends
the arrangement after the grace period (not before), the customer is told, late fees resume."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from gasworks.billing import arrears
from gasworks.billing.models import EntryKind, LedgerEntry
from gasworks.notifications.models import Message
from gasworks.service.arrangements import daily, services
from gasworks.service.arrangements.models import ArrangementStatus
from tests.factories import make_customer
from tests.service.arrangements.helpers import bill, in_debt, pay

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def arranged(frozen, personas):
    """400.00 overdue: 100 down today (27 Nov), then 100 on 20 Dec, 20 Jan, 20 Feb; down paid."""
    customer = make_customer()
    in_debt(customer, "400.00")
    arrangement = services.make_arrangement(
        customer, down_payment="100", instalments=3, first_due_on=date(2026, 12, 20)
    )
    pay(customer, "100", personas["cashier"])
    return arrangement


def _status(arrangement):
    arrangement.refresh_from_db()
    return arrangement.status


def test_it_reminds_once_before_an_instalment(arranged):
    assert daily.run(date(2026, 12, 16)) == {"reminders": 0, "ended": 0}
    assert daily.run(date(2026, 12, 17)) == {"reminders": 1, "ended": 0}
    daily.run(date(2026, 12, 18))  # offered again, the outbox key keeps it to one
    sent = Message.objects.filter(customer_id=arranged.customer_id, event="instalment_due")
    assert sent.filter(channel="portal").count() == 1
    assert "100.00" in sent.first().variables["amount"]


def test_a_missed_instalment_ends_it_after_the_grace_days_only(arranged, personas):
    assert daily.run(date(2026, 12, 27)) == {"reminders": 0, "ended": 0}  # 7 days of grace
    assert _status(arranged) == ArrangementStatus.ACTIVE
    assert daily.run(date(2026, 12, 28))["ended"] == 1
    arranged.refresh_from_db()
    assert arranged.status == ArrangementStatus.ENDED and arranged.end_reason == "missed_instalment"
    assert arranged.ended_on == date(2026, 12, 28)
    told = Message.objects.get(customer_id=arranged.customer_id, event="arrangement_ended", channel="portal")
    assert told.variables["amount"] == "300.00"
    assert daily.run(date(2026, 12, 28)) == {"reminders": 0, "ended": 0}  # a rerun: nothing new
    # back to the normal rules: the late fee is charged again from the day it ended
    assert arrears.apply_late_fees(date(2026, 12, 28)) == 1
    assert LedgerEntry.objects.filter(
        account__customer_id=arranged.customer_id, kind=EntryKind.LATE_FEE
    ).exists()


def test_a_payment_in_the_grace_days_keeps_it(arranged, personas, frozen):
    frozen.move_to("2026-12-25 10:00 +0800")
    customer = arranged.customer
    pay(customer, "100", personas["cashier"])
    assert daily.run(date(2026, 12, 28))["ended"] == 0
    assert _status(arranged) == ArrangementStatus.ACTIVE
    assert arranged.instalments.get(seq=1).met_on == date(2026, 12, 25)


def test_a_missed_down_payment_ends_it(frozen, personas):
    customer = make_customer()
    in_debt(customer, "400.00")
    arrangement = services.make_arrangement(
        customer, down_payment="50", instalments=2, first_due_on=date(2027, 1, 5)
    )
    assert daily.run(date(2026, 12, 4))["ended"] == 0
    assert daily.run(date(2026, 12, 5))["ended"] == 1
    assert _status(arrangement) == ArrangementStatus.ENDED


def test_a_new_bill_is_owed_on_its_own_date(arranged, personas, frozen):
    customer = arranged.customer
    bill(customer, "2026-12", "60.00", date(2027, 1, 10))  # after the arrangement: normal rules
    frozen.move_to("2026-12-20 10:00 +0800")
    pay(customer, "100", personas["cashier"])  # the instalment, not the new bill
    assert daily.run(date(2027, 1, 17))["ended"] == 0  # in the grace days
    ended = daily.run(date(2027, 1, 18))
    assert ended["ended"] == 1
    arranged.refresh_from_db()
    assert arranged.end_reason == "new_bill_unpaid"


def test_paying_the_instalment_and_the_new_bill_keeps_it(arranged, personas, frozen):
    customer = arranged.customer
    bill(customer, "2026-12", "60.00", date(2027, 1, 10))
    frozen.move_to("2026-12-20 10:00 +0800")
    pay(customer, "160", personas["cashier"])  # counted toward the arrangement first, all of it
    assert daily.run(date(2027, 1, 18))["ended"] == 0
    arranged.refresh_from_db()
    assert arranged.paid == D("260.00") and arranged.status == ArrangementStatus.ACTIVE
    assert arranged.instalments.get(seq=2).met_on is None  # 60 of 100 toward January's


def test_the_command_runs_the_day(arranged, capsys):
    call_command("run_arrangements", "--date", "2026-12-28")
    assert "1 arrangements ended" in capsys.readouterr().out
    assert _status(arranged) == ArrangementStatus.ENDED
