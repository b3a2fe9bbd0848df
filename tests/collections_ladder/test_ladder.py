"""The ladder's steps by days overdue and debt, the days and customers it spares, its notices and
events, and what a payment does to it."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from gasworks.billing import adjustments, ledger
from gasworks.billing.models import LedgerEntry
from gasworks.lib import events
from gasworks.notifications.models import Message
from gasworks.payments import services as payments
from gasworks.safety.models import Hazard, HazardStatus
from gasworks.service.collections import services
from gasworks.service.collections.events import (
    DisconnectionOrdered,
    LadderHolds,
    ReconnectionDue,
)
from gasworks.service.collections.models import (
    CollectionRun,
    CollectionStep,
    Holiday,
    HolidayKind,
    MedicalNeed,
    SupplyCut,
)
from gasworks.system import parameters
from tests.collections_ladder.helpers import DUE, NOW, TODAY, overdue_bill
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db
ZERO = {"reminders": 0, "final_notices": 0, "disconnection_orders": 0}
# Working days (Tuesday, Wednesday, Wednesday) 19, 34 and 48 days after DUE.
REMIND_ON, FINAL_ON, CUT_ON = date(2026, 10, 20), date(2026, 11, 4), date(2026, 11, 18)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def steps(customer) -> list[tuple[str, str, bool]]:
    return list(
        CollectionStep.objects.filter(customer=customer).order_by("pk").values_list("step", "status", "live")
    )


def climb(*days):
    return [services.run(day) for day in days]


def test_it_takes_each_step_on_its_day_and_nothing_twice():
    customer = make_customer()
    overdue_bill(customer, "300.00")
    assert services.run(date(2026, 10, 15)) == ZERO  # 14 days: too early
    assert services.run(REMIND_ON) == {**ZERO, "reminders": 1}
    assert services.run(REMIND_ON) == ZERO  # the same day again
    assert services.run(FINAL_ON) == {**ZERO, "final_notices": 1}
    assert services.run(CUT_ON) == {**ZERO, "disconnection_orders": 1}
    assert services.run(CUT_ON) == ZERO
    assert steps(customer) == [  # the rung stood on is done once the next is taken
        ("reminder", "done", True),
        ("final_notice", "done", True),
        ("disconnection_order", "open", True),
    ]
    step = CollectionStep.objects.get(customer=customer, step="reminder")
    assert (step.amount, step.oldest_due, step.created_on, step.days_overdue) == (
        Decimal("300.00"),
        DUE,
        REMIND_ON,
        19,
    )
    assert CollectionRun.objects.count() == 6


def test_a_customer_found_late_climbs_one_step_a_day():
    customer = make_customer()
    overdue_bill(customer)
    assert services.run(CUT_ON) == {**ZERO, "reminders": 1}
    assert services.run(date(2026, 11, 19)) == {**ZERO, "final_notices": 1}
    assert services.run(date(2026, 11, 23)) == {**ZERO, "disconnection_orders": 1}


def test_a_small_debt_is_not_cut():
    customer = make_customer()
    overdue_bill(customer, "199.99")  # below collections_disconnection_min_debt (200)
    climb(REMIND_ON, FINAL_ON)
    assert services.run(CUT_ON) == ZERO
    parameters.forget()


def test_no_disconnection_where_a_hazard_is_open_or_a_medical_need_registered():
    hazard, medical, plain = make_customer(), make_customer(), make_customer()
    for customer in (hazard, medical, plain):
        overdue_bill(customer)
    Hazard.objects.create(
        customer=hazard, level="major", description="漏气", deadline=date(2026, 12, 1), raised_at=NOW
    )
    MedicalNeed.objects.create(customer=medical, note="家中制氧机", registered_on=date(2026, 1, 5))
    climb(REMIND_ON, FINAL_ON)
    assert services.run(CUT_ON) == {**ZERO, "disconnection_orders": 1}
    assert CollectionStep.objects.get(step="disconnection_order").customer == plain
    # A closed hazard no longer spares the customer.
    Hazard.objects.filter(customer=hazard).update(status=HazardStatus.CLOSED)
    assert services.run(date(2026, 11, 19)) == {**ZERO, "disconnection_orders": 1}


@pytest.mark.parametrize(
    ("day", "calendar", "cut"),
    [
        (date(2026, 11, 20), {}, False),  # a Friday: the day before the weekend
        (date(2026, 11, 21), {}, False),  # a Saturday
        (date(2026, 11, 19), {date(2026, 11, 20): HolidayKind.HOLIDAY}, False),  # before a holiday
        (date(2026, 11, 18), {date(2026, 11, 18): HolidayKind.HOLIDAY}, False),  # a holiday
        # 调休: the Saturday is a working day, so the Friday before it is not the eve of a day off.
        (date(2026, 11, 20), {date(2026, 11, 21): HolidayKind.WORKDAY}, True),
        (date(2026, 11, 19), {}, True),
    ],
)
def test_no_disconnection_before_a_day_off(day, calendar, cut):
    for holiday, kind in calendar.items():
        Holiday.objects.create(day=holiday, kind=kind, name="节假日")
    customer = make_customer()
    overdue_bill(customer)
    climb(REMIND_ON, FINAL_ON)
    assert services.run(day)["disconnection_orders"] == int(cut)


def test_each_step_sends_its_notice_and_an_order_is_published(django_capture_on_commit_callbacks):
    customer = make_customer()
    overdue_bill(customer, "300.00")
    ordered: list = []
    events.subscribe(DisconnectionOrdered, ordered.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            climb(REMIND_ON, FINAL_ON, CUT_ON, CUT_ON)
    finally:
        events.unsubscribe(DisconnectionOrdered, ordered.append)
    sent = Message.objects.filter(customer=customer, channel="portal").order_by("pk")
    assert [m.event for m in sent] == ["overdue_reminder", "final_notice", "disconnection_notice"]
    assert sent[0].variables["amount"] == "300.00" and sent[0].variables["due_on"] == "2026-10-01"
    order = CollectionStep.objects.get(step="disconnection_order")
    assert ordered == [DisconnectionOrdered(customer.pk, order.pk)]


def test_accounts_on_hold_are_skipped():
    held, other = make_customer(), make_customer()
    overdue_bill(held)
    overdue_bill(other)

    def holds(question):
        assert question.as_of == REMIND_ON
        return {held.pk}

    events.answer(LadderHolds, holds)
    try:
        assert services.run(REMIND_ON) == {**ZERO, "reminders": 1}
    finally:
        events._answerers[LadderHolds].remove(holds)
    assert not CollectionStep.objects.filter(customer=held).exists()


def test_a_payment_that_clears_what_is_overdue_cancels_the_open_steps():
    customer, cashier = make_customer(), make_user("cashier")
    overdue_bill(customer, "300.00")
    climb(REMIND_ON, FINAL_ON)
    payments.take_counter_payment(customer, Decimal("100.00"), "cash", cashier)
    assert steps(customer) == [("reminder", "done", True), ("final_notice", "open", True)]  # debt left
    payments.take_counter_payment(customer, Decimal("200.00"), "cash", cashier)
    assert steps(customer) == [("reminder", "done", False), ("final_notice", "cancelled", False)]
    # A new debt later starts a new ladder.
    overdue_bill(customer, "80.00", date(2026, 11, 1))
    assert services.run(date(2026, 11, 24)) == {**ZERO, "reminders": 1}


def test_a_bill_not_yet_due_does_not_keep_the_ladder():
    customer, cashier = make_customer(), make_user("cashier")
    overdue_bill(customer, "300.00")
    climb(REMIND_ON)
    overdue_bill(customer, "50.00", date(2026, 12, 10))
    payments.take_counter_payment(customer, Decimal("300.00"), "cash", cashier)
    assert steps(customer) == [("reminder", "cancelled", False)]


def test_a_cut_customer_who_pays_is_due_for_reconnection(django_capture_on_commit_callbacks):
    customer, cashier = make_customer(), make_user("cashier")
    overdue_bill(customer, "300.00")
    climb(REMIND_ON, FINAL_ON, CUT_ON)
    order = CollectionStep.objects.get(step="disconnection_order")
    services.disconnection_done(order.pk)
    services.disconnection_done(order.pk)  # reported twice: nothing changes
    assert SupplyCut.objects.get(customer=customer).reconnection_due_at is None
    due: list = []
    events.subscribe(ReconnectionDue, due.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            payments.take_counter_payment(customer, Decimal("300.00"), "cash", cashier)
    finally:
        events.unsubscribe(ReconnectionDue, due.append)
    assert due == [ReconnectionDue(customer.pk)]
    assert steps(customer) == [
        ("reminder", "done", False),
        ("final_notice", "done", False),
        ("disconnection_order", "done", False),
    ]
    assert SupplyCut.objects.get(customer=customer).reconnection_due_at is not None


def test_the_crew_cutting_a_customer_does_that_customers_open_order_only():
    customer, other = make_customer(), make_customer()
    overdue_bill(customer, "300.00")
    overdue_bill(other, "300.00")
    climb(REMIND_ON, FINAL_ON, CUT_ON)
    done = services.disconnection_done_for(customer.pk)
    assert done is not None and done.customer_id == customer.pk and done.step == "disconnection_order"
    assert steps(customer)[-1] == ("disconnection_order", "done", True)
    assert steps(other)[-1] == ("disconnection_order", "open", True)
    assert list(SupplyCut.objects.values_list("customer_id", flat=True)) == [customer.pk]
    # Reported again, or for a customer with no open order (a cut asked at the desk): nothing.
    assert services.disconnection_done_for(customer.pk) is None
    assert services.disconnection_done_for(make_customer().pk) is None
    assert SupplyCut.objects.count() == 1


def test_a_credit_adjustment_that_clears_the_debt_ends_the_ladder_as_a_payment_does():
    customer, manager = make_customer(), make_user("manager")
    overdue_bill(customer, "300.00")
    climb(REMIND_ON, FINAL_ON)
    # A credit that leaves part of the debt overdue keeps the ladder.
    adjustments.request_adjustment(customer, Decimal("100.00"), "meter over-read", by=manager)
    assert steps(customer) == [("reminder", "done", True), ("final_notice", "open", True)]
    adjustments.request_adjustment(customer, Decimal("200.00"), "meter over-read, rest", by=manager)
    assert steps(customer) == [("reminder", "done", False), ("final_notice", "cancelled", False)]


def test_any_money_in_ends_a_cut_ladder_through_the_ledger(django_capture_on_commit_callbacks):
    """A reversed charge (the bill's charge undone) is money in like a payment: the ladder ends,
    the supply is due for reconnection, and the desk's disconnection order is cancelled."""
    customer = make_customer()
    bill = overdue_bill(customer, "300.00")
    climb(REMIND_ON, FINAL_ON, CUT_ON)
    due: list = []
    events.subscribe(ReconnectionDue, due.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.disconnection_done_for(customer.pk)
            charge = LedgerEntry.objects.get(idempotency_key=f"bill:{bill.pk}")
            ledger.reverse(charge, "billed in error")
    finally:
        events.unsubscribe(ReconnectionDue, due.append)
    assert due == [ReconnectionDue(customer.pk)]
    assert [live for _step, _status, live in steps(customer)] == [False, False, False]
    assert SupplyCut.objects.get(customer=customer).reconnection_due_at is not None


def test_a_charge_ends_nothing_and_money_in_without_a_ladder_costs_one_query(django_assert_num_queries):
    customer, other = make_customer(), make_customer()
    overdue_bill(customer, "300.00")
    climb(REMIND_ON)
    overdue_bill(customer, "50.00")  # a charge (money out): the ladder stays
    assert steps(customer) == [("reminder", "open", True)]
    overdue_bill(other, "10.00")
    with django_assert_num_queries(1):  # nobody credited has a live step: one look, no UPDATE
        services.settle_credited([other.pk])


def test_a_cancelled_order_cannot_be_done():
    customer, cashier = make_customer(), make_user("cashier")
    overdue_bill(customer, "300.00")
    climb(REMIND_ON, FINAL_ON, CUT_ON)
    payments.take_counter_payment(customer, Decimal("300.00"), "cash", cashier)
    order = CollectionStep.objects.get(step="disconnection_order")
    with pytest.raises(services.DomainError) as error:
        services.disconnection_done(order.pk)
    assert error.value.code == "wrong_status"
    assert not SupplyCut.objects.exists()


def test_the_days_must_grow():
    from gasworks.system.models import Parameter

    Parameter.objects.create(key="collections_final_notice_days", value="10")
    parameters.forget()
    try:
        with pytest.raises(services.DomainError) as error:
            services.run(REMIND_ON)
        assert error.value.code == "bad_parameters"
        assert not CollectionRun.objects.exists()
    finally:
        parameters.forget()


def test_today_the_candidates_come_from_the_arrears_snapshot_and_the_accounts_moved_since():
    from gasworks.billing import arrears, ledger
    from gasworks.billing.models import EntryKind

    paid, late, fresh = make_customer(), make_customer(), make_customer()
    for customer in (paid, late):
        overdue_bill(customer, "300.00")
    arrears.refresh(TODAY)  # billing's daily job, before the ladder's
    ledger.post(paid, EntryKind.PAYMENT, Decimal("300.00"))  # after the snapshot: read live
    overdue_bill(fresh, "300.00")  # in debt after the snapshot: read live too
    assert ledger.arrears_source(TODAY)[0] == "snapshot"
    assert services.run(TODAY) == {**ZERO, "reminders": 2}
    assert set(CollectionStep.objects.values_list("customer_id", flat=True)) == {late.pk, fresh.pk}
