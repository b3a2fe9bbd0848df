"""Cylinder business rules: registry, status moves, filling interlock, residual weighing,
inspections. Orders and delivery live in orders.py. Every refusal raises before any write."""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.cylinders import rules
from gasworks.cylinders.models import (
    TRANSITIONS,
    Cylinder,
    CylinderEvent,
    CylinderInspection,
    CylinderModel,
    CylinderStatus,
    EventKind,
    Filling,
    FillRefusal,
    InspectionResult,
    ResidualWeighing,
    Standard,
    Station,
)
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib.consumption import ConsumptionError, customer_lpg_use, mass_used, net_fill
from gasworks.lib.money import round_volume, to_decimal
from gasworks.system import audit, parameters

S = CylinderStatus
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,31}$")


def normalize_code(raw: str) -> str:
    return (raw or "").strip().upper()


def home_station() -> Station:
    """The station this installation runs as (parameter lpg_station_code)."""
    code = parameters.get("lpg_station_code")
    station = Station.objects.filter(code=code).first()
    if station is None:
        try:
            with transaction.atomic():
                station = Station.objects.create(code=code, name=parameters.get("station_name"))
        except IntegrityError:
            station = Station.objects.get(code=code)
    return station


@dataclass
class CylinderData:
    code: str
    model: str
    tare_kg: Decimal
    manufactured_on: datetime.date
    rated_fill_kg: Decimal | None = None
    next_inspection_on: datetime.date | None = None
    last_inspection_on: datetime.date | None = None
    maker: str = ""
    standard: str = Standard.GB5842_2006


def register_cylinder(data: CylinderData, by=None, owner: Station | None = None, today=None) -> Cylinder:
    today = today or timezone.localdate()
    code = normalize_code(data.code)
    if not CODE_RE.match(code):
        raise InvalidInput(
            "invalid_code",
            _("A cylinder code is 4 to 32 letters, digits or dashes."),
            {"code": [_("Use 4 to 32 letters, digits or dashes.")]},
        )
    if data.model not in CylinderModel.values:
        raise InvalidInput("invalid_model", _("Unknown cylinder model."), {"model": [_("Unknown model.")]})
    if data.standard not in Standard.values:
        raise InvalidInput("invalid_standard", _("Unknown standard."), {"standard": [_("Unknown standard.")]})
    tare = to_decimal(data.tare_kg)
    rated = (
        to_decimal(data.rated_fill_kg)
        if data.rated_fill_kg is not None
        else rules.default_rated_fill(data.model)
    )
    if tare <= 0 or rated <= 0:
        raise InvalidInput("invalid_mass", _("Tare and rated fill must be positive."))
    if data.manufactured_on > today:
        raise InvalidInput(
            "invalid_date",
            _("The manufacture date is in the future."),
            {"manufactured_on": [_("In the future.")]},
        )
    scrap_on = rules.scrap_date(data.standard, data.manufactured_on)
    next_on = data.next_inspection_on or rules.first_inspection_due(data.standard, data.manufactured_on)
    if next_on < data.manufactured_on:
        raise InvalidInput(
            "invalid_date",
            _("The next inspection cannot be before manufacture."),
            {"next_inspection_on": [_("Before the manufacture date.")]},
        )
    now = timezone.now()
    with transaction.atomic():
        if Cylinder.objects.filter(code=code).exists():
            raise _duplicate(code)
        try:
            with transaction.atomic():
                cylinder = Cylinder.objects.create(
                    code=code,
                    model=data.model,
                    tare_kg=tare,
                    rated_fill_kg=rated,
                    maker=data.maker,
                    manufactured_on=data.manufactured_on,
                    standard=data.standard,
                    last_inspection_on=data.last_inspection_on,
                    next_inspection_on=min(next_on, scrap_on),
                    scrap_on=scrap_on,
                    owner=owner or home_station(),
                )
        except IntegrityError:
            raise _duplicate(code) from None
        _event(cylinder, EventKind.REGISTERED, "", cylinder.status, by, now)
    return cylinder


