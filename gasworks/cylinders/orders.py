"""LPG orders and delivery: place, assign a worker and vehicle, load full cylinders out, deliver
(empties back, deposits, the charge to the ledger). Locks: order row, then (on delivery) the
customer row, then cylinders in pk order, then (inside ledger.post) the customer's account."""

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.billing import ledger
from gasworks.customers.models import Customer
from gasworks.cylinders import (
    deposits,
    empties,
    rules,  # noqa: F401  (registers the parameters)
)
from gasworks.cylinders.events import LpgOrderDelivered
from gasworks.cylinders.models import (
    ORDER_TRANSITIONS,
    Channel,
    Cylinder,
    CylinderModel,
    CylinderStatus,
    DeliveryLine,
    EventKind,
    LpgOrder,
    LpgPrice,
    OrderStatus,
)
from gasworks.cylinders.services import normalize_code, set_status
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib.events import publish
from gasworks.lib.money import round_money, round_price
from gasworks.safety.interlock import check_supply_allowed
from gasworks.system import parameters

S = CylinderStatus
MAX_QUANTITY = 20


def _actor(by):
    return by if getattr(by, "is_authenticated", False) else None


def _move(order: LpgOrder, to_status: str) -> None:
    ORDER_TRANSITIONS.move(order, to_status, id=order.pk)


def place_order(customer, model: str, quantity: int, channel: str, by=None, note: str = "") -> LpgOrder:
    if model not in CylinderModel.values:
        raise InvalidInput("invalid_model", _("Unknown cylinder model."), {"model": [_("Unknown model.")]})
    if not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(
            "invalid_quantity",
            _("Order 1 to %(n)s cylinders.") % {"n": MAX_QUANTITY},
            {"quantity": [_("1 to %(n)s.") % {"n": MAX_QUANTITY}]},
        )
    if channel not in Channel.values:
        raise InvalidInput("invalid_channel", _("Unknown order channel."))
    if customer.status != "active":
        raise DomainError("customer_inactive", _("The account is not active."))
    check_supply_allowed(customer)
    return LpgOrder.objects.create(
        customer=customer,
        model=model,
        quantity=quantity,
        channel=channel,
        note=note[:255],
        created_by=_actor(by),
        created_at=timezone.now(),
    )


def _lock_order(order) -> LpgOrder:
    return LpgOrder.objects.select_for_update().select_related("customer").get(pk=order.pk)


def assign(order: LpgOrder, worker, vehicle: str, by=None) -> LpgOrder:
    vehicle = (vehicle or "").strip()
    if worker is None or not worker.is_active or worker.is_customer:
        raise InvalidInput(
            "invalid_worker", _("Choose an active staff member."), {"worker": [_("Required.")]}
        )
    if not vehicle:
        raise InvalidInput("invalid_vehicle", _("Enter the vehicle."), {"vehicle": [_("Required.")]})
    with transaction.atomic():
        order = _lock_order(order)
        _move(order, OrderStatus.ASSIGNED)
        order.worker = worker
        order.vehicle = vehicle[:20]
        order.save(update_fields=["status", "worker", "vehicle"])
    return order


def cancel(order: LpgOrder, by=None) -> LpgOrder:
    with transaction.atomic():
        order = _lock_order(order)
        _move(order, OrderStatus.CANCELLED)
        order.save(update_fields=["status"])
    return order


def parse_codes(text_or_list) -> list[str]:
    items = text_or_list.replace(",", " ").split() if isinstance(text_or_list, str) else list(text_or_list)
    codes = [normalize_code(c) for c in items if normalize_code(c)]
    if len(set(codes)) != len(codes):
        raise InvalidInput("duplicate_scan", _("A cylinder was scanned twice."))
    return codes


def _lock_cylinders(codes: list[str]) -> list[Cylinder]:
    rows = list(Cylinder.objects.select_for_update().filter(code__in=codes).order_by("pk"))
    missing = sorted(set(codes) - {c.code for c in rows})
    if missing:
        raise DomainError(
            "unknown_cylinder", _("Unknown cylinder code(s): %(codes)s.") % {"codes": ", ".join(missing)}
        )
    return rows


