"""The daily run of payment arrangements (command run_arrangements, Celery beat, tests call
run()): reminders of instalments falling due, and the end of arrangements not kept.

An arrangement is not kept on ``as_of`` when, at the cut-off day (as_of less the grace period,
parameter arrangement_grace_days), the account owes more than it may: the instalments due from
the cut-off on, plus the bills due from the cut-off on that came after the arrangement was made.
Anything more is an instalment missed (reason missed_instalment) or, with every instalment met,
a new bill left unpaid (new_bill_unpaid). It ends; its debt left goes back to the normal rules
(late fees from the next run, the collections ladder), and the customer is told.

A payment arriving while the run ends the arrangement: both lock the arrangement row (the
payment in its own transaction, after the account row; the run holds no account lock, so there
is no deadlock). Whichever locks first wins and the other sees its result: a payment first meets
the instalment and the run, re-checking under the lock, keeps the arrangement; the run first
ends it and the payment, finding it ended, counts toward nothing (its money stays on the
account under the normal rules). Never both, never neither. Each arrangement is ended in its own
transaction; a rerun of the same day changes nothing (the ended ones are no longer active)."""

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from gasworks.billing import ledger
from gasworks.billing.models import Account, Bill, BillStatus
from gasworks.customers.models import Customer
from gasworks.lib.events import publish
from gasworks.service.arrangements import services
from gasworks.service.arrangements.events import InstalmentDue
from gasworks.service.arrangements.models import Arrangement, ArrangementStatus, EndReason, Instalment
from gasworks.system import parameters

ZERO = Decimal("0.00")


def run(as_of: date | None = None) -> dict[str, int]:
    as_of = as_of or timezone.localdate()
    return {"reminders": remind(as_of), "ended": end_broken(as_of)}


def remind(as_of: date) -> int:
    """Tell the customers whose next instalment falls due within arrangement_reminder_days
    (one message per instalment: the outbox key is the instalment's)."""
    until = as_of + timedelta(days=parameters.get("arrangement_reminder_days"))
    soon = Instalment.objects.filter(
        arrangement__status=ArrangementStatus.ACTIVE,
        met_on__isnull=True,
        due_on__gte=as_of,
        due_on__lte=until,
    ).select_related("arrangement")
    told = 0
    with transaction.atomic():
        for part in soon:
            owed = dict((p.pk, o) for p, o in services.owed_on(part.arrangement)).get(part.pk, ZERO)
            if owed > 0:
                publish(InstalmentDue(part.pk, part.arrangement.customer_id, owed, part.due_on))
                told += 1
    return told


def allowed_debt(arrangement: Arrangement, cutoff: date) -> Decimal:
    """What the account may owe at ``cutoff`` and still keep the arrangement (only asked of an
    arrangement made before the cut-off, so every bill due from the cut-off on is a new one)."""
    # Whole amounts: money paid ahead is in the debt already (it lowered it), so it is not
    # taken off here again.
    rest = arrangement.instalments.filter(due_on__gte=cutoff).aggregate(s=Sum("amount"))["s"] or ZERO
    new_bills = (
        Bill.objects.filter(
            customer_id=arrangement.customer_id, status=BillStatus.ISSUED, due_on__gte=cutoff
        ).aggregate(s=Sum("total"))["s"]
        or ZERO
    )
    return rest + new_bills


def breach(arrangement: Arrangement, cutoff: date) -> str:
    """The reason the arrangement is not kept at ``cutoff``, or "" when it is."""
    customer = Customer(pk=arrangement.customer_id)
    debt = -ledger.balance(customer)
    if debt <= allowed_debt(arrangement, cutoff):
        return ""
    missed = any(owed > 0 and part.due_on < cutoff for part, owed in services.owed_on(arrangement))
    return EndReason.MISSED_INSTALMENT if missed else EndReason.NEW_BILL_UNPAID


def suspects(cutoff: date) -> list[int]:
    """The active arrangements (made before the cut-off) whose account owes more than it may,
    read set-based (four queries whatever their number): only these are locked and checked one
    by one, so a day with nothing new costs no per-arrangement work."""
    active = dict(
        Arrangement.objects.filter(status=ArrangementStatus.ACTIVE, created_on__lt=cutoff).values_list(
            "pk", "customer_id"
        )
    )
    if not active:
        return []
    customers = sorted(set(active.values()))
    rest = dict(
        Instalment.objects.filter(arrangement_id__in=list(active), due_on__gte=cutoff)
        .values("arrangement_id")
        .annotate(s=Sum("amount"))
        .values_list("arrangement_id", "s")
    )
    new_bills = dict(
        Bill.objects.filter(customer_id__in=customers, status=BillStatus.ISSUED, due_on__gte=cutoff)
        .values("customer_id")
        .annotate(s=Sum("total"))
        .values_list("customer_id", "s")
    )
    balances = dict(Account.objects.filter(customer_id__in=customers).values_list("customer_id", "balance"))
    return sorted(
        pk
        for pk, cid in active.items()
        if -balances.get(cid, ZERO) > rest.get(pk, ZERO) + new_bills.get(cid, ZERO)
    )


def end_broken(as_of: date) -> int:
    cutoff = as_of - timedelta(days=parameters.get("arrangement_grace_days"))
    ended = 0
    for pk in suspects(cutoff):
        with transaction.atomic():
            arrangement = Arrangement.objects.select_for_update().get(pk=pk)
            if arrangement.status != ArrangementStatus.ACTIVE:
                continue  # completed by a payment meanwhile
            reason = breach(arrangement, cutoff)  # again, under the lock: a payment may have come
            if reason:
                services.end(arrangement, ArrangementStatus.ENDED, reason, as_of)
                ended += 1
    return ended
