import json
from decimal import Decimal

import pytest

from gasworks.billing import ledger
from gasworks.billing.models import EntryKind, LedgerEntry
from gasworks.errors import DomainError, InvalidInput, NotAllowed
from gasworks.payments import cards, services
from gasworks.payments.cardwriter import FileCardWriter
from gasworks.payments.models import CardPurchase, CardStatus, Payment, PaymentStatus, RefundStatus
from gasworks.safety import interlock

pytestmark = pytest.mark.django_db


def test_it_refunds_partly_then_fully_with_ledger_entries(personas):
    customer, cashier = personas["own_customer"], personas["cashier"]
    payment = services.take_counter_payment(customer, "100", "cash", cashier)
    services.request_refund(payment, "30", "overpaid", cashier)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PARTLY_REFUNDED and payment.refunded_amount == Decimal("30")
    services.request_refund(payment, "70", "moved out", cashier)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert ledger.balance(customer) == Decimal("0.00")
    assert list(LedgerEntry.objects.filter(kind=EntryKind.REFUND).values_list("amount", flat=True)) == [
        Decimal("-30.00"),
        Decimal("-70.00"),
    ]
    with pytest.raises(DomainError):
        services.request_refund(payment, "1", "again", cashier)


def test_it_refuses_a_refund_above_what_is_left_and_writes_nothing(personas):
    payment = services.take_counter_payment(personas["own_customer"], "50", "cash", personas["cashier"])
    with pytest.raises(InvalidInput):
        services.request_refund(payment, "50.01", "too much", personas["cashier"])
    with pytest.raises(InvalidInput):
        services.request_refund(payment, "10", "  ", personas["cashier"])
    assert payment.refunds.count() == 0
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 0


def test_it_holds_a_large_refund_for_approval(personas):
    customer, cashier = personas["own_customer"], personas["cashier"]
    payment = services.take_counter_payment(customer, "2000", "bank", cashier)
    refund = services.request_refund(payment, "800", "duplicate transfer", cashier)
    assert refund.status == RefundStatus.AWAITING_APPROVAL
    assert ledger.balance(customer) == Decimal("2000.00")
    # Waiting refunds count against what is left.
    with pytest.raises(InvalidInput):
        services.request_refund(payment, "1300", "more", cashier)
    with pytest.raises(NotAllowed):
        services.decide_refund(refund, True, cashier)
    services.decide_refund(refund, True, personas["admin"])
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE
    assert ledger.balance(customer) == Decimal("1200.00")
    with pytest.raises(DomainError):
        services.decide_refund(refund, False, personas["admin"])


def test_it_refunds_an_online_payment_through_the_gateway(personas, pay_order):
    from gasworks.payments.models import SandboxTransaction

    order = services.create_online_order(personas["own_customer"], "60", personas["customer"])
    services.handle_callback("sandbox", *pay_order(order))
    order.refresh_from_db()
    refund = services.request_refund(order, "60", "cancelled", personas["cashier"])
    assert refund.gateway_refund_id.startswith("SBXR-")
    assert SandboxTransaction.objects.get(order_no=order.order_no).refunded == Decimal("60.00")


def test_it_tops_up_an_ic_card_and_writes_it(personas, tmp_path):
    customer, cashier = personas["own_customer"], personas["cashier"]
    card = cards.issue_card(customer, cashier)
    purchase = cards.top_up(card, "200", "cash", cashier, tendered="200")
    assert purchase.sequence == 1 and purchase.volume is None and "tariff" in purchase.note
    assert purchase.written_at is not None
    content = FileCardWriter().read(card.card_no)
    assert content["amount"] == "200.00" and content["purchase_seq"] == 1
    # Money in, then loaded onto the card: the account balance is unchanged.
    assert ledger.balance(customer) == Decimal("0.00")
    kinds = sorted(LedgerEntry.objects.values_list("kind", flat=True))
    assert kinds == [EntryKind.PAYMENT, EntryKind.PREPAID_CHARGE]
    assert purchase.payment.receipt_no


def test_it_refuses_a_top_up_when_supply_is_blocked(personas, monkeypatch):
    customer, cashier = personas["own_customer"], personas["cashier"]
    card = cards.issue_card(customer, cashier)

    def blocked(_customer):
        raise interlock.SupplyBlocked("supply_blocked", "major hazard open")

    monkeypatch.setattr(cards, "check_supply_allowed", blocked)
    with pytest.raises(DomainError) as err:
        cards.top_up(card, "50", "cash", cashier)
    assert err.value.code == "supply_blocked"
    assert (
        Payment.objects.count() == 0
        and LedgerEntry.objects.count() == 0
        and CardPurchase.objects.count() == 0
    )


def test_it_replaces_a_card_and_voids_the_old_one(personas):
    customer, cashier = personas["own_customer"], personas["cashier"]
    card = cards.issue_card(customer, cashier)
    cards.top_up(card, "50", "card", cashier)
    new = cards.replace_card(card, "damaged", cashier)
    card.refresh_from_db()
    assert card.status == CardStatus.REPLACED and new.replaces_id == card.pk and new.purchases == 1
    assert FileCardWriter().read(card.card_no)["status"] == CardStatus.REPLACED
    with pytest.raises(DomainError):
        cards.top_up(card, "10", "cash", cashier)
    assert cards.top_up(new, "10", "cash", cashier).sequence == 2


def test_it_rewrites_a_card_that_failed(personas, monkeypatch):
    from gasworks.payments.cardwriter import CardWriteError

    customer, cashier = personas["own_customer"], personas["cashier"]
    card = cards.issue_card(customer, cashier)

    def broken(self, card_no, data):
        raise CardWriteError("no card in the writer")

    monkeypatch.setattr(FileCardWriter, "write", broken)
    purchase = cards.top_up(card, "30", "cash", cashier)
    assert purchase.written_at is None  # paid, not yet on the card
    monkeypatch.undo()
    monkeypatch.setenv("PAYMENTS_CARD_DIR", str(FileCardWriter().directory))
    assert cards.rewrite_card(card, cashier) is True
    assert json.loads((FileCardWriter().directory / f"{card.card_no}.json").read_text())["amount"] == "30.00"