def price_of(model: str, net_kg: Decimal, on: datetime.date) -> Decimal:
    """The price of one fill: a per-model fill price if one is in force, else a per-kg price
    (for the model, else for any model) times the net mass."""
    versions = LpgPrice.objects.filter(effective_from__lte=on).order_by("-effective_from", "-pk")
    per_fill = versions.filter(model=model, per_kg=False).first()
    if per_fill is not None:
        return round_money(per_fill.price)
    per_kg = (
        versions.filter(model=model, per_kg=True).first() or versions.filter(model="", per_kg=True).first()
    )
    if per_kg is not None:
        return round_money(per_kg.price * net_kg)
    raise DomainError("no_price", _("No LPG price is in force for %(model)s.") % {"model": model})


def set_price(model: str, per_kg: bool, price, effective_from: datetime.date) -> LpgPrice:
    """A new price version (prices are never edited: a change is a new version from a date).
    A version of the same kind on the same date is a clear 400, also when saved concurrently."""
    if model and model not in CylinderModel.values:
        raise InvalidInput("invalid_model", _("Unknown cylinder model."), {"model": [_("Unknown model.")]})
    try:
        value = round_price(price)
    except (TypeError, ValueError):
        value = None
    if value is None or value <= 0:
        raise InvalidInput(
            "invalid_price",
            _("The price must be above zero."),
            {"price": [_("The price must be above zero.")]},
        )
    taken = _("A price of this kind already starts on that date.")
    kind = {"model": model or "", "per_kg": bool(per_kg), "effective_from": effective_from}
    if LpgPrice.objects.filter(**kind).exists():
        raise InvalidInput("price_exists", taken, {"effective_from": [taken]})
    try:
        with transaction.atomic():
            return LpgPrice.objects.create(price=value, **kind)
    except IntegrityError:
        raise InvalidInput("price_exists", taken, {"effective_from": [taken]}) from None


def load(order: LpgOrder, codes, by=None) -> LpgOrder:
    """Scan the full cylinders onto the vehicle: each must be full in the station, of the model
    ordered, and within its inspection and scrap dates."""
    codes = parse_codes(codes)
    now = timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        order = _lock_order(order)
        _move(order, OrderStatus.OUT)  # validated against the table before any cylinder moves
        if len(codes) != order.quantity:
            raise InvalidInput(
                "wrong_count",
                _("The order is for %(n)s cylinders; %(m)s were scanned.")
                % {"n": order.quantity, "m": len(codes)},
                {"out_codes": [_("Scan exactly %(n)s.") % {"n": order.quantity}]},
            )
        cylinders = _lock_cylinders(codes)
        for cylinder in cylinders:
            if cylinder.model != order.model:
                raise DomainError(
                    "wrong_model",
                    _("%(code)s is a %(model)s; the order is for %(want)s.")
                    % {"code": cylinder.code, "model": cylinder.model, "want": order.model},
                )
            if cylinder.status != S.FULL_IN_STATION:
                raise DomainError(
                    "wrong_status",
                    _("%(code)s is %(status)s, not full in the station.")
                    % {"code": cylinder.code, "status": S(cylinder.status).label},
                )
            if today > cylinder.next_inspection_on or today >= cylinder.scrap_on:
                raise DomainError(
                    "inspection_overdue",
                    _("%(code)s is past its inspection or scrap date.") % {"code": cylinder.code},
                )
        for cylinder in cylinders:
            note = f"{order.vehicle} {order.worker.get_username() if order.worker else ''}".strip()
            set_status(cylinder, S.OUT_FOR_DELIVERY, EventKind.OUT, by, now, order=order, note=note)
            DeliveryLine.objects.create(
                order=order,
                cylinder=cylinder,
                direction=DeliveryLine.OUT,
                net_kg=cylinder.last_fill.net_kg if cylinder.last_fill else None,
            )
        order.save(update_fields=["status"])
    return order


