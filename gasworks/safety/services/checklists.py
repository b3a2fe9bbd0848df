"""Checklist templates. A change to the checklist is a new version: a draft copied from the one in
use, edited, then activated. Inspections keep the version they were filled against, so a version
that has been in use never changes again."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gasworks.errors import DomainError, InvalidInput
from gasworks.safety.models import ChecklistItem, ChecklistTemplate, HazardLevel
from gasworks.system import audit

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The station's standard home checklist (version 1): (code, label, level when failed).
STANDARD_ITEMS = [
    (
        "leak_test",
        gettext_lazy("Leak test at joints, valves and meter (soap or detector)"),
        HazardLevel.MAJOR,
    ),
    ("hose", gettext_lazy("Hose: age under limit, no cracks, clamped, not through walls"), HazardLevel.KEY),
    ("valves", gettext_lazy("Valves open and close freely, no corrosion"), HazardLevel.KEY),
    ("ventilation", gettext_lazy("Ventilation of the kitchen or boiler room"), HazardLevel.KEY),
    ("alarm", gettext_lazy("Gas alarm present and working"), HazardLevel.ORDINARY),
    ("appliance", gettext_lazy("Appliances: flame-failure device, flue connected"), HazardLevel.KEY),
    ("meter", gettext_lazy("Meter condition: seal intact, no damage, readable"), HazardLevel.ORDINARY),
    ("pipework", gettext_lazy("Pipework: fixed, not concealed or used as a hanger"), HazardLevel.ORDINARY),
]
CODE = re.compile(r"^[a-z0-9_-]{1,40}$")


@dataclass(frozen=True)
class ItemInput:
    code: str
    label: str
    hazard_level: str
    order: int = 0


def _insert_items(template: ChecklistTemplate, items) -> None:
    ChecklistItem.objects.bulk_create(
        ChecklistItem(template=template, code=code, label=str(label), order=n, hazard_level=level)
        for n, (code, label, level) in enumerate(items, start=1)
    )


def _next_version() -> int:
    last = ChecklistTemplate.objects.select_for_update().order_by("-version").first()
    return (last.version + 1) if last else 1


def create_version(title: str, items: Sequence[tuple[str, StrOrPromise, str]]) -> ChecklistTemplate:
    """A new version that goes into use at once, replacing the one in use."""
    with transaction.atomic():
        version = _next_version()
        for old in ChecklistTemplate.objects.select_for_update().filter(active=True):
            old.active = False
            old.save(update_fields=["active"])
        template = ChecklistTemplate.objects.create(
            version=version, title=title, active=True, activated_at=timezone.now()
        )
        _insert_items(template, items)
    return template


def ensure_standard() -> ChecklistTemplate:
    current = ChecklistTemplate.objects.filter(active=True).order_by("-version").first()
    return current or create_version(str(gettext_lazy("Home safety inspection")), STANDARD_ITEMS)


def current_draft() -> ChecklistTemplate | None:
    return ChecklistTemplate.objects.filter(active=False, activated_at__isnull=True).first()


def new_draft(*, by) -> ChecklistTemplate:
    """The next version as a draft, with the items of the version in use (or the standard ones)."""
    try:
        with transaction.atomic():
            version = _next_version()
            if current_draft() is not None:
                raise DomainError(
                    "draft_exists", _("A draft version already exists: finish or discard it first.")
                )
            source = ChecklistTemplate.objects.filter(active=True).first()
            template = ChecklistTemplate.objects.create(
                version=version,
                title=source.title if source else str(gettext_lazy("Home safety inspection")),
                active=False,
            )
            if source is None:
                _insert_items(template, STANDARD_ITEMS)
            else:
                _insert_items(
                    template,
                    [(i.code, i.label, i.hazard_level) for i in source.items.order_by("order", "pk")],
                )
    except IntegrityError as exc:  # two drafts started at once: the version number is unique
        raise DomainError("draft_exists", _("Another draft was started at the same time.")) from exc
    return template


def _locked_draft(template: ChecklistTemplate) -> ChecklistTemplate:
    locked = ChecklistTemplate.objects.select_for_update().get(pk=template.pk)
    if not locked.is_draft:
        raise DomainError(
            "version_in_use",
            _("Version %(v)s has been in use and cannot change: start a new version.")
            % {"v": locked.version},
        )
    return locked


def save_draft(template: ChecklistTemplate, title: str, items: list[ItemInput], *, by) -> ChecklistTemplate:
    """Replace the draft's title and items (the whole list, in the order given)."""
    fields: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        fields["title"] = [_("This field is required.")]
    if not items:
        fields["items"] = [_("A checklist needs at least one item.")]
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not CODE.match(item.code or ""):
            fields[f"items.{index}.code"] = [_("Lower-case letters, digits, - and _ only.")]
        elif item.code in seen:
            fields[f"items.{index}.code"] = [_("Used twice.")]
        seen.add(item.code)
        if not (item.label or "").strip():
            fields[f"items.{index}.label"] = [_("This field is required.")]
        if item.hazard_level not in HazardLevel.values:
            fields[f"items.{index}.hazard_level"] = [_("Unknown level.")]
    if fields:
        raise InvalidInput("invalid_checklist_version", _("The checklist has errors."), fields)
    ordered = sorted(enumerate(items), key=lambda pair: (pair[1].order, pair[0]))
    with transaction.atomic():
        locked = _locked_draft(template)
        locked.title = title[:120]
        locked.save(update_fields=["title"])
        before = {
            "title": locked.title,
            "items": list(locked.items.values_list("code", "label", "hazard_level")),
        }
        locked.title = title[:120]
        locked.save(update_fields=["title"])
        locked.items.all().delete()  # a draft has no results: nothing refers to its items yet
        rows = [(i.code, i.label.strip()[:160], i.hazard_level) for _n, i in ordered]
        _insert_items(locked, rows)
        after = {"title": locked.title, "items": [list(r) for r in rows]}
        audit.record("update", locked, before, after, note="checklist draft edited", actor=by)
    return locked


def activate(template: ChecklistTemplate, *, by) -> ChecklistTemplate:
    """Put the draft into use; the version in use retires (its inspections keep it)."""
    with transaction.atomic():
        locked = _locked_draft(template)
        if not locked.items.exists():
            raise DomainError("empty_checklist", _("A checklist needs at least one item."))
        for old in ChecklistTemplate.objects.select_for_update().filter(active=True):
            old.active = False
            old.save(update_fields=["active"])
        locked.active = True
        locked.activated_at = timezone.now()
        locked.save(update_fields=["active", "activated_at"])
    return locked


def discard(template: ChecklistTemplate, *, by) -> None:
    with transaction.atomic():
        locked = _locked_draft(template)
        locked.items.all().delete()
        locked.delete()
