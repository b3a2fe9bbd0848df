"""Reading the audit log: its entries and the records that are their own audit trail (the
ledger: every entry names who moved what money and when, and is never edited), filtered by user,
object, action and date, in one paginated list, each change shown as labelled fields.

Other apps add such a record with ``register`` (billing adds the ledger); ``gasworks.system``
knows nothing of them."""

import datetime as dt
import heapq
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import CharField, F, Q, QuerySet, Value
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gasworks.lib.dates import start_of_day
from gasworks.system.models import AuditEntry

# Keys written by explicit audit calls that are not model fields, and watched fields that have no
# verbose_name of their own.
EXTRA_LABELS = {
    "requested_by": gettext_lazy("requested by"),
    "approved_by": gettext_lazy("approved by"),
    "decided_by": gettext_lazy("decided by"),
    "created_by": gettext_lazy("created by"),
    "raised_by": gettext_lazy("raised by"),
    "rectified_by": gettext_lazy("rectified by"),
    "closed_by": gettext_lazy("closed by"),
    "filled_by": gettext_lazy("filled by"),
    "chunks_total": gettext_lazy("chunks in all"),
    "chunks_done": gettext_lazy("chunks done"),
    "last_customer_id": gettext_lazy("last customer billed"),
    "run": gettext_lazy("billing run"),
    "cashier": gettext_lazy("cashier"),
    "station": gettext_lazy("station"),
    "leader": gettext_lazy("leader"),
    "item_result": gettext_lazy("checklist result"),
    "rotated": gettext_lazy("key replaced"),
    "closed": gettext_lazy("closed"),
    "override": gettext_lazy("override"),
    "reason": gettext_lazy("reason"),
    "items": gettext_lazy("items"),
    "tiers": gettext_lazy("tiers"),
    "groups": gettext_lazy("groups"),
    "permissions": gettext_lazy("permissions"),
    "final_value": gettext_lazy("final register value"),
    "removed_on": gettext_lazy("removed on"),
}

# The fixed notes services write, shown in the reader's language (a note with free text, such as
# a reason, is shown as written).
NOTES = {
    "hazard raised": gettext_lazy("hazard raised"),
    "hazard rectified": gettext_lazy("hazard rectified"),
    "hazard closed": gettext_lazy("hazard closed"),
    "hazard reopened": gettext_lazy("hazard reopened"),
    "appointment booked": gettext_lazy("appointment booked"),
    "checklist draft edited": gettext_lazy("checklist draft edited"),
    "override revoked": gettext_lazy("override revoked"),
    "after an approved reading": gettext_lazy("after an approved reading"),
    "billed as read": gettext_lazy("billed as read"),
    "shift closed": gettext_lazy("shift closed"),
    "prices added": gettext_lazy("prices added"),
    "permissions add": gettext_lazy("permissions added"),
    "permissions remove": gettext_lazy("permissions removed"),
    "permissions clear": gettext_lazy("permissions cleared"),
}