def _duplicate(code: str) -> DomainError:
    return DomainError(
        "duplicate_code",
        _("Code %(code)s is already in use or retired; a cylinder code is never reused.") % {"code": code},
        {"code": [_("Already used.")]},
    )


def _event(cylinder, kind, from_status, to_status, by, at, **extra) -> CylinderEvent:
    return CylinderEvent.objects.create(
        cylinder=cylinder,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        by=by if getattr(by, "is_authenticated", False) else None,
        at=at,
        **extra,
    )


def set_status(cylinder: Cylinder, to_status: str, kind: str, by=None, at=None, **extra) -> CylinderEvent:
    """Move a (locked) cylinder along the transition table and log it; an illegal move raises."""
    from_status = cylinder.status
    TRANSITIONS.move(cylinder, to_status, code=cylinder.code)
    cylinder.save(
        update_fields=["status", "customer", "last_fill", "last_inspection_on", "next_inspection_on"]
    )
    return _event(cylinder, kind, from_status, to_status, by, at or timezone.now(), **extra)


def lock(code_or_cylinder) -> Cylinder:
    """The cylinder row, locked for the rest of the transaction; unknown code → 404-like error."""
    code = (
        code_or_cylinder.code if isinstance(code_or_cylinder, Cylinder) else normalize_code(code_or_cylinder)
    )
    cylinder = Cylinder.objects.select_for_update().select_related("owner").filter(code=code).first()
    if cylinder is None:
        raise DomainError(
            "unknown_cylinder", _("No cylinder has the code %(code)s.") % {"code": code}, status=404
        )
    return cylinder


def fill_refusal(cylinder: Cylinder, station: Station, today: datetime.date) -> DomainError | None:
    """The interlock before weighing: why this station may not fill this cylinder today, or None."""
    if cylinder.status == S.SCRAPPED:
        return DomainError("cylinder_scrapped", _("Cylinder %(code)s is scrapped.") % {"code": cylinder.code})
    if cylinder.owner_id != station.pk:
        return DomainError(
            "not_owned",
            _("Cylinder %(code)s belongs to station %(owner)s; this station fills only its own.")
            % {"code": cylinder.code, "owner": cylinder.owner.code},
        )
    if today >= cylinder.scrap_on:
        return DomainError(
            "past_scrap_date",
            _("Cylinder %(code)s reached its scrap date %(date)s.")
            % {"code": cylinder.code, "date": cylinder.scrap_on},
        )
    if today > cylinder.next_inspection_on:
        return DomainError(
            "inspection_overdue",
            _("Cylinder %(code)s was due for inspection on %(date)s.")
            % {"code": cylinder.code, "date": cylinder.next_inspection_on},
        )
    if cylinder.status != S.EMPTY_IN_STATION:
        return DomainError(
            "wrong_status",
            _("Cylinder %(code)s is %(status)s; only an empty cylinder in the station is filled.")
            % {"code": cylinder.code, "status": S(cylinder.status).label},
        )
    return None


def parse_mass(value, field: str) -> Decimal:
    try:
        mass = to_decimal(value)
    except (ValueError, TypeError):
        raise InvalidInput(
            "invalid_mass", _("Enter a weight in kg."), {field: [_("Enter a number.")]}
        ) from None
    if mass <= 0 or mass >= 1000:
        raise InvalidInput("invalid_mass", _("The weight is out of range."), {field: [_("Out of range.")]})
    return round_volume(mass)


