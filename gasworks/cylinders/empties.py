"""Empty cylinders coming back from a customer (in exchange on a delivery, or for good), each
optionally weighed on the spot: residual = gross − tare, and the customer used last net fill −
residual (lib.consumption). Weighings are checked for every cylinder before anything is written."""

import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from gasworks.cylinders.models import Cylinder, CylinderStatus, ResidualWeighing
from gasworks.cylinders.services import normalize_code, parse_mass
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib.consumption import ConsumptionError, customer_lpg_use, mass_used

# A typed weight after a scanned code: "A0001 16.25". A code is at least 4 characters and has no
# dot, so a token of up to 3 digits, or digits with a decimal point, can only be a weight.
WEIGHT_RE = re.compile(r"^\d{1,3}(\.\d{1,3})?$")


@dataclass(frozen=True)
class EmptyBack:
    code: str
    gross_kg: Decimal | None = None


@dataclass(frozen=True)
class Weighed:
    """What an empty's weighing gives, computed before any write."""

    gross_kg: Decimal
    residual_kg: Decimal
    used_kg: Decimal | None


def parse(items, field: str = "empties_back") -> list[EmptyBack]:
    """Text ("A1 16.2, A2"), a list of codes, of {"code", "gross_kg"} dicts or of EmptyBack, to
    EmptyBack items; a code scanned twice, or a weight with no code before it, is refused."""
    if isinstance(items, str):
        result = _parse_text(items, field)
    else:
        result = []
        for item in items:
            if isinstance(item, EmptyBack):
                code, gross = item.code, item.gross_kg
            elif isinstance(item, dict):
                code, gross = item.get("code", ""), item.get("gross_kg")
            else:
                code, gross = item, None
            if normalize_code(code):
                gross = None if gross in (None, "") else parse_mass(gross, field)
                result.append(EmptyBack(normalize_code(code), gross))
    codes = [item.code for item in result]
    if len(set(codes)) != len(codes):
        raise InvalidInput(
            "duplicate_scan", _("A cylinder was scanned twice."), {field: [_("Scanned twice.")]}
        )
    return result


def _parse_text(text: str, field: str) -> list[EmptyBack]:
    result: list[EmptyBack] = []
    for token in text.replace(",", " ").split():
        if WEIGHT_RE.match(token):
            if not result or result[-1].gross_kg is not None:
                raise InvalidInput(
                    "weight_without_code",
                    _("The weight %(kg)s follows no cylinder code; type it after the code.") % {"kg": token},
                    {field: [_("Put each weight after its code.")]},
                )
            result[-1] = EmptyBack(result[-1].code, parse_mass(token, field))
        else:
            result.append(EmptyBack(normalize_code(token)))
    return result


def weigh(cylinder: Cylinder, gross_kg: Decimal | None, field: str = "empties_back") -> Weighed | None:
    """The residual weighing of one returned empty (None when it was not weighed); refuses a
    weight below the tare or above what the last fill can have left."""
    if gross_kg is None:
        return None
    fill = cylinder.last_fill
    try:
        residual = mass_used(cylinder.tare_kg, gross_kg)
        used = customer_lpg_use(fill.net_kg, residual) if fill is not None else None
    except ConsumptionError as exc:
        message = _("%(code)s weighs %(gross)s kg: %(why)s.") % {
            "code": cylinder.code,
            "gross": gross_kg,
            "why": _reason(exc.code, cylinder),
        }
        raise InvalidInput(exc.code, message, {field: [message]}) from None
    return Weighed(gross_kg, residual, used)


def _reason(code: str, cylinder: Cylinder) -> str:
    if code == "negative_mass":
        return _("below its tare %(tare)s kg") % {"tare": cylinder.tare_kg}
    if code == "residual_above_fill":
        return _("more gas than its last fill of %(net)s kg") % {
            "net": cylinder.last_fill.net_kg if cylinder.last_fill else "?"
        }
    return _("not a possible weight")


def check_held_by(cylinder: Cylinder, customer) -> None:
    if cylinder.status != CylinderStatus.AT_CUSTOMER or cylinder.customer_id != customer.pk:
        raise DomainError(
            "not_at_customer",
            _("%(code)s is not a cylinder held by this customer.") % {"code": cylinder.code},
        )


def record(cylinder: Cylinder, weighed: Weighed | None, customer, by, at) -> None:
    """Store the weighing (the return event carries the residual as its mass)."""
    if weighed is None:
        return
    ResidualWeighing.objects.create(
        cylinder=cylinder,
        customer=customer,
        filling=cylinder.last_fill,
        gross_kg=weighed.gross_kg,
        residual_kg=weighed.residual_kg,
        used_kg=weighed.used_kg,
        scale_id="return",
        by=by if getattr(by, "is_authenticated", False) else None,
        at=at,
    )


def event_extra(weighed: Weighed | None) -> dict:
    if weighed is None:
        return {}
    note = f"gross {weighed.gross_kg} kg"
    if weighed.used_kg is not None:
        note += f", used {weighed.used_kg} kg"
    return {"mass_kg": weighed.residual_kg, "note": note}
