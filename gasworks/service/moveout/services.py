"""Move-out and name transfer (过户) with a final reading, a final bill and the balance settled.

Everything happens in one transaction, all or nothing: the final reading (recorded through
metering's VEE, or one already taken that day), the final bill (billing.final), the settlement
the clerk chose, the old account closed and, for a transfer, the new one opened on the same
premises. The customer row is locked first, so of two clerks moving out one account, the second
waits, then finds it closed: a 409, and one final bill. AccountMovedOut is published on commit.

Prior use of the tariff year: the new holder starts a fresh count. Tier quotas are a household's
yearly allowance (raised by its own household size); the old household's use is not the new
household's, and the old account's bills keep their own tiers. Every newly opened account starts
the same way, so a transfer is priced like any new account."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.billing import final as final_bills
from gasworks.billing import ledger, prepaid
from gasworks.billing.models import Bill, EntryKind
from gasworks.customers import services as customer_services
from gasworks.customers.models import Customer
from gasworks.customers.models import Status as CustomerStatus
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib.events import publish
from gasworks.metering import services as metering
from gasworks.metering.models import Meter, MeterKind, MeterStatus, Reading, ReadingReason, ReadingStatus
from gasworks.payments import services as payments
from gasworks.payments.models import Refund
from gasworks.service.moveout.events import AccountMovedOut
from gasworks.service.moveout.models import MoveOut, MoveOutKind, Settlement

MONEY0 = Decimal("0.00")


@dataclass(frozen=True)
class FinalReading:
    """The final reading of one meter: a register value read now, or an existing reading of
    today (its id). A reading VEE flags is kept only when the clerk confirms it."""

    meter_id: int
    value: str | Decimal | None = None
    reading_id: int | None = None


@dataclass(frozen=True)
class MoveOutOrder:
    """What the clerk asks for. ``new_holder`` makes it a name transfer."""

    readings: tuple[FinalReading, ...]
    settlement: str = Settlement.KEEP
    new_holder: customer_services.CustomerData | None = None
    confirm_flagged: bool = False
    consent_by: str = ""
    reason: str = ""
    request_id: int | None = None

    @property
    def kind(self) -> str:
        return MoveOutKind.TRANSFER if self.new_holder is not None else MoveOutKind.MOVE_OUT


def meters_of(customer: Customer) -> list[Meter]:
    """The meters that need a final reading: those installed at the account's premises."""
    return list(
        Meter.objects.filter(premises_id=customer.premises_id, status=MeterStatus.INSTALLED)
        .exclude(kind=MeterKind.DISTRICT)
        .order_by("pk")
    )


def readings_today(customer: Customer) -> list[Reading]:
    """Readings of the account taken today: a final reading may be one of them."""
    today = timezone.localdate()
    return list(
        Reading.objects.filter(customer_id=customer.pk, taken_at__date=today)
        .exclude(status=ReadingStatus.REJECTED)
        .select_related("meter")
        .order_by("-taken_at")
    )


def _check_order(customer: Customer, order: MoveOutOrder) -> None:
    """Bad input, found before anything is written: a 400 naming the field."""
    if order.settlement not in Settlement.values or order.settlement == Settlement.NONE:
        raise InvalidInput(
            "invalid_settlement",
            _("Choose how the balance is settled: refund, carry or keep."),
            {"settlement": [_("Choose refund, carry or keep.")]},
        )
    if order.settlement == Settlement.CARRY:
        if order.new_holder is None:
            raise InvalidInput(
                "carry_needs_new_account",
                _("Only a name transfer can carry the balance to a new account."),
                {"settlement": [_("Not for a move-out.")]},
            )
        if not order.consent_by.strip():
            raise InvalidInput(
                "consent_required",
                _("Record who consented to carrying the balance to the new account."),
                {"consent_by": [_("Required to carry the balance.")]},
            )
    meters = {m.pk for m in meters_of(customer)}
    if not meters:
        raise DomainError("no_meter", _("No meter is installed at this premises: there is nothing to read."))
    given = {r.meter_id for r in order.readings if r.value not in (None, "") or r.reading_id}
    missing = meters - given
    if missing or not given <= meters:
        raise InvalidInput(
            "final_reading_required",
            _("A move-out or name transfer needs a final reading of every meter at the premises."),
            {"readings": [_("Enter today's reading, or pick one taken today.")]},
        )


