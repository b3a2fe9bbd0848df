"""The parts of the service app together: the collections ladder's disconnection order is the
desk's work order, the crew's cut moves the ladder on, a payment that clears the debt opens the
reconnection order, and a move-out completes the desk request it came from."""

from decimal import Decimal

import pytest
import time_machine

from gasworks.payments import services as payments
from gasworks.service.collections.models import CollectionStep, SupplyCut
from gasworks.service.desk import services as desk
from gasworks.service.desk.models import RequestSource, RequestStatus, ServiceRequest
from gasworks.service.moveout import services as moveout
from tests.collections_ladder.helpers import NOW, overdue_bill
from tests.collections_ladder.test_ladder import CUT_ON, FINAL_ON, REMIND_ON, climb
from tests.factories import make_customer, make_user
from tests.moveout.helpers import HOLDER, MOVE_DAY, billed_account, order

pytestmark = pytest.mark.django_db


def test_the_ladders_cut_and_reconnection_are_the_desks_work_orders(django_capture_on_commit_callbacks):
    customer, cashier, manager = make_customer(), make_user("cashier"), make_user("manager")
    with time_machine.travel(NOW, tick=False):
        overdue_bill(customer, "300.00")
        climb(REMIND_ON, FINAL_ON, CUT_ON)
        climb(CUT_ON)  # a rerun finds the order open: no second work order
        cut = ServiceRequest.objects.get(customer=customer, kind="disconnection")
        assert (cut.source, cut.status) == (RequestSource.SYSTEM, RequestStatus.OPEN)

        cut = desk.assign(cut, manager, by=manager)
        cut = desk.start(cut, by=manager)
        desk.complete(cut, "valve closed at the riser", by=manager)
        step = CollectionStep.objects.get(customer=customer, step="disconnection_order")
        assert step.status == "done" and SupplyCut.objects.filter(customer=customer).exists()
        assert not ServiceRequest.objects.filter(kind="reconnection").exists()

        with django_capture_on_commit_callbacks(execute=True):
            payments.take_counter_payment(customer, Decimal("300.00"), "cash", cashier)
        again = ServiceRequest.objects.get(customer=customer, kind="reconnection")
        assert (again.source, again.status) == (RequestSource.SYSTEM, RequestStatus.OPEN)


def test_a_debt_paid_before_the_crew_went_cancels_the_disconnection_order():
    customer, cashier = make_customer(), make_user("cashier")
    with time_machine.travel(NOW, tick=False):
        overdue_bill(customer, "300.00")
        climb(REMIND_ON, FINAL_ON, CUT_ON)
        order = ServiceRequest.objects.get(customer=customer, kind="disconnection")
        payments.take_counter_payment(customer, Decimal("100.00"), "cash", cashier)
        order.refresh_from_db()
        assert order.status == RequestStatus.OPEN  # a debt is left: the crew still goes
        payments.take_counter_payment(customer, Decimal("200.00"), "cash", cashier)
    order.refresh_from_db()
    assert order.status == RequestStatus.CANCELLED and "paid" in order.outcome
    assert CollectionStep.objects.get(customer=customer, step="disconnection_order").status == "cancelled"
    assert not ServiceRequest.objects.filter(kind="reconnection").exists()  # never cut: nothing to reopen


def test_a_move_out_completes_the_desk_request_it_came_from(django_capture_on_commit_callbacks, personas):
    customer, meter = billed_account()
    with time_machine.travel(MOVE_DAY, tick=False):
        request = desk.open_request(
            customer, "transfer", "新户主过户", source="counter", by=personas["cashier"]
        )
        with django_capture_on_commit_callbacks(execute=True):
            moveout.move_out(
                customer, order(meter, new_holder=HOLDER, request_id=request.pk), by=personas["cashier"]
            )
    request.refresh_from_db()
    assert request.status == RequestStatus.DONE
