"""Reading routes (抄表册): a supervisor builds a route from a district, a street or picked meters,
orders its stops and assigns it to a meter reader. The one writer of ReadingRoute and RouteStop;
every change runs in a transaction holding the route's row, and stops are always numbered
1..n in walking order."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from gasworks.errors import DomainError, InvalidInput
from gasworks.metering.models import Meter, MeterStatus, ReadingRoute, RouteStop
from gasworks.system import audit

READER_ROLE = "meter_reader"
NAME_MAX = 80


def installed_meters(district: str = "", street: str = "", query: str = "") -> QuerySet[Meter]:
    """Installed meters to pick from, in walking order (address, then serial number): those of
    a district, on a street (a part of the address, e.g. 望京街道), or matching a search."""
    meters = Meter.objects.filter(status=MeterStatus.INSTALLED).select_related("premises")
    if district:
        meters = meters.filter(premises__district=district)
    if street:
        meters = meters.filter(premises__address__icontains=street)
    if query:
        meters = meters.filter(Q(serial_no__istartswith=query) | Q(premises__address__icontains=query))
    return meters.order_by("premises__address", "serial_no")


def districts() -> list[str]:
    """Districts that have installed meters, for the builder's choice."""
    rows = (
        Meter.objects.filter(status=MeterStatus.INSTALLED)
        .exclude(premises__district="")
        .values_list("premises__district", flat=True)
        .distinct()
    )
    return sorted(rows)


def readers():
    return get_user_model().objects.filter(role=READER_ROLE, is_active=True).order_by("username")


def _check_name(name: str, route: ReadingRoute | None = None) -> str:
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise InvalidInput(
            "invalid", _("Give the route a name."), {"name": [_("Between 1 and 80 characters.")]}
        )
    others = ReadingRoute.objects.filter(name=name)
    if route is not None:
        others = others.exclude(pk=route.pk)
    if others.exists():
        raise InvalidInput(
            "duplicate_name", _("A route with this name exists."), {"name": [_("Already used.")]}
        )
    return name


def _check_reader(reader):
    if reader is not None and (reader.role != READER_ROLE or not reader.is_active):
        raise InvalidInput(
            "invalid_reader",
            _("Assign the route to an active meter reader."),
            {"reader": [_("Not a meter reader.")]},
        )
    return reader


def _check_meters(meter_ids) -> list[int]:
    """The ids as ints in the given order, once each; every one an installed meter."""
    try:
        ids = list(dict.fromkeys(int(pk) for pk in meter_ids))
    except (TypeError, ValueError):
        raise InvalidInput("invalid", _("Unknown meters."), {"meters": [_("Unknown meters.")]}) from None
    found = set(Meter.objects.filter(pk__in=ids, status=MeterStatus.INSTALLED).values_list("pk", flat=True))
    if len(found) != len(ids):
        raise InvalidInput(
            "invalid", _("Some meters are unknown or removed."), {"meters": [_("Unknown or removed meters.")]}
        )
    return ids


def _locked(route: ReadingRoute) -> ReadingRoute:
    return ReadingRoute.objects.select_for_update().get(pk=route.pk)


def _renumber(route: ReadingRoute, meter_ids: list[int]) -> None:
    """Make the route's stops exactly ``meter_ids``, numbered 1..n in that order."""
    route.stops.exclude(meter_id__in=meter_ids).delete()
    current = {s.meter_id: s for s in route.stops.all()}
    changed, new = [], []
    for position, meter_id in enumerate(meter_ids, 1):
        stop = current.get(meter_id)
        if stop is None:
            new.append(RouteStop(route=route, meter_id=meter_id, position=position))
        elif stop.position != position:
            stop.position = position
            changed.append(stop)
    if changed:
        RouteStop.objects.bulk_update(changed, ["position"])
    if new:
        RouteStop.objects.bulk_create(new)


def stop_ids(route: ReadingRoute) -> list[int]:
    return list(route.stops.order_by("position", "pk").values_list("meter_id", flat=True))


@transaction.atomic
def create_route(name: str, reader=None, meter_ids=(), by=None) -> ReadingRoute:
    """A new route with the given meters in that order (perhaps none yet)."""
    name = _check_name(name)
    reader = _check_reader(reader)
    ids = _check_meters(meter_ids)
    route = ReadingRoute.objects.create(name=name, reader=reader)
    _renumber(route, ids)
    audit.record("create", route, None, {"reader": reader and reader.pk, "stops": len(ids)}, actor=by)
    return route


@transaction.atomic
def update_route(route: ReadingRoute, name: str, reader=None, by=None) -> ReadingRoute:
    """Rename the route and (re)assign it: reader None leaves it unassigned."""
    route = _locked(route)
    before = {"name": route.name, "reader": route.reader_id}
    route.name, route.reader = _check_name(name, route), _check_reader(reader)
    route.save(update_fields=["name", "reader"])
    audit.record("update", route, before, {"name": route.name, "reader": route.reader_id}, actor=by)
    return route


@transaction.atomic
def add_stops(route: ReadingRoute, meter_ids, by=None) -> int:
    """Append meters not yet on the route, in the given order; returns how many were added."""
    route = _locked(route)
    current = stop_ids(route)
    added = [pk for pk in _check_meters(meter_ids) if pk not in current]
    _renumber(route, current + added)
    if added:
        audit.record("update", route, None, {"added": added}, actor=by)
    return len(added)


@transaction.atomic
def remove_stop(route: ReadingRoute, meter_id, by=None) -> None:
    route = _locked(route)
    current = stop_ids(route)
    meter_id = _on_route(current, meter_id)
    _renumber(route, [pk for pk in current if pk != meter_id])
    audit.record("update", route, {"stop": meter_id}, None, actor=by)


@transaction.atomic
def move_stop(route: ReadingRoute, meter_id, offset: int, by=None) -> None:
    """Move one stop up (offset -1) or down (+1); at either end it stays."""
    route = _locked(route)
    current = stop_ids(route)
    meter_id = _on_route(current, meter_id)
    index = current.index(meter_id)
    target = max(0, min(len(current) - 1, index + offset))
    current.insert(target, current.pop(index))
    _renumber(route, current)


@transaction.atomic
def reorder(route: ReadingRoute, meter_ids, by=None) -> None:
    """Put the stops in this order (a drag in the builder): the same meters, each once."""
    route = _locked(route)
    current = stop_ids(route)
    try:
        order = [int(pk) for pk in meter_ids]
    except (TypeError, ValueError):
        order = []
    if sorted(order) != sorted(current) or len(set(order)) != len(order):
        raise InvalidInput(
            "invalid_order",
            _("The new order must list the route's stops, each once."),
            {"meters": [_("Not the route's stops.")]},
        )
    _renumber(route, order)


def _on_route(current: list[int], meter_id) -> int:
    try:
        meter_id = int(meter_id)
    except (TypeError, ValueError):
        meter_id = None
    if meter_id not in current:
        raise DomainError("not_on_route", _("That meter is not on this route."), status=400)
    return meter_id