def _final_reading(customer: Customer, item: FinalReading, confirm: bool, by) -> Reading:
    """Record (or pick) one meter's final reading, billable: a flagged one is approved only
    when the clerk confirmed it, else the whole move-out is refused."""
    meter = Meter.objects.get(pk=item.meter_id)
    if item.reading_id:
        reading = Reading.objects.filter(pk=item.reading_id, meter=meter, customer_id=customer.pk).first()
        if reading is None or timezone.localdate(reading.taken_at) != timezone.localdate():
            raise InvalidInput(
                "final_reading_required",
                _("The reading picked is not one of this account's readings of today."),
                {"readings": [_("Pick a reading taken today.")]},
            )
    else:
        reading = metering.record_reading(
            meter, item.value, timezone.now(), reason=ReadingReason.MOVE_OUT, by=by
        )
        if reading.customer_id != customer.pk:
            raise DomainError("wrong_account", _("The reading would be billed to another account."))
    if reading.status == ReadingStatus.REJECTED:
        raise DomainError("final_reading_rejected", _("A rejected reading cannot be the final reading."))
    if reading.status == ReadingStatus.FLAGGED:
        if not confirm:
            raise DomainError(
                "final_reading_flagged",
                _("The final reading %(value)s was flagged (%(why)s): check it, then confirm it.")
                % {"value": reading.value, "why": ", ".join(str(x) for x in reading.flag_labels)},
                {"confirm_flagged": [_("Confirm the flagged reading to use it.")]},
            )
        reading = metering.approve(reading, by=by, note=_("confirmed as the final reading"))
    if Reading.objects.filter(meter=meter, taken_at__gt=reading.taken_at).exists():
        raise DomainError(
            "readings_after_final",
            _("The meter has readings after this one: it cannot be the final reading."),
        )
    return reading


def _lock_open(customer: Customer) -> Customer:
    """The account, row locked; a closed one (moved out by someone else meanwhile) is a 409."""
    locked = Customer.objects.select_for_update().select_related("premises").get(pk=customer.pk)
    if locked.status == CustomerStatus.CLOSED:
        raise DomainError(
            "account_closed",
            _("Account %(no)s is already closed: it was moved out or transferred.")
            % {"no": locked.account_no},
        )
    return locked


def _readings_and_bill(customer: Customer, order: MoveOutOrder, by) -> tuple[list[Reading], Bill | None]:
    readings = [_final_reading(customer, item, order.confirm_flagged, by) for item in order.readings]
    for reading in readings:
        # A prepaid account pays for its final reading as for any other, now (once per reading;
        # the after-commit charge of ReadingsStored then finds it charged): the final bill
        # leaves charged readings out, so the final reading is never charged twice.
        prepaid.charge_prepaid_reading(reading)
    final_at = max(r.taken_at for r in readings)
    return readings, final_bills.issue_final_bill(customer, final_at, by=by)


@dataclass(frozen=True)
class Preview:
    """The final bill as it would be issued and the balance it leaves (nothing kept)."""

    bill: dict | None
    balance: Decimal
    readings: list[dict]


class _DryRun(Exception):
    def __init__(self, preview: Preview):
        self.preview = preview


def preview(customer: Customer, order: MoveOutOrder, by=None) -> Preview:
    """Take the final reading and issue the final bill inside a transaction that is rolled
    back: the preview is priced by the very code that will issue it, and nothing is kept (no
    event leaves a rolled-back transaction)."""
    _check_order(customer, order)
    try:
        with transaction.atomic():
            old = _lock_open(customer)
            readings, bill = _readings_and_bill(old, order, by)
            raise _DryRun(
                Preview(
                    bill=bill_summary(bill),
                    balance=ledger.balance(old),
                    readings=[
                        {"meter": r.meter.serial_no, "value": r.value, "status": r.status} for r in readings
                    ],
                )
            )
    except _DryRun as done:
        return done.preview


