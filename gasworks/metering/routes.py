"""Reading routes (抄表册): a named walk through meters in order, optionally given to a reader."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from gasworks.errors import InvalidInput
from gasworks.metering.models import Meter, ReadingRoute, RouteStop


def parse_serials(text: str) -> list[str]:
    """Serial numbers one a line or comma-separated, in walking order, each once."""
    serials = [s.strip() for s in (text or "").replace(",", "\n").splitlines() if s.strip()]
    return list(dict.fromkeys(serials))


def create_route(name: str, serials_text: str, reader=None) -> ReadingRoute:
    """The route and its stops, all or nothing. Unknown meters or a name in use are a clear 400
    that writes nothing (two people saving the same name at once: the second is told)."""
    name = (name or "").strip()
    serials = parse_serials(serials_text)
    if not name:
        raise InvalidInput("name_required", _("Give the route a name."), {"name": [_("Required.")]})
    if not serials:
        raise InvalidInput("serials_required", _("List the meters."), {"serials": [_("Required.")]})
    meters = {m.serial_no: m for m in Meter.objects.filter(serial_no__in=serials)}
    unknown = [s for s in serials if s not in meters]
    if unknown:
        message = _("Unknown meters: %(s)s") % {"s": ", ".join(unknown)}
        raise InvalidInput("unknown_meters", message, {"serials": [message]})
    taken = _("A route with this name exists.")
    if ReadingRoute.objects.filter(name=name).exists():
        raise InvalidInput("route_exists", taken, {"name": [taken]})
    try:
        with transaction.atomic():
            route = ReadingRoute.objects.create(name=name, reader=reader)
            RouteStop.objects.bulk_create(
                [RouteStop(route=route, meter=meters[s], position=i) for i, s in enumerate(serials, 1)]
            )
    except IntegrityError:  # the same name saved concurrently
        raise InvalidInput("route_exists", taken, {"name": [taken]}) from None
    return route