def record_filling(code, gross_kg, by=None, scale_id: str = "", station: Station | None = None) -> Filling:
    """Fill one cylinder: lock it, run the interlock, net = gross − tare ≤ rated fill, record.
    A refusal of a known cylinder writes nothing of the fill but is itself recorded (FillRefusal,
    after the refused attempt's transaction) before the error is raised."""
    gross = parse_mass(gross_kg, "gross_kg")
    station = station or home_station()
    now = timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        cylinder = lock(code)
        refusal = fill_refusal(cylinder, station, today)
        if refusal is None:
            try:
                net = net_fill(gross, cylinder.tare_kg, cylinder.rated_fill_kg)
            except ConsumptionError as exc:
                refusal = DomainError(
                    exc.code, _weighing_message(exc.code, cylinder, gross), {"gross_kg": [exc.message]}
                )
            else:
                if net == 0:
                    refusal = DomainError(
                        "nothing_filled", _("The gross weight equals the tare: nothing was filled.")
                    )
        if refusal is None:
            filling = Filling.objects.create(
                cylinder=cylinder,
                station=station,
                gross_kg=gross,
                tare_kg=cylinder.tare_kg,
                net_kg=net,
                scale_id=scale_id[:40],
                filled_by=by if getattr(by, "is_authenticated", False) else None,
                filled_at=now,
            )
            audit.record("create", filling, None, audit.snapshot(filling), actor=filling.filled_by)
            cylinder.last_fill = filling
            set_status(
                cylinder, S.FULL_IN_STATION, EventKind.FILLED, by, now, mass_kg=net, note=scale_id[:255]
            )
            return filling
    # Nothing of the fill was written; the refusal is kept for the LPG report (refusals by reason).
    FillRefusal.objects.create(
        cylinder=cylinder,
        station=station,
        reason=refusal.code,
        gross_kg=gross,
        by=by if getattr(by, "is_authenticated", False) else None,
        at=now,
    )
    raise refusal


def _weighing_message(code: str, cylinder: Cylinder, gross: Decimal) -> str:
    if code == "overfill":
        return _("Overfill: %(net)s kg net is above the rated fill %(rated)s kg of %(code)s.") % {
            "net": gross - cylinder.tare_kg,
            "rated": cylinder.rated_fill_kg,
            "code": cylinder.code,
        }
    if code == "gross_below_tare":
        return _("The gross weight %(gross)s kg is below the tare %(tare)s kg of %(code)s.") % {
            "gross": gross,
            "tare": cylinder.tare_kg,
            "code": cylinder.code,
        }
    return _("The weighing is not possible.")


def record_residual(code, gross_kg, by=None, scale_id: str = "") -> ResidualWeighing:
    """Weigh a returned empty: residual = gross − tare; the customer used last net fill − residual."""
    gross = parse_mass(gross_kg, "gross_kg")
    now = timezone.now()
    with transaction.atomic():
        cylinder = lock(code)
        if cylinder.status != S.EMPTY_IN_STATION:
            raise DomainError(
                "wrong_status",
                _("Only a returned empty cylinder in the station is weighed for residual gas."),
            )
        fill = cylinder.last_fill
        if fill is not None and ResidualWeighing.objects.filter(filling=fill).exists():
            raise DomainError("already_weighed", _("This return was already weighed."))
        try:
            residual = mass_used(cylinder.tare_kg, gross)
            used = customer_lpg_use(fill.net_kg, residual) if fill is not None else None
        except ConsumptionError as exc:
            raise DomainError(exc.code, exc.message, {"gross_kg": [exc.message]}) from None
        returned = cylinder.events.filter(kind=EventKind.RETURNED).order_by("-at", "-pk").first()
        customer = returned.customer if returned else None
        weighing = ResidualWeighing.objects.create(
            cylinder=cylinder,
            customer=customer,
            filling=fill,
            gross_kg=gross,
            residual_kg=residual,
            used_kg=used,
            scale_id=scale_id[:40],
            by=by if getattr(by, "is_authenticated", False) else None,
            at=now,
        )
        _event(
            cylinder,
            EventKind.RESIDUAL,
            cylinder.status,
            cylinder.status,
            by,
            now,
            mass_kg=residual,
            customer=customer,
        )
    return weighing


# --- inspections -------------------------------------------------------------------------------


