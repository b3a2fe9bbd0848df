"""Checklist templates. A change to the checklist is a new version; old results keep theirs."""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from gasworks.safety.models import ChecklistItem, ChecklistTemplate, HazardLevel

# The station's standard home checklist (version 1): (code, label, level when failed).
STANDARD_ITEMS = [
    ("leak_test", _("Leak test at joints, valves and meter (soap or detector)"), HazardLevel.MAJOR),
    ("hose", _("Hose: age under limit, no cracks, clamped, not through walls"), HazardLevel.KEY),
    ("valves", _("Valves open and close freely, no corrosion"), HazardLevel.KEY),
    ("ventilation", _("Ventilation of the kitchen or boiler room"), HazardLevel.KEY),
    ("alarm", _("Gas alarm present and working"), HazardLevel.ORDINARY),
    ("appliance", _("Appliances: flame-failure device, flue connected"), HazardLevel.KEY),
    ("meter", _("Meter condition: seal intact, no damage, readable"), HazardLevel.ORDINARY),
    ("pipework", _("Pipework: fixed, not concealed or used as a hanger"), HazardLevel.ORDINARY),
]


def create_version(title: str, items: list[tuple[str, str, str]]) -> ChecklistTemplate:
    """A new version that replaces the one in use."""
    with transaction.atomic():
        last = ChecklistTemplate.objects.select_for_update().order_by("-version").first()
        ChecklistTemplate.objects.filter(active=True).update(active=False)
        template = ChecklistTemplate.objects.create(version=(last.version + 1) if last else 1, title=title)
        ChecklistItem.objects.bulk_create(
            ChecklistItem(template=template, code=code, label=str(label), order=n, hazard_level=level)
            for n, (code, label, level) in enumerate(items, start=1)
        )
    return template


def ensure_standard() -> ChecklistTemplate:
    current = ChecklistTemplate.objects.filter(active=True).order_by("-version").first()
    return current or create_version(str(_("Home safety inspection")), STANDARD_ITEMS)
