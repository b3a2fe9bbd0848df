"""Completion does the work of the kind, inside the transaction that marks the request done:
a meter change swaps the meters with both readings, a new connection installs the meter with its
first reading and activates the account, a disconnection cuts supply and a reconnection reopens
it (a valve command for smart meters). The service app sits above the domains and calls their
service functions directly (design.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.errors import DomainError, InvalidInput
from gasworks.lib.events import publish
from gasworks.service.desk.events import DisconnectionDone, ReconnectionDone
from gasworks.service.desk.models import RequestKind, ServiceRequest


@dataclass(frozen=True)
class Work:
    """What the field found, for the kinds that change meters: the old meter (serial number; the
    only installed one when blank) with its final register value, the new meter's serial number,
    first register value and kind."""

    old_meter: str = ""
    old_reading: str | Decimal | None = None
    new_serial_no: str = ""
    new_reading: str | Decimal | None = None
    new_kind: str = ""


def _number(raw, field: str, required: bool) -> Decimal | None:
    if raw is None or str(raw).strip() == "":
        if required:
            raise InvalidInput(f"{field}_required", _("Give the register value."), {field: [_("Required.")]})
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise InvalidInput("invalid", _("Not a number."), {field: [_("Enter a number.")]}) from None
    if not value.is_finite() or value < 0:
        raise InvalidInput(
            "invalid", _("Not a register value."), {field: [_("Enter a number of m³, 0 or more.")]}
        )
    return value


def check(req: ServiceRequest, work: Work) -> None:
    """Refuse missing or malformed figures before anything is locked or written."""
    if req.kind == RequestKind.METER_CHANGE:
        _number(work.old_reading, "old_reading", True)
    if req.kind in (RequestKind.METER_CHANGE, RequestKind.NEW_CONNECTION):
        if not work.new_serial_no.strip():
            raise InvalidInput(
                "new_serial_no_required",
                _("Give the new meter's serial number."),
                {"new_serial_no": [_("Required.")]},
            )
        _number(work.new_reading, "new_reading", False)


def do(req: ServiceRequest, work: Work, *, by, now: dt.datetime) -> str:
    """Do the kind's work (the caller holds the request's lock); returns a line for the history."""
    handler = HANDLERS.get(req.kind)
    return handler(req, work, by, now) if handler else ""


def _installed_meters(customer):
    from gasworks.metering.models import Meter, MeterStatus

    return Meter.objects.filter(premises_id=customer.premises_id, status=MeterStatus.INSTALLED).order_by("pk")


def _old_meter(req: ServiceRequest, work: Work):
    meters = _installed_meters(req.customer)
    if work.old_meter.strip():
        meter = meters.filter(serial_no=work.old_meter.strip()).first()
        if meter is None:
            raise InvalidInput(
                "unknown_meter",
                _("No installed meter %(s)s at this customer's address.") % {"s": work.old_meter},
                {"old_meter": [_("Not installed here.")]},
            )
        return meter
    found = list(meters[:2])
    if len(found) != 1:
        raise InvalidInput(
            "old_meter_required",
            _("Say which meter is replaced (the address has %(n)s installed).") % {"n": len(found)},
            {"old_meter": [_("Required.")]},
        )
    return found[0]


def _meter_change(req: ServiceRequest, work: Work, by, now) -> str:
    from gasworks.metering import services as metering

    old = _old_meter(req, work)
    new = metering.replace_meter(
        old,
        _number(work.old_reading, "old_reading", True),
        work.new_serial_no.strip(),
        timezone.localdate(now),
        new_initial=_number(work.new_reading, "new_reading", False) or Decimal(0),
        new_kind=work.new_kind or None,
        by=by,
        taken_at=now,
    )
    return _("Meter %(old)s (final %(v0)s) replaced by %(new)s (initial %(v1)s).") % {
        "old": old.serial_no,
        "v0": work.old_reading,
        "new": new.serial_no,
        "v1": new.initial_reading,
    }


def _new_connection(req: ServiceRequest, work: Work, by, now) -> str:
    from gasworks.customers import services as customers
    from gasworks.customers.models import Status
    from gasworks.metering import services as metering
    from gasworks.metering.models import MeterKind

    meter = metering.install_meter(
        work.new_serial_no.strip(),
        req.customer.premises,
        kind=work.new_kind or MeterKind.DIAPHRAGM,
        initial_reading=_number(work.new_reading, "new_reading", False) or Decimal(0),
        installed_on=timezone.localdate(now),
        by=by,
    )
    if req.customer.status == Status.SUSPENDED:
        customers.reactivate(
            req.customer, by=by, reason=_("Connected and ignited (%(no)s)") % {"no": req.number}
        )
    return _("Meter %(s)s installed, first reading %(v)s; gas on.") % {
        "s": meter.serial_no,
        "v": meter.initial_reading,
    }


def _valves(req: ServiceRequest, command: str, reason: str) -> int:
    from gasworks.billing import prepaid
    from gasworks.metering.models import MeterKind

    count = 0
    for meter in _installed_meters(req.customer).filter(kind=MeterKind.SMART):
        prepaid.queue_valve(meter, command, reason)
        count += 1
    return count


def _disconnection(req: ServiceRequest, work: Work, by, now) -> str:
    from gasworks.billing.models import ValveCommandKind
    from gasworks.customers import services as customers
    from gasworks.customers.models import Status

    reason = _("Disconnection order %(no)s") % {"no": req.number}
    valves = _valves(req, ValveCommandKind.CLOSE, reason)
    if req.customer.status == Status.ACTIVE:
        customers.suspend(req.customer, reason, by=by)
    publish(DisconnectionDone(req.customer_id, req.pk))
    return _("Supply cut (%(n)s smart valve(s) closed); account suspended.") % {"n": valves}


def _reconnection(req: ServiceRequest, work: Work, by, now) -> str:
    from gasworks.billing.models import ValveCommandKind
    from gasworks.customers import services as customers
    from gasworks.customers.models import Status
    from gasworks.safety import interlock

    blocked = interlock.supply_block_reason(req.customer)
    if blocked:
        raise DomainError("supply_blocked", _("Supply cannot be reopened: %(why)s") % {"why": blocked})
    reason = _("Reconnection order %(no)s") % {"no": req.number}
    if req.customer.status == Status.SUSPENDED:
        customers.reactivate(req.customer, by=by, reason=reason)
    valves = _valves(req, ValveCommandKind.OPEN, reason)
    publish(ReconnectionDone(req.customer_id, req.pk))
    return _("Supply reopened (%(n)s smart valve(s) opened); account active.") % {"n": valves}


HANDLERS: dict[str, Callable[[ServiceRequest, Work, Any, dt.datetime], str]] = {
    RequestKind.METER_CHANGE: _meter_change,
    RequestKind.NEW_CONNECTION: _new_connection,
    RequestKind.DISCONNECTION: _disconnection,
    RequestKind.RECONNECTION: _reconnection,
}
