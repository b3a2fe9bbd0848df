"""IC-card prepaid meters: issue a card, top it up (money in, gas loaded onto the card), write the
card, re-issue (rewrite) and replace it. A top-up is a supply action: the safety interlock is asked
first. Ledger: the payment credits the account and a prepaid_charge of the same amount moves it
onto the card, so the account balance is unchanged and the money sits with the meter."""

import contextlib
import uuid
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.billing import ledger
from gasworks.billing.models import EntryKind
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib.db import DecimalSum
from gasworks.lib.events import answerers, ask_one
from gasworks.payments import services
from gasworks.payments.cardwriter import CardWriteError, get_writer
from gasworks.payments.events import VolumeForAmount
from gasworks.payments.models import CardPurchase, CardStatus, ICCard
from gasworks.safety.interlock import check_supply_allowed


def new_card_no() -> str:
    return f"IC{uuid.uuid4().hex[:14].upper()}"


def issue_card(customer, by, meter=None) -> ICCard:
    if meter is not None and meter.premises_id != customer.premises_id:
        raise InvalidInput(
            "meter_elsewhere",
            _("That meter is not at the customer's premises."),
            {"meter": [_("Wrong premises.")]},
        )
    if ICCard.objects.filter(customer=customer, meter=meter, status=CardStatus.ACTIVE).exists():
        raise DomainError("card_exists", _("This customer already has an active card for that meter."))
    card = ICCard.objects.create(
        card_no=new_card_no(), customer=customer, meter=meter, issued_at=timezone.now()
    )
    _write(card, None)
    return card


def _volume(customer, amount, at):
    """(volume m³, note): the VolumeForAmount question, answered by billing's tariffs. Without an
    answerer the card carries money only."""
    if not answerers(VolumeForAmount):
        return None, _("No tariff available: the card carries money; the meter converts it.")
    # Tiers count what was already loaded this year; billing narrows it to its tariff year.
    year_start = timezone.localtime(at).replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    loaded = CardPurchase.objects.filter(
        card__customer=customer, created_at__gte=year_start, volume__isnull=False
    ).aggregate(v=DecimalSum("volume"))["v"] or Decimal("0")
    return ask_one(VolumeForAmount(customer, amount, at, loaded), (None, ""))


def top_up(card: ICCard, amount, method: str, by, tendered=None) -> CardPurchase:
    check_supply_allowed(card.customer)  # a blocked customer is refused before anything is written
    services.check_counter_input(amount, method, tendered)
    with transaction.atomic():
        locked = ICCard.objects.select_for_update().select_related("customer").get(pk=card.pk)
        if locked.status != CardStatus.ACTIVE:
            raise DomainError("card_inactive", _("This card is no longer active."))
        payment = services.take_counter_payment(
            locked.customer, amount, method, by, tendered, purpose="ic_card", numbered=False
        )
        ledger.post(
            locked.customer,
            EntryKind.PREPAID_CHARGE,
            -payment.amount,
            reference=f"IC {locked.card_no} #{locked.purchases + 1}",
            idempotency_key=f"iccard:{payment.pk}",
            by=by,
            at=payment.paid_at,
        )
        paid_at = payment.paid_at
        assert paid_at is not None  # a counter payment is paid as it is taken
        volume, note = _volume(locked.customer, payment.amount, paid_at)
        locked.purchases += 1
        locked.save(update_fields=["purchases"])
        purchase = CardPurchase.objects.create(
            card=locked,
            payment=payment,
            sequence=locked.purchases,
            amount=payment.amount,
            volume=volume,
            note=note or "",
            created_at=paid_at,
        )
        services.assign_receipt(payment, payment.paid_at)  # the receipt counter lock, last
    _write(locked, purchase)  # card I/O after commit; a failed write is retried by rewrite_card
    return purchase


def _card_content(card: ICCard, purchase: CardPurchase | None) -> dict:
    return {
        "card_no": card.card_no,
        "account_no": card.customer.account_no,
        "meter": card.meter.serial_no if card.meter else None,
        "status": card.status,
        "purchase_seq": purchase.sequence if purchase else card.purchases,
        "amount": f"{purchase.amount:.2f}" if purchase else "0.00",
        "volume": f"{purchase.volume:.3f}" if purchase and purchase.volume is not None else None,
        "written_at": timezone.now().isoformat(),
    }


def _write(card: ICCard, purchase: CardPurchase | None) -> bool:
    try:
        get_writer().write(card.card_no, _card_content(card, purchase))
    except (CardWriteError, OSError):
        return False
    if purchase is not None:
        purchase.written_at = timezone.now()
        CardPurchase.objects.filter(pk=purchase.pk).update(written_at=purchase.written_at)
    return True


def rewrite_card(card: ICCard, by) -> bool:
    """Re-issue: write the latest purchase again (a card that failed or was wiped)."""
    if card.status != CardStatus.ACTIVE:
        raise DomainError("card_inactive", _("This card is no longer active."))
    return _write(card, card.topups.order_by("-sequence").first())


def replace_card(card: ICCard, reason: str, by, lost: bool = False) -> ICCard:
    """Retire the card and issue a new number that carries on its purchase count; an unwritten
    purchase is written onto the new card."""
    if not (reason or "").strip():
        raise InvalidInput(
            "reason_required", _("Give a reason for the replacement."), {"reason": [_("Required.")]}
        )
    with transaction.atomic():
        old = ICCard.objects.select_for_update().get(pk=card.pk)
        if old.status != CardStatus.ACTIVE:
            raise DomainError("card_inactive", _("This card is no longer active."))
        old.status = CardStatus.LOST if lost else CardStatus.REPLACED
        old.save(update_fields=["status"])
        new = ICCard.objects.create(
            card_no=new_card_no(),
            customer_id=old.customer_id,
            meter_id=old.meter_id,
            purchases=old.purchases,
            replaces=old,
            issued_at=timezone.now(),
        )
    unwritten = old.topups.filter(written_at__isnull=True).order_by("-sequence").first()
    # The old card may be lost: voiding it is best effort, the new number is what counts.
    with contextlib.suppress(CardWriteError, OSError):
        get_writer().write(
            old.card_no, {**_card_content(old, None), "status": old.status, "void_reason": reason[:120]}
        )
    _write(new, unwritten)
    return new