def due_for_inspection(days: int, today=None):
    """Cylinders in service whose inspection or scrap date falls within `days` (or is past)."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=days)
    return (
        Cylinder.objects.exclude(status__in=[S.SCRAPPED, S.AT_INSPECTION])
        .filter(Q(next_inspection_on__lte=horizon) | Q(scrap_on__lte=horizon))
        .order_by("next_inspection_on", "code")
    )


def send_to_inspection(code, by=None) -> CylinderInspection:
    now = timezone.now()
    with transaction.atomic():
        cylinder = lock(code)
        set_status(cylinder, S.AT_INSPECTION, EventKind.INSPECTION_SENT, by, now)
        return CylinderInspection.objects.create(
            cylinder=cylinder,
            sent_on=timezone.localdate(now),
            by=by if getattr(by, "is_authenticated", False) else None,
        )


def _open_inspection(cylinder) -> CylinderInspection:
    inspection = cylinder.inspections.filter(result=InspectionResult.PENDING).first()
    if inspection is None or cylinder.status != S.AT_INSPECTION:
        raise DomainError(
            "not_at_inspection", _("Cylinder %(code)s is not at inspection.") % {"code": cylinder.code}
        )
    return inspection


def pass_inspection(
    code, by=None, next_on: datetime.date | None = None, note: str = ""
) -> CylinderInspection:
    now = timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        cylinder = lock(code)
        inspection = _open_inspection(cylinder)
        if today >= cylinder.scrap_on:
            raise DomainError(
                "past_scrap_date",
                _("Cylinder %(code)s reached its scrap age; it cannot pass.") % {"code": cylinder.code},
            )
        next_on = next_on or rules.next_inspection_after(today, cylinder.scrap_on)
        if next_on <= today or next_on > cylinder.scrap_on:
            raise InvalidInput(
                "invalid_date",
                _("The next inspection must be after today and not after the scrap date %(date)s.")
                % {"date": cylinder.scrap_on},
                {"next_on": [_("Out of range.")]},
            )
        cylinder.last_inspection_on = today
        cylinder.next_inspection_on = next_on
        set_status(cylinder, S.EMPTY_IN_STATION, EventKind.INSPECTION_PASSED, by, now, note=note[:255])
        inspection.result = InspectionResult.PASSED
        inspection.decided_on = today
        inspection.next_inspection_on = next_on
        inspection.note = note[:255]
        inspection.save()
    return inspection


def fail_inspection(code, by=None, note: str = "") -> CylinderInspection:
    now = timezone.now()
    with transaction.atomic():
        cylinder = lock(code)
        inspection = _open_inspection(cylinder)
        cylinder.last_inspection_on = timezone.localdate(now)
        set_status(cylinder, S.SCRAPPED, EventKind.INSPECTION_FAILED, by, now, note=note[:255])
        inspection.result = InspectionResult.FAILED
        inspection.decided_on = timezone.localdate(now)
        inspection.note = note[:255]
        inspection.save()
    return inspection


def scrap(code, by=None, note: str = "") -> Cylinder:
    """Retire a cylinder in the station (e.g. at its scrap age); its code is never reused."""
    with transaction.atomic():
        cylinder = lock(code)
        set_status(cylinder, S.SCRAPPED, EventKind.SCRAPPED, by, note=note[:255])
    return cylinder


def public_status(cylinder: Cylinder, today=None) -> dict:
    """What the QR label's public page shows: no customer, no person."""
    today = today or timezone.localdate()
    fill = cylinder.last_fill
    return {
        "code": cylinder.code,
        "model": cylinder.model,
        "status": cylinder.status,
        "scrapped": cylinder.status == S.SCRAPPED,
        "last_fill_on": timezone.localdate(fill.filled_at) if fill else None,
        "net_kg": fill.net_kg if fill else None,
        "next_inspection_on": cylinder.next_inspection_on,
        "inspection_valid": cylinder.status != S.SCRAPPED
        and today <= cylinder.next_inspection_on
        and today < cylinder.scrap_on,
        "scrap_on": cylinder.scrap_on,
    }
