"""Online refunds in steps: committed as processing, the gateway asked outside any transaction,
its answer booked once in a second transaction; what is left processing is settled by
reconciliation. The sandbox gateway keeps its own books (SandboxTransaction.refunds), so a
double refund at the "provider" would show there."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from gasworks.billing import ledger
from gasworks.billing.models import EntryKind, LedgerEntry
from gasworks.errors import DomainError, InvalidInput
from gasworks.payments import services
from gasworks.payments.gateways.base import RefundAnswer, unreachable
from gasworks.payments.gateways.sandbox import SandboxGateway
from gasworks.payments.models import PaymentStatus, RefundStatus, SandboxTransaction

pytestmark = pytest.mark.django_db
real_refund = SandboxGateway.refund


@pytest.fixture
def paid(personas, pay_order):
    """A sandbox order of 100.00, paid at the sandbox and settled."""
    order = services.create_online_order(personas["own_customer"], "100", personas["customer"])
    services.handle_callback("sandbox", *pay_order(order))
    order.refresh_from_db()
    assert order.status == PaymentStatus.SUCCEEDED
    return order


def no_answer(self, *args):
    raise unreachable()  # what the adapters raise when the gateway times out or cannot be reached


def refund_entries():
    return LedgerEntry.objects.filter(kind=EntryKind.REFUND)


def sandbox_refunded(payment) -> Decimal:
    return SandboxTransaction.objects.get(order_no=payment.order_no).refunded


def assert_nothing_refunded(payment, customer):
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED and payment.refunded_amount == 0
    assert refund_entries().count() == 0
    assert ledger.balance(customer) == Decimal("100.00")


def test_a_refund_the_gateway_makes_is_done_with_one_ledger_entry(paid, personas):
    refund = services.request_refund(paid, "30", "overpaid", personas["cashier"])
    assert refund.status == RefundStatus.DONE and refund.gateway_refund_id == f"SBXR-RF{refund.pk}"
    refund.refresh_from_db()
    assert refund.sent_at is not None and refund.finished_at >= refund.sent_at
    paid.refresh_from_db()
    assert paid.status == PaymentStatus.PARTLY_REFUNDED and paid.refunded_amount == Decimal("30.00")
    (entry,) = refund_entries()
    assert entry.amount == Decimal("-30.00") and entry.idempotency_key == f"refund:{refund.pk}"
    assert sandbox_refunded(paid) == Decimal("30.00")
    # Reconciliation has nothing left to do, and asking again changes nothing.
    assert services.reconcile_refunds(0)["refunds_done"] == 0
    assert refund_entries().count() == 1 and sandbox_refunded(paid) == Decimal("30.00")


def test_a_refund_the_gateway_refuses_is_failed_and_posts_nothing(paid, personas, monkeypatch):
    monkeypatch.setattr(
        SandboxGateway, "refund", lambda self, *a: RefundAnswer(RefundAnswer.FAILED, message="余额不足")
    )
    refund = services.request_refund(paid, "30", "overpaid", personas["cashier"])
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED and refund.gateway_error == "余额不足"
    assert_nothing_refunded(paid, personas["own_customer"])
    assert services.refund_room(paid) == Decimal("100.00")  # the amount is refundable again
    assert services.reconcile_refunds(0) == {
        "refunds_done": 0,
        "refunds_failed": 0,
        "refunds_processing": 0,
        "refund_errors": 0,
    }


def test_a_failed_refund_can_be_sent_again_while_the_payment_has_room(paid, personas, monkeypatch):
    cashier = personas["cashier"]
    monkeypatch.setattr(
        SandboxGateway, "refund", lambda self, *a: RefundAnswer(RefundAnswer.FAILED, message="busy day")
    )
    refund = services.request_refund(paid, "60", "overpaid", cashier)
    other = services.request_refund(paid, "50", "moved out", cashier)
    assert (refund.status, other.status) == (RefundStatus.FAILED, RefundStatus.FAILED)
    monkeypatch.setattr(SandboxGateway, "refund", real_refund)
    services.retry_refund(other, cashier)
    # 50 refunded, 60 do not fit any more: refused, and the refund stays failed.
    with pytest.raises(InvalidInput) as err:
        services.retry_refund(refund, cashier)
    assert err.value.code == "refund_too_large"
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED and refund.gateway_error == "busy day"
    other.refresh_from_db()
    assert other.status == RefundStatus.DONE and other.gateway_error == ""
    with pytest.raises(DomainError) as err:
        services.retry_refund(other, cashier)
    assert err.value.code == "refund_not_failed"
    assert refund_entries().count() == 1 and sandbox_refunded(paid) == Decimal("50.00")


def test_no_answer_leaves_it_processing_and_reconciliation_books_the_refund_made(paid, personas, monkeypatch):
    def made_then_timed_out(self, payment, amount, ref):
        real_refund(self, payment, amount, ref)  # the provider refunded...
        raise unreachable()  # ...but its answer never arrived

    monkeypatch.setattr(SandboxGateway, "refund", made_then_timed_out)
    refund = services.request_refund(paid, "40", "overpaid", personas["cashier"])
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PROCESSING and "could not be reached" in refund.gateway_error
    assert_nothing_refunded(paid, personas["own_customer"])
    assert services.refund_room(paid) == Decimal("60.00")  # held while processing
    # Not yet: reconciliation leaves a refund sent less than the parameter's minutes ago alone.
    assert services.reconcile_refunds()["refunds_done"] == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        out = StringIO()
        call_command("reconcile_payments", stdout=out)
    assert "refunds_done=1" in out.getvalue()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE and refund.gateway_error == ""
    assert refund_entries().count() == 1 and sandbox_refunded(paid) == Decimal("40.00")
    paid.refresh_from_db()
    assert paid.refunded_amount == Decimal("40.00")


def test_no_answer_then_a_refusal_on_the_second_try_fails_it(paid, personas, monkeypatch):
    monkeypatch.setattr(SandboxGateway, "refund", no_answer)
    refund = services.request_refund(paid, "40", "overpaid", personas["cashier"])
    assert refund.status == RefundStatus.PROCESSING
    # Still no answer: it stays processing, the reason noted.
    counts = services.reconcile_refunds(0)
    assert counts["refund_errors"] == 1 and counts["refunds_failed"] == 0
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PROCESSING
    # The gateway never took it (no refund under RF{pk}): sent again, and refused this time.
    monkeypatch.setattr(
        SandboxGateway, "refund", lambda self, *a: RefundAnswer(RefundAnswer.FAILED, message="trade closed")
    )
    assert services.reconcile_refunds(0)["refunds_failed"] == 1
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED and refund.gateway_error == "trade closed"
    assert_nothing_refunded(paid, personas["own_customer"])
    assert sandbox_refunded(paid) == 0


def test_a_crash_after_the_gateway_call_is_settled_once_by_reconciliation(paid, personas, monkeypatch):
    def refund_then_die(self, payment, amount, ref):
        real_refund(self, payment, amount, ref)
        raise SystemExit("worker killed")  # between the gateway's answer and our second transaction

    monkeypatch.setattr(SandboxGateway, "refund", refund_then_die)
    with pytest.raises(SystemExit):
        services.request_refund(paid, "25", "overpaid", personas["cashier"])
    (refund,) = paid.refunds.all()
    assert refund.status == RefundStatus.PROCESSING and sandbox_refunded(paid) == Decimal("25.00")
    assert_nothing_refunded(paid, personas["own_customer"])
    monkeypatch.setattr(SandboxGateway, "refund", real_refund)
    for _ in range(3):
        services.reconcile_refunds(0)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE
    assert sandbox_refunded(paid) == Decimal("25.00")  # the provider refunded once
    assert refund_entries().count() == 1
    paid.refresh_from_db()
    assert paid.refunded_amount == Decimal("25.00") and paid.status == PaymentStatus.PARTLY_REFUNDED
    assert ledger.balance(personas["own_customer"]) == Decimal("75.00")


def test_booking_an_answer_twice_posts_once(paid, personas, monkeypatch):
    monkeypatch.setattr(SandboxGateway, "refund", no_answer)
    refund = services.request_refund(paid, "100", "cancelled", personas["cashier"])
    done = RefundAnswer(RefundAnswer.DONE, "X1")
    services._book_refund(refund, done, None)
    services._book_refund(refund, done, None)
    services._book_refund(refund, RefundAnswer(RefundAnswer.FAILED, message="late"), None)
    refund.refresh_from_db()
    paid.refresh_from_db()
    assert refund.status == RefundStatus.DONE and refund.gateway_refund_id == "X1"
    assert paid.status == PaymentStatus.REFUNDED and paid.refunded_amount == Decimal("100.00")
    assert refund_entries().count() == 1


def test_processing_refunds_count_as_taken(paid, personas, monkeypatch):
    cashier = personas["cashier"]
    monkeypatch.setattr(SandboxGateway, "refund", no_answer)
    services.request_refund(paid, "60", "first", cashier)  # processing
    monkeypatch.setattr(SandboxGateway, "refund", real_refund)
    with pytest.raises(InvalidInput) as err:
        services.request_refund(paid, "50", "second", cashier)
    assert err.value.code == "refund_too_large" and "40.00" in err.value.message
    assert paid.refunds.count() == 1
    services.request_refund(paid, "40", "second", cashier)
    paid.refresh_from_db()
    assert services.refund_room(paid) == 0
    assert refund_entries().count() == 1 and sandbox_refunded(paid) == Decimal("40.00")


def test_an_approved_online_refund_goes_to_the_gateway_after_the_approval(paid, personas):
    from gasworks.system.models import Parameter

    Parameter.objects.create(key="refund_approval_threshold", value="50")
    refund = services.request_refund(paid, "80", "cancelled", personas["cashier"])
    assert refund.status == RefundStatus.AWAITING_APPROVAL and sandbox_refunded(paid) == 0
    refund = services.decide_refund(refund, True, personas["admin"])
    assert refund.status == RefundStatus.DONE and refund.decided_by == personas["admin"]
    assert sandbox_refunded(paid) == Decimal("80.00") and refund_entries().count() == 1


def test_illegal_refund_moves_are_refused(paid, personas):
    refund = services.request_refund(paid, "10", "overpaid", personas["cashier"])
    with pytest.raises(DomainError) as err:
        refund.set_status(RefundStatus.PROCESSING)
    assert err.value.code == "illegal_transition"
    assert refund.gateway_ref == f"RF{refund.pk}"


def test_a_refund_of_an_order_the_sandbox_never_saw_fails(personas):
    from gasworks.payments.gateways.base import Notification

    order = services.create_online_order(personas["own_customer"], "100", personas["customer"])
    services.settle("sandbox", Notification(order.order_no, "SBXGHOST", Decimal("100"), "CNY", True))
    refund = services.request_refund(order, "10", "overpaid", personas["cashier"])
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED and refund.gateway_error
    assert refund_entries().count() == 0


def test_refund_durability_refuses_an_outer_transaction(paid, personas):
    """A caller's transaction would put the gateway call inside it: refused before anything."""
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        services.request_refund(paid, "10", "overpaid", personas["cashier"])
    assert paid.refunds.count() == 0 and sandbox_refunded(paid) == 0
