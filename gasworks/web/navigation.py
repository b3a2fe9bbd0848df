"""The menu: each entry shows only to users who hold its permission (or the customer role)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from gasworks.accounts.access import is_customer

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Item:
    label: StrOrPromise
    url_name: str
    perm: str = ""  # staff permission needed; "" = any staff user
    any_perm: tuple[str, ...] = ()  # or: shown when the user holds at least one of these
    customer: bool = False  # shown to customer logins (and only to them)
    icon: str = "circle"


ITEMS: list[Item] = [
    Item(_("Dashboard"), "home", icon="speedometer2"),
    Item(_("My account"), "portal", customer=True, icon="house"),
    Item(_("Customers"), "customer-list", "customers.view_customer", icon="people"),
    Item(_("Users"), "user-list", "accounts.view_user", icon="person-badge"),
    Item(_("Parameters"), "parameter-list", "system.view_parameter", icon="sliders"),
    Item(_("Audit log"), "audit-list", "system.view_auditentry", icon="journal-text"),
]


def register(item: Item, before: str | None = None) -> None:
    """Domain apps add their menu entries here (from AppConfig.ready)."""
    if any(existing.url_name == item.url_name for existing in ITEMS):
        return
    index = next((i for i, e in enumerate(ITEMS) if e.url_name == before), len(ITEMS))
    ITEMS.insert(index, item)


# Menu sections, in order: an item's section is its URL namespace ("metering:meter-list").
SECTIONS = [
    ("", _("General")),
    ("metering", _("Metering")),
    ("billing", _("Billing")),
    ("payments", _("Payments")),
    ("cylinders", _("LPG cylinders")),
    ("safety", _("Safety")),
    ("notifications", _("Notifications")),
    ("service", _("Service and collections")),
    ("reports", _("Reports")),
    ("system", _("System")),
]
SYSTEM_ITEMS = {"user-list", "parameter-list", "audit-list"}
# Namespaces shown under another's heading (none yet).
SECTION_OF_NAMESPACE: dict[str, str] = {}


def _section_of(url_name: str) -> str:
    if url_name in SYSTEM_ITEMS:
        return "system"
    namespace = url_name.split(":", 1)[0] if ":" in url_name else ""
    namespace = SECTION_OF_NAMESPACE.get(namespace, namespace)
    # An app without a heading of its own is listed under General rather than left out.
    return namespace if namespace in {key for key, _label in SECTIONS} else ""


def group_sections(entries: list[dict]) -> list[dict]:
    """Menu entries grouped into labelled sections (empty sections left out)."""
    grouped = []
    for key, label in SECTIONS:
        items = [e for e in entries if e["section"] == key]
        if items:
            grouped.append({"label": label, "items": items})
    return grouped


def menu_for(user, current_path: str) -> list[dict]:
    if not user.is_authenticated:
        return []
    customer = is_customer(user)
    entries: list[dict] = []
    for item in ITEMS:
        if customer != item.customer:
            continue
        if item.perm and not user.has_perm(item.perm):
            continue
        if item.any_perm and not any(user.has_perm(p) for p in item.any_perm):
            continue
        url = reverse(item.url_name)
        entries.append(
            {
                "label": item.label,
                "url": url,
                "icon": item.icon,
                "active": False,
                "section": _section_of(item.url_name),
            }
        )
    # One item is highlighted: the one whose URL is the longest prefix of the page's (on
    # /cylinders/fill/ that is Filling, not Cylinders at /cylinders/ as well).
    matching: list[dict] = [
        e
        for e in entries
        if (current_path == e["url"] if e["url"] == "/" else current_path.startswith(e["url"]))
    ]
    if matching:
        max(matching, key=lambda e: len(e["url"]))["active"] = True
    return entries
