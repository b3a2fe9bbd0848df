"""Payment arrangements (分期): the business rules. The only writer of the arrangement tables.

Rules:
- **What is arranged**: what the account owes and is due on the day it is made: its overdue
  bills, late fees and other charges (billing.due's lines, less the unpaid parts of bills not yet
  due, which follow the normal rules). Refused when that is nothing.
- **Schedule**: a down payment due that day (may be 0), then N instalments (parameters
  arrangement_min/max_instalments) monthly from first_due_on or on dates given, strictly after
  today and increasing; the amounts (computed by schedule.split, or given) sum to the arranged
  debt to the fen, else 400 and nothing written. One active arrangement per account (409).
- **Payments** (no money path of its own): every payment to the account after the arrangement is
  made counts toward it first, since it is the oldest debt (billing's own rule: payments settle
  the oldest bills first); ``paid`` never exceeds the total. Instalments are met in order as
  ``paid`` reaches each one's running sum; fully paid, the arrangement is completed. Money beyond
  it pays the new bills, as billing places it.
- **While it holds** billing charges the account no late fee (LateFeeHolds) and the collections
  ladder leaves it alone (held_customer_ids), new bills included; new bills are still owed on
  their dates (see daily.py: left unpaid past the grace period they end the arrangement too).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.billing import due, ledger
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib.events import publish
from gasworks.lib.money import round_money
from gasworks.service.arrangements import schedule
from gasworks.service.arrangements.events import ArrangementEnded
from gasworks.service.arrangements.models import (
    TRANSITIONS,
    Arrangement,
    ArrangementStatus,
    EndReason,
    Instalment,
)
from gasworks.system import parameters

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Plan:
    """A checked schedule, not yet written: the debt and (due_on, amount) per part, the down
    payment first (when there is one)."""

    total: Decimal
    down_payment: Decimal
    parts: list[tuple[date, Decimal]]
    today: date


def arranged_debt(customer, today: date) -> Decimal:
    """What the account owes and is due today (overdue bills, late fees, other charges)."""
    lines = due.due_lines(customer)
    return sum((line["amount"] for line in lines if not line["due_on"] or line["due_on"] < today), ZERO)


def _money(value, field: str) -> Decimal:
    try:
        amount = round_money(value)
    except (TypeError, ValueError, ArithmeticError):
        raise InvalidInput(
            "invalid_amount", _("Give an amount in yuan, e.g. 120.50."), {field: [_("Not an amount.")]}
        ) from None
    if amount < 0:
        raise InvalidInput("invalid_amount", _("The amount may not be negative."), {field: [_("Negative.")]})
    return amount


def plan(
    customer,
    down_payment,
    instalments: int | None = None,
    first_due_on: date | None = None,
    parts: list[tuple[date, object]] | None = None,
    today: date | None = None,
) -> Plan:
    """Check an arrangement and work out its schedule without writing anything (the staff page's
    live preview shows it). ``parts`` gives each instalment's date and amount instead of
    ``instalments`` and ``first_due_on``. Raises InvalidInput (400) or DomainError (409)."""
    today = today or timezone.localdate()
    total = arranged_debt(customer, today)
    if total <= 0:
        raise DomainError("no_overdue_debt", _("This account has no overdue debt to arrange."))
    down = _money(down_payment or 0, "down_payment")
    if down >= total:
        raise InvalidInput(
            "down_payment_too_large",
            _("The down payment must be less than the debt of %(total)s; nothing would be left to spread.")
            % {"total": total},
            {"down_payment": [_("Less than %(total)s.") % {"total": total}]},
        )
    count = len(parts) if parts else instalments
    low, high = parameters.get("arrangement_min_instalments"), parameters.get("arrangement_max_instalments")
    if not isinstance(count, int) or not low <= count <= high:
        raise InvalidInput(
            "invalid_instalments",
            _("Choose between %(low)s and %(high)s instalments.") % {"low": low, "high": high},
            {"instalments": [_("Between %(low)s and %(high)s.") % {"low": low, "high": high}]},
        )
    if parts:
        days = [day for day, _amount in parts]
        amounts = [_money(amount, "schedule") for _day, amount in parts]
    else:
        if first_due_on is None:
            raise InvalidInput(
                "first_due_on_required",
                _("Give the first instalment's date."),
                {"first_due_on": [_("Required.")]},
            )
        days = schedule.monthly(first_due_on, count)
        amounts = schedule.split(total - down, count)
    if days[0] <= today:
        raise InvalidInput(
            "date_not_in_future",
            _("Instalments must fall due after today (%(today)s).") % {"today": today},
            {"first_due_on": [_("After %(today)s.") % {"today": today}]},
        )
    if not schedule.increasing(days):
        raise InvalidInput(
            "dates_not_increasing",
            _("Each instalment must fall due after the one before."),
            {"schedule": [_("Dates must increase.")]},
        )
    if any(amount <= 0 for amount in amounts) or down + sum(amounts, ZERO) != total:
        raise InvalidInput(
            "schedule_does_not_sum",
            _("The down payment and the instalments (%(sum)s) must add up to the debt of %(total)s.")
            % {"sum": down + sum(amounts, ZERO), "total": total},
            {"schedule": [_("Each amount above 0, all adding up to %(total)s.") % {"total": total}]},
        )
    lines = [(today, down)] if down > 0 else []
    return Plan(total, down, lines + list(zip(days, amounts, strict=True)), today)


def make_arrangement(customer, by=None, note: str = "", **terms) -> Arrangement:
    """Write the arrangement plan() checks (terms: plan()'s). The account row is locked first
    (billing.ledger's lock, the one a payment takes), so the debt read is the debt arranged and
    two clerks for one account queue: the second finds the first's arrangement (409)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            ledger.lock_accounts([customer.pk])
            if Arrangement.objects.filter(customer_id=customer.pk, status=ArrangementStatus.ACTIVE).exists():
                raise DomainError(
                    "arrangement_exists", _("This account already has an active payment arrangement.")
                )
            checked = plan(customer, **terms)
            arrangement = Arrangement.objects.create(
                customer_id=customer.pk,
                total=checked.total,
                down_payment=checked.down_payment,
                created_on=checked.today,
                created_at=now,
                created_by=by if by is not None and by.is_authenticated else None,
                note=note[:200],
            )
            first = 0 if checked.down_payment > 0 else 1
            Instalment.objects.bulk_create(
                Instalment(arrangement=arrangement, seq=first + i, due_on=day, amount=amount)
                for i, (day, amount) in enumerate(checked.parts)
            )
    except IntegrityError:  # the unique active arrangement: a concurrent clerk won
        raise DomainError(
            "arrangement_exists", _("This account already has an active payment arrangement.")
        ) from None
    return arrangement


def cancel(arrangement: Arrangement, by=None, today: date | None = None) -> Arrangement:
    """The station calls it off (manager): the debt left goes back to the normal rules."""
    with transaction.atomic():
        locked = Arrangement.objects.select_for_update().get(pk=arrangement.pk)
        end(locked, ArrangementStatus.CANCELLED, EndReason.CANCELLED, today or timezone.localdate(), by)
    return locked


def end(arrangement: Arrangement, status: str, reason: str, today: date, by=None) -> None:
    """Close a locked arrangement (cancelled or defaulted) and tell the customer."""
    TRANSITIONS.move(arrangement, status)
    arrangement.ended_on, arrangement.end_reason = today, reason
    arrangement.ended_by = by if by is not None and by.is_authenticated else None
    arrangement.save(update_fields=["status", "ended_on", "end_reason", "ended_by"])
    publish(ArrangementEnded(arrangement.pk, arrangement.customer_id, reason, arrangement.left))


# --- payments ----------------------------------------------------------------------------------


def count_payment(event) -> None:
    """PaymentReceived, inside the payment's transaction (subscriptions.py WRITERS): count the
    money toward the account's active arrangement and mark the instalments it meets. The row is
    locked, so a payment and the daily run meet here one after the other (daily.py)."""
    if event.purpose != "account" or event.amount <= 0:
        return
    arrangement = (
        Arrangement.objects.select_for_update()
        .filter(customer_id=event.customer_id, status=ArrangementStatus.ACTIVE)
        .first()
    )
    if arrangement is None:
        return
    paid_on = timezone.localdate(event.paid_at) if event.paid_at else timezone.localdate()
    take_money(arrangement, event.amount, paid_on)


def take_money(arrangement: Arrangement, amount: Decimal, on: date) -> None:
    """Count ``amount`` toward a locked, active arrangement."""
    arrangement.paid = min(arrangement.total, arrangement.paid + amount)
    fields = ["paid"]
    reached, newly_met = ZERO, []
    for part in arrangement.instalments.order_by("seq"):
        reached += part.amount
        if part.met_on is None and reached <= arrangement.paid:
            newly_met.append(part.pk)
    if newly_met:
        Instalment.objects.filter(pk__in=newly_met).update(met_on=on)
    if arrangement.paid >= arrangement.total:
        TRANSITIONS.move(arrangement, ArrangementStatus.COMPLETED)
        arrangement.ended_on = on
        fields += ["status", "ended_on"]
    arrangement.save(update_fields=fields)


# --- what others ask ---------------------------------------------------------------------------


def held_customer_ids(as_of: date) -> set[int]:
    """Accounts under an arrangement that held on ``as_of``: no late fee, no collections step."""
    held = Arrangement.objects.filter(created_on__lte=as_of).filter(
        Q(status=ArrangementStatus.ACTIVE) | Q(ended_on__gt=as_of)
    )
    return set(held.values_list("customer_id", flat=True))


def active_for(customer_id: int) -> Arrangement | None:
    return Arrangement.objects.filter(customer_id=customer_id, status=ArrangementStatus.ACTIVE).first()


def owed_on(
    arrangement: Arrangement, parts: list[Instalment] | None = None
) -> list[tuple[Instalment, Decimal]]:
    """Each instalment with what is still owed on it (0 when met), in order."""
    parts = parts if parts is not None else list(arrangement.instalments.order_by("seq"))
    out, reached = [], ZERO
    for part in parts:
        reached += part.amount
        out.append((part, max(ZERO, min(part.amount, reached - arrangement.paid))))
    return out


def next_due(arrangement: Arrangement) -> tuple[Instalment, Decimal] | None:
    """The first instalment not fully met and what is owed on it."""
    for part, owed in owed_on(arrangement):
        if owed > 0:
            return part, owed
    return None


def part_label(part: Instalment) -> str:
    if part.is_down_payment:
        return _("Arrangement down payment")
    return _("Arrangement instalment %(n)s") % {"n": part.seq}
