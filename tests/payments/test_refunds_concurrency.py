"""Online refunds under real concurrency on PostgreSQL: threads with their own connections meet the
payment's row lock. The gateway call must happen with no lock held, and what processing refunds
hold must count against what is left, so parallel refunds never exceed the payment."""

import threading
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from gasworks.billing.models import EntryKind, LedgerEntry
from gasworks.errors import InvalidInput
from gasworks.payments import services
from gasworks.payments.gateways.base import RefundAnswer
from gasworks.payments.gateways.sandbox import SandboxGateway
from gasworks.payments.models import Payment, PaymentStatus, Refund, RefundStatus, SandboxTransaction
from gasworks.system.models import Parameter
from tests.factories import make_customer, make_user
from tests.payments.test_concurrency import _run_all

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
real_refund = SandboxGateway.refund


@pytest.fixture
def paid():
    order = services.create_online_order(make_customer(), "100", None)
    services.handle_callback("sandbox", *SandboxGateway().pay(order))
    order.refresh_from_db()
    assert order.status == PaymentStatus.SUCCEEDED
    return order


def probe(payment_id: int) -> dict:
    """From another thread, on its own connection: can the payment row be locked right now
    (FOR UPDATE NOWAIT), and which refund statuses are committed?"""
    seen: dict = {}

    def run():
        try:
            with transaction.atomic():
                Payment.objects.select_for_update(nowait=True).get(pk=payment_id)
                seen["locked"] = False
        except DatabaseError:
            seen["locked"] = True
        finally:
            seen["refunds"] = list(
                Refund.objects.filter(payment_id=payment_id).values_list("status", flat=True)
            )
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return seen


def test_the_probe_sees_a_held_lock(paid):
    with transaction.atomic():
        Payment.objects.select_for_update().get(pk=paid.pk)
        assert probe(paid.pk)["locked"] is True
    assert probe(paid.pk)["locked"] is False


@pytest.mark.parametrize("path", ["request", "approve", "retry"])
def test_no_lock_is_held_during_the_gateway_call(paid, monkeypatch, path):
    cashier, supervisor = make_user("cashier"), make_user("admin")
    during: list[dict] = []

    def watching(self, payment, amount, ref):
        during.append(probe(payment.pk))
        return real_refund(self, payment, amount, ref)

    if path == "approve":
        Parameter.objects.create(key="refund_approval_threshold", value="10")
        refund = services.request_refund(paid, "30", "overpaid", cashier)
        assert refund.status == RefundStatus.AWAITING_APPROVAL
        monkeypatch.setattr(SandboxGateway, "refund", watching)
        refund = services.decide_refund(refund, True, supervisor)
    elif path == "retry":
        monkeypatch.setattr(
            SandboxGateway, "refund", lambda self, *a: RefundAnswer(RefundAnswer.FAILED, message="no")
        )
        refund = services.request_refund(paid, "30", "overpaid", cashier)
        assert refund.status == RefundStatus.FAILED
        monkeypatch.setattr(SandboxGateway, "refund", watching)
        refund = services.retry_refund(refund, cashier)
    else:
        monkeypatch.setattr(SandboxGateway, "refund", watching)
        refund = services.request_refund(paid, "30", "overpaid", cashier)
    # During the call: the payment row was free, and the refund was committed as processing.
    assert during == [{"locked": False, "refunds": [RefundStatus.PROCESSING]}]
    assert refund.status == RefundStatus.DONE
    paid.refresh_from_db()
    assert paid.refunded_amount == Decimal("30.00")
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 1


def test_parallel_refunds_never_exceed_the_payment(paid, monkeypatch):
    """Twelve cashiers refund 30 of the same 100 at once. Every gateway call is held until all
    twelve requests are through their first transaction, so the three that got in are still
    processing while the other nine are judged: those must be refused."""
    cashiers = [make_user("cashier") for _ in range(12)]
    count = {"in_gateway": 0, "refused": 0}
    everyone_through = threading.Condition()

    def held(self, payment, amount, ref):
        with everyone_through:
            count["in_gateway"] += 1
            everyone_through.notify_all()
            everyone_through.wait_for(lambda: sum(count.values()) == len(cashiers), timeout=30)
        return real_refund(self, payment, amount, ref)

    def refund(cashier):
        try:
            return services.request_refund(Payment.objects.get(pk=paid.pk), "30", "overpaid", cashier).status
        except InvalidInput as exc:
            with everyone_through:
                count["refused"] += 1
                everyone_through.notify_all()
            return exc.code

    monkeypatch.setattr(SandboxGateway, "refund", held)
    results = _run_all([lambda c=c: refund(c) for c in cashiers])
    assert sorted(results) == [RefundStatus.DONE] * 3 + ["refund_too_large"] * 9
    assert count == {"in_gateway": 3, "refused": 9}
    paid.refresh_from_db()
    assert paid.refunded_amount == Decimal("90.00") and paid.status == PaymentStatus.PARTLY_REFUNDED
    assert Refund.objects.filter(status=RefundStatus.DONE).count() == 3 and Refund.objects.count() == 3
    entries = LedgerEntry.objects.filter(kind=EntryKind.REFUND)
    assert sorted(e.amount for e in entries) == [Decimal("-30.00")] * 3
    assert SandboxTransaction.objects.get(order_no=paid.order_no).refunded == Decimal("90.00")


def test_parallel_reconciliations_settle_a_crashed_refund_once(paid, monkeypatch):
    def refund_then_die(self, payment, amount, ref):
        real_refund(self, payment, amount, ref)
        raise SystemExit("worker killed")

    monkeypatch.setattr(SandboxGateway, "refund", refund_then_die)
    with pytest.raises(SystemExit):
        services.request_refund(paid, "45", "overpaid", make_user("cashier"))
    monkeypatch.setattr(SandboxGateway, "refund", real_refund)
    results = _run_all([lambda: services.reconcile_refunds(0) for _ in range(8)])
    assert sum(r["refunds_done"] for r in results) >= 1  # booked by one; the others found it done
    refund = Refund.objects.get()
    assert refund.status == RefundStatus.DONE
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 1
    assert SandboxTransaction.objects.get(order_no=paid.order_no).refunded == Decimal("45.00")
    paid.refresh_from_db()
    assert paid.refunded_amount == Decimal("45.00")