def bill_summary(bill: Bill | None) -> dict | None:
    if bill is None:
        return None
    return {
        "id": bill.pk,
        "period": bill.period,
        "period_start": bill.period_start,
        "period_end": bill.period_end,
        "last_day": bill.period_end - timedelta(days=1),  # the final reading's day
        "reading_from": bill.reading_from,
        "reading_to": bill.reading_to,
        "volume": bill.volume,
        "total": bill.total,
        "minimum_top_up": bill.minimum_top_up,
        "meter_rent": bill.meter_rent,
        "lines": [
            {"tier": line.tier, "volume": line.volume, "unit_price": line.unit_price, "amount": line.amount}
            for line in bill.lines.all()
        ],
    }


def _settle(old: Customer, new: Customer | None, order: MoveOutOrder, balance: Decimal, by) -> Decimal:
    """Carry out the settlement; returns the amount it moved."""
    if order.settlement == Settlement.REFUND:
        if balance <= 0:
            raise DomainError(
                "nothing_to_refund",
                _("The account owes %(owed)s after its final bill: there is no credit to refund.")
                % {"owed": -balance},
                {"settlement": [_("No credit to refund.")]},
            )
        payments.refund_credit(old, balance, order.reason or _("Balance refunded at move-out"), by)
        return balance
    if order.settlement == Settlement.CARRY and balance:
        assert new is not None  # _check_order
        # A pair of entries, out of the old account and into the new, posted together: both
        # or neither (post_many locks both accounts in pk order, one transaction).
        ledger.post_many(
            [
                ledger.Posting(
                    old.pk,
                    EntryKind.ADJUSTMENT,
                    -balance,
                    _("Balance carried to %(no)s") % {"no": new.account_no},
                    f"carry-out:{old.pk}",
                    by,
                ),
                ledger.Posting(
                    new.pk,
                    EntryKind.ADJUSTMENT,
                    balance,
                    _("Balance carried from %(no)s") % {"no": old.account_no},
                    f"carry-in:{old.pk}",
                    by,
                ),
            ]
        )
        return balance
    return MONEY0


def move_out(customer: Customer, order: MoveOutOrder, by=None) -> MoveOut:
    """The move-out (or name transfer, with ``order.new_holder``), all or nothing."""
    _check_order(customer, order)
    now = timezone.now()
    try:
        with transaction.atomic():
            old = _lock_open(customer)
            readings, bill = _readings_and_bill(old, order, by)
            balance = ledger.balance(old)
            reason = order.reason.strip()
            new = None
            if order.new_holder is not None:
                new = customer_services.transfer(old, order.new_holder, reason, by=by)
            else:
                customer_services.close(old, reason or _("Moved out"), by=by)
            settlement = order.settlement if balance else Settlement.NONE
            amount = _settle(old, new, order, balance, by) if balance else MONEY0
            carry = settlement == Settlement.CARRY
            row = MoveOut.objects.create(
                customer=old,
                new_customer=new,
                kind=order.kind,
                day=timezone.localdate(now),
                final_reading=max(readings, key=lambda r: r.taken_at),
                final_bill=bill,
                balance=balance,
                settlement=settlement,
                settled_amount=amount,
                consent_by=order.consent_by.strip() if carry else "",
                consented_at=now if carry else None,
                request_id=order.request_id,
                reason=reason[:255],
                created_by=by,
                created_at=now,
            )
            publish(
                AccountMovedOut(
                    old.pk,
                    new.pk if new else None,
                    order.request_id,
                    row.pk,
                    bill.pk if bill else None,
                    settlement,
                )
            )
    except IntegrityError:
        # The unique account of MoveOut: another clerk's move-out committed first.
        raise DomainError(
            "account_closed", _("This account was moved out by someone else meanwhile.")
        ) from None
    return row


def refunds_of(row: MoveOut) -> list:
    """The refunds of a move-out's settlement: the old account's, requested from its moment on
    (the account is closed then, so nothing else refunds it in the same breath)."""
    if row.settlement != Settlement.REFUND:
        return []
    return list(
        Refund.objects.filter(payment__customer_id=row.customer_id, created_at__gte=row.created_at)
        .select_related("payment")
        .order_by("pk")
    )