def deliver(order: LpgOrder, back_codes=(), take_deposits: bool = True, by=None) -> LpgOrder:
    """Hand the loaded cylinders to the customer, take empties back (each optionally weighed for
    residual gas), charge the fills (and a deposit per extra cylinder the customer now holds, or
    count it as an empty owed). A second delivery of the same order is refused (409) and charges
    nothing; the ledger keys make a charge post at most once in any case."""
    back = empties.parse(back_codes, "back_codes")
    now = timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        order = _lock_order(order)
        if order.status == OrderStatus.DELIVERED:
            raise DomainError(
                "already_delivered",
                _("Order #%(id)s was already delivered on %(at)s; nothing was charged again.")
                % {"id": order.pk, "at": timezone.localtime(order.delivered_at).strftime("%Y-%m-%d %H:%M")},
            )
        _move(order, OrderStatus.DELIVERED)
        # The customer row before the cylinders: deposits.return_for_good locks in the same order.
        customer = Customer.objects.select_for_update().get(pk=order.customer_id)
        check_supply_allowed(customer)
        out_lines = list(
            order.lines.filter(direction=DeliveryLine.OUT).select_related("cylinder").order_by("cylinder_id")
        )
        out_ids = {line.cylinder_id for line in out_lines}
        back_codes = [item.code for item in back]
        cylinders = {
            c.pk: c for c in _lock_cylinders([line.cylinder.code for line in out_lines] + back_codes)
        }
        by_code = {c.code: c for c in cylinders.values()}
        weighed = {}
        for item in back:
            cylinder = by_code[item.code]
            if cylinder.pk in out_ids:
                raise InvalidInput(
                    "duplicate_scan", _("%(code)s is on this delivery.") % {"code": cylinder.code}
                )
            empties.check_held_by(cylinder, customer)
            weighed[cylinder.pk] = empties.weigh(cylinder, item.gross_kg, "back_codes")
        returning = [by_code[code] for code in back_codes]
        total = Decimal("0")
        for line in out_lines:
            line.amount = price_of(order.model, line.net_kg or Decimal("0"), today)
            total += line.amount
        extra = len(out_lines) - len(returning)
        deposits_taken = max(extra, 0) if take_deposits else 0
        deposit_each = round_money(parameters.get("lpg_deposit_per_cylinder"))
        deposit_total = round_money(deposit_each * deposits_taken)
        for line in out_lines:
            cylinder = cylinders[line.cylinder_id]
            cylinder.customer = customer
            set_status(cylinder, S.AT_CUSTOMER, EventKind.DELIVERED, by, now, order=order, customer=customer)
            line.save(update_fields=["amount"])
        for cylinder in sorted(returning, key=lambda c: c.pk):
            w = weighed[cylinder.pk]
            empties.record(cylinder, w, customer, by, now)
            cylinder.customer = None
            set_status(
                cylinder,
                S.EMPTY_IN_STATION,
                EventKind.RETURNED,
                by,
                now,
                order=order,
                customer=customer,
                **empties.event_extra(w),
            )
            DeliveryLine.objects.create(
                order=order,
                cylinder=cylinder,
                direction=DeliveryLine.BACK,
                residual_kg=w.residual_kg if w else None,
            )
        order.amount = round_money(total)
        order.deposit_amount = deposit_total
        order.empties_returned = len(returning)
        order.deposits_taken = deposits_taken
        order.delivered_at = now
        order.save()
        reference = _("LPG order #%(id)s") % {"id": order.pk}
        if order.amount > 0:
            ledger.post(
                customer,
                "lpg_sale",
                -order.amount,
                reference,
                idempotency_key=f"lpg-order:{order.pk}:sale",
                by=_actor(by),
            )
        if deposit_total > 0:
            ledger.post(
                customer,
                "deposit",
                -deposit_total,
                reference,
                idempotency_key=f"lpg-order:{order.pk}:deposit",
                by=_actor(by),
            )
        publish(LpgOrderDelivered(order.pk, customer.pk, order.amount))
    return order


def customer_cylinders(customer) -> dict:
    """Cylinders the customer holds, deposits paid and not refunded (count and money), and
    empties owed (cylinders held without a deposit)."""
    held = deposits.held_cylinders(customer).count()
    paid = deposits.held_deposits(customer)
    return {
        "held": held,
        "deposits": paid.count,
        "deposit_amount": paid.amount,
        "empties_owed": max(held - paid.count, 0),
    }


def delivery_workers():
    return get_user_model().objects.filter(is_active=True).exclude(role="customer").order_by("username")
