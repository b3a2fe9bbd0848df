"""Deposits on cylinders: taken on a delivery for each extra cylinder the customer keeps
(orders.deliver), given back when the customer returns cylinders for good. Locks: the customer
row (so two returns, or a return and a delivery, cannot both count the same deposits), then the
cylinders in pk order, then (inside ledger.post) the customer's account."""

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.billing import ledger
from gasworks.customers.models import Customer
from gasworks.cylinders import empties
from gasworks.cylinders.models import (
    Cylinder,
    CylinderReturn,
    CylinderStatus,
    EventKind,
    LpgOrder,
    OrderStatus,
)
from gasworks.cylinders.services import set_status
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib.db import DecimalSum
from gasworks.lib.money import round_money

S = CylinderStatus
MAX_RETURN = 50


@dataclass(frozen=True)
class Deposits:
    count: int  # deposits the customer has paid and not had back
    amount: Decimal  # the money those deposits hold


def held_deposits(customer) -> Deposits:
    taken = LpgOrder.objects.filter(customer=customer, status=OrderStatus.DELIVERED).aggregate(
        n=Sum("deposits_taken"), money=DecimalSum("deposit_amount")
    )
    refunded = CylinderReturn.objects.filter(customer=customer).aggregate(
        n=Sum("deposits_refunded"), money=DecimalSum("amount")
    )
    return Deposits(
        count=int(taken["n"] or 0) - int(refunded["n"] or 0),
        amount=round_money((taken["money"] or Decimal(0)) - (refunded["money"] or Decimal(0))),
    )


def held_cylinders(customer):
    return Cylinder.objects.filter(customer=customer, status=S.AT_CUSTOMER).order_by("code")


def refund_due(deposits: Deposits, held_after: int) -> tuple[int, Decimal]:
    """Deposits to give back when the customer will hold `held_after` cylinders: a returned
    cylinder first settles an empty owed (one held without a deposit); only beyond that does it
    bring a deposit back, so the customer keeps at most one deposit per cylinder still held. The
    money is what was paid (deposits may have been taken at different rates): the whole remainder
    when every deposit comes back, else the average share."""
    count = max(deposits.count - max(held_after, 0), 0)
    if count == 0:
        return 0, Decimal("0.00")
    if count == deposits.count:
        return count, deposits.amount
    return count, round_money(deposits.amount * count / deposits.count)


def _request_hash(customer_id: int, items: list[empties.EmptyBack]) -> str:
    body = [customer_id, sorted((i.code, str(i.gross_kg or "")) for i in items)]
    return hashlib.sha256(json.dumps(body).encode()).hexdigest()


def return_for_good(customer, items, idempotency_key: str, by=None) -> tuple[CylinderReturn, bool]:
    """Take cylinders back from the customer for good and refund the deposits due. Returns
    (the return, created). The same idempotency key with the same request returns the first
    return and writes nothing; with another request it is refused (409)."""
    items = empties.parse(items, "cylinders")
    key = (idempotency_key or "").strip()
    if not key or len(key) > 160:
        raise InvalidInput(
            "idempotency_key_required", _("Send an idempotency key (1 to 160 characters) with this request.")
        )
    if not items:
        raise InvalidInput(
            "nothing_returned", _("Scan at least one cylinder."), {"cylinders": [_("Scan each code.")]}
        )
    if len(items) > MAX_RETURN:
        raise InvalidInput(
            "too_many", _("Return at most %(n)s cylinders at once.") % {"n": MAX_RETURN}, {"cylinders": []}
        )
    digest = _request_hash(customer.pk, items)
    now = timezone.now()
    try:
        with transaction.atomic():
            Customer.objects.select_for_update().filter(pk=customer.pk).first()
            first = CylinderReturn.objects.filter(idempotency_key=key).first()
            if first is not None:
                return _replay(first, digest), False
            made = _take_back(customer, items, key, digest, by, now)
    except IntegrityError:
        # A racing request with the same key committed first (its insert won the unique key).
        first = CylinderReturn.objects.filter(idempotency_key=key).first()
        if first is None:
            raise
        return _replay(first, digest), False
    return made, True


def _replay(first: CylinderReturn, digest: str) -> CylinderReturn:
    if first.request_hash != digest:
        raise DomainError(
            "idempotency_key_reused", _("This idempotency key was already used for a different return.")
        )
    return first


def _take_back(customer, items, key, digest, by, now) -> CylinderReturn:
    rows = list(Cylinder.objects.select_for_update().filter(code__in=[i.code for i in items]).order_by("pk"))
    missing = sorted({i.code for i in items} - {c.code for c in rows})
    if missing:
        raise DomainError(
            "unknown_cylinder", _("Unknown cylinder code(s): %(codes)s.") % {"codes": ", ".join(missing)}
        )
    by_code = {c.code: c for c in rows}
    weighed = {}
    for item in items:  # every refusal before the first write
        cylinder = by_code[item.code]
        empties.check_held_by(cylinder, customer)
        weighed[item.code] = empties.weigh(cylinder, item.gross_kg, "cylinders")
    held_after = held_cylinders(customer).count() - len(rows)
    count, amount = refund_due(held_deposits(customer), held_after)
    actor = by if getattr(by, "is_authenticated", False) else None
    made = CylinderReturn.objects.create(
        customer=customer,
        deposits_refunded=count,
        amount=amount,
        idempotency_key=key,
        request_hash=digest,
        by=actor,
        at=now,
    )
    made.cylinders.set(rows)
    for cylinder in rows:
        w = weighed[cylinder.code]
        empties.record(cylinder, w, customer, by, now)
        extra = empties.event_extra(w)
        extra["note"] = (f"return #{made.pk}; " + extra.get("note", "")).strip("; ")
        cylinder.customer = None
        set_status(cylinder, S.EMPTY_IN_STATION, EventKind.RETURNED, by, now, customer=customer, **extra)
    if amount > 0:
        made.entry = ledger.post(
            customer,
            "deposit",
            amount,
            _("Deposit refund, %(n)s cylinder(s), return #%(id)s") % {"n": count, "id": made.pk},
            idempotency_key=f"lpg-return:{made.pk}:deposit",
            by=actor,
        )
        made.save(update_fields=["entry"])
    return made


def returns_of(customer):
    return (
        CylinderReturn.objects.filter(customer=customer)
        .annotate(n_cylinders=Count("cylinders"))
        .order_by("-at", "-pk")
    )