@dataclass(frozen=True)
class Filters:
    actor: int | None = None
    model: str = ""
    object_id: str = ""
    q: str = ""
    action: str = ""
    since: dt.date | None = None
    until: dt.date | None = None

    def at_range(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The dates as an [aware start, aware end) range in the station's time zone."""

        def start(day):
            return start_of_day(day) if day else None

        return start(self.since), start(self.until + dt.timedelta(days=1)) if self.until else None


@dataclass
class Change:
    label: str
    before: str
    after: str


@dataclass
class Row:
    at: dt.datetime
    actor: object
    action: str
    type_label: str
    object_id: str
    object_repr: str
    note: str = ""
    url: str = ""
    changes: list[Change] = field(default_factory=list)


@dataclass(frozen=True)
class Source:
    """A table listed with the audit log. ``rows`` returns a queryset of (id, at) for the
    filters, or None when they exclude it; ``load`` turns ids into Rows."""

    key: str
    model_label: str
    rows: Callable[[Filters], QuerySet | None]
    load: Callable[[list[int]], dict[int, Row]]
    actions: dict = field(default_factory=dict)


SOURCES: list[Source] = []


def register(source: Source) -> None:
    if all(s.key != source.key for s in SOURCES):
        SOURCES.append(source)


# --- labels ---------------------------------------------------------------------------------


def model_of(label: str):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def type_label(label: str) -> str:
    model = model_of(label)
    return capfirst(model._meta.verbose_name) if model is not None else label


def action_labels() -> dict[str, str]:
    labels = dict(AuditEntry.Action.choices)
    for source in SOURCES:
        labels.update(source.actions)
    return {k: str(v) for k, v in labels.items()}


def _field(model, key: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(key)
    except FieldDoesNotExist:
        return None


def field_label(model, key: str) -> str:
    f = _field(model, key)
    if f is not None and hasattr(f, "verbose_name"):
        if f.verbose_name == key.replace("_", " "):  # no verbose_name of its own: look it up
            return capfirst(str(EXTRA_LABELS.get(key, _(f.verbose_name))))
        return capfirst(f.verbose_name)
    return capfirst(str(EXTRA_LABELS.get(key, key.replace("_", " "))))


def field_value(model, key: str, value, names: dict | None = None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    f = _field(model, key)
    if f is not None and getattr(f, "choices", None):
        return str(dict(f.flatchoices).get(value, value))
    if f is not None and f.many_to_one and names is not None:
        return names.get((f.related_model, value), f"#{value}")
    if isinstance(value, dict):
        return "; ".join(f"{field_label(None, k)}: {field_value(None, k, v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        if key in MANY:  # ids of related rows (a group's permissions): how many
            return ngettext("%(n)d item", "%(n)d items", len(value)) % {"n": len(value)}
        return ", ".join(field_value(None, "", v) for v in value)
    return str(value)


DEFAULT_REPR = re.compile(r"^\w+ object \(\w+\)$")  # a model without __str__: type and id say it
MANY = {"permissions", "groups"}
HIDDEN = {"id", "idempotency_key", "request_hash"}  # the id is shown beside the type; keys are noise


def changes(model, before: dict | None, after: dict | None, names: dict | None = None) -> list[Change]:
    """The before and after values as labelled rows, in the order the after side names them.
    ``names`` maps (related model, pk) to a name, for foreign keys (see ``related_names``)."""
    before, after = before or {}, after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [Change("", field_value(None, "", before), field_value(None, "", after))]
    keys = [k for k in list(after) + [k for k in before if k not in after] if k not in HIDDEN]
    return [
        Change(
            field_label(model, k),
            field_value(model, k, before[k], names) if k in before else "",
            field_value(model, k, after[k], names) if k in after else "",
        )
        for k in keys
    ]


def related_names(pairs) -> dict:
    """{(related model, pk): name} for the foreign keys among ``pairs`` of (model, values), one
    query per related model."""
    wanted: dict = {}
    for model, values in pairs:
        for key, value in (values or {}).items() if isinstance(values, dict) else ():
            f = _field(model, key)
            if f is not None and f.many_to_one and value not in (None, ""):
                wanted.setdefault(f.related_model, set()).add(value)
    names = {}
    for related, pks in wanted.items():
        for pk, obj in related._default_manager.in_bulk(list(pks)).items():
            names[(related, pk)] = str(obj)
    return names


def note_text(note: str) -> str:
    # Older entries of a group's permissions carried the ids after a colon: the table shows them.
    key = note.split(": [", 1)[0]
    return str(NOTES.get(key, note))


# --- the list -------------------------------------------------------------------------------


def keyed(qs: QuerySet, source: str, at: str) -> QuerySet:
    """(source, id, time) of each row: the shape every part of the union has. All three are
    annotations so that each part lists them in the same order."""
    return (
        qs.order_by()
        .annotate(src=Value(source, output_field=CharField()), ref=F("pk"), t=F(at))
        .values_list("src", "ref", "t")
    )


def _entries(filters: Filters) -> QuerySet | None:
    if filters.model and filters.model in {s.model_label for s in SOURCES}:
        return None
    qs = AuditEntry.objects.all()
    if filters.action:
        if filters.action not in AuditEntry.Action.values:
            return None
        qs = qs.filter(action=filters.action)
    if filters.actor:
        qs = qs.filter(actor_id=filters.actor)
    if filters.model:
        qs = qs.filter(model=filters.model)
    if filters.object_id:
        qs = qs.filter(object_id=filters.object_id)
    if filters.q:
        qs = qs.filter(Q(object_repr__icontains=filters.q) | Q(note__icontains=filters.q))
    since, until = filters.at_range()
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    return keyed(qs, "audit", "at")


def _load_entries(ids: list[int]) -> dict[int, Row]:
    rows = {}
    labels = action_labels()
    entries = list(AuditEntry.objects.filter(pk__in=ids).select_related("actor"))
    names = related_names((model_of(e.model), side) for e in entries for side in (e.before, e.after))
    for e in entries:
        model = model_of(e.model)
        rows[e.pk] = Row(
            at=e.at,
            actor=e.actor,
            action=labels.get(e.action, e.action),
            type_label=type_label(e.model),
            object_id=e.object_id,
            object_repr="" if DEFAULT_REPR.match(e.object_repr) else e.object_repr,
            note=note_text(e.note),
            changes=changes(model, e.before, e.after, names),
        )
    return rows


class Merged:
    """The parts' rows newest first, as a sequence the paginator counts and slices. Each part is
    read on its own, ordered by its time and id (its own time index serves it, a page at a time)
    and the parts are merged here: a UNION ... ORDER BY made PostgreSQL read and sort every
    ledger entry to show the newest 50 (1.4 s at 2,000,000 entries; a year of a million
    customers has 24,000,000). The rows of page n cost each part's first n pages, so deep pages
    cost more; CappedPaginator offers the first 10,000 rows."""

    def __init__(self, parts: list[QuerySet]):
        self.parts = [p.order_by("-t", "-ref") for p in parts]

    def count(self) -> int:
        return sum(p.count() for p in self.parts)

    def count_upto(self, limit: int) -> int:
        """The rows, counting no further than ``limit`` (each part stops there)."""
        return min(limit, sum(p.order_by()[:limit].count() for p in self.parts))

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step not in (None, 1) or index.stop is None:
            raise TypeError("a Merged log is sliced as [start:stop]")
        start, stop = index.start or 0, index.stop
        streams = [list(p[:stop]) for p in self.parts]
        merged = heapq.merge(*streams, key=lambda row: (row[2], row[1]), reverse=True)
        return list(itertools.islice(merged, start, stop))


class LogPage:
    """A page of the combined log: ``query`` is the parts' (source, id, at) rows merged newest
    first (Merged), which the paginator counts and slices; ``rows`` loads what the page shows."""

    def __init__(self, filters: Filters):
        self.filters = filters
        parts = [q for q in [_entries(filters), *(s.rows(filters) for s in SOURCES)] if q is not None]
        self.query = Merged(parts or [keyed(AuditEntry.objects.none(), "audit", "at")])

    @staticmethod
    def rows(items) -> list[Row]:
        by_source: dict[str, list[int]] = {}
        for src, pk, _at in items:
            by_source.setdefault(src, []).append(pk)
        loaders = {"audit": _load_entries, **{s.key: s.load for s in SOURCES}}
        loaded = {src: loaders[src](ids) for src, ids in by_source.items() if src in loaders}
        return [loaded[src][pk] for src, pk, _at in items if pk in loaded.get(src, {})]


def object_types() -> list[tuple[str, str]]:
    """(label, verbose name) of every type in the log, for the filter."""
    labels = set(AuditEntry.objects.order_by().values_list("model", flat=True).distinct())
    labels |= {s.model_label for s in SOURCES}
    return sorted(((label, type_label(label)) for label in labels), key=lambda t: t[1])
