"""Roles are Django groups; this table says what each may do. Deny by default: a permission not
listed here is held only by superusers. Later apps extend ROLE_PERMISSIONS with their own codenames."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    CASHIER = "cashier", _("Cashier")
    METER_READER = "meter_reader", _("Meter reader")
    INSPECTOR = "inspector", _("Safety inspector")
    DISPATCHER = "dispatcher", _("Dispatcher")
    FILLER = "filler", _("LPG filler")
    CUSTOMER = "customer", _("Customer")


STAFF_ROLES = [r for r in Role if r != Role.CUSTOMER]

_VIEW_CUSTOMERS = ["customers.view_customer", "customers.view_premises"]

# "app_label.codename" per role. The admin role gets every permission of the Gasworks apps.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.CASHIER: [
        *_VIEW_CUSTOMERS,
        "customers.add_customer",
        "customers.change_customer",
        "customers.transfer_customer",
    ],
    Role.METER_READER: [*_VIEW_CUSTOMERS],
    Role.INSPECTOR: [*_VIEW_CUSTOMERS],
    Role.DISPATCHER: [*_VIEW_CUSTOMERS],
    Role.FILLER: [*_VIEW_CUSTOMERS],
    Role.CUSTOMER: [],
}

# Apps whose every permission the admin role holds.
ADMIN_APPS = [
    "accounts",
    "customers",
    "system",
    "authtoken",
    "auth",
    "axes",
    "metering",
    "billing",
    "payments",
    "cylinders",
    "safety",
    "reports",
]


def extend(role: str, *perms: str) -> None:
    """Let a domain app add its permissions to a role (called from its AppConfig.ready)."""
    current = ROLE_PERMISSIONS.setdefault(role, [])
    current.extend(p for p in perms if p not in current)


def admin_app(label: str) -> None:
    if label not in ADMIN_APPS:
        ADMIN_APPS.append(label)


def sync_role_groups(**kwargs) -> None:
    """Make each role's group hold exactly its permissions; runs after every migrate."""
    from django.contrib.auth.models import Group, Permission

    for role in Role:
        group, _created = Group.objects.get_or_create(name=role.value)
        if role == Role.ADMIN:
            perms = Permission.objects.filter(content_type__app_label__in=ADMIN_APPS)
        else:
            wanted = ROLE_PERMISSIONS.get(role, [])
            perms = Permission.objects.none()
            for item in wanted:
                app_label, codename = item.split(".", 1)
                perms = perms | Permission.objects.filter(
                    content_type__app_label=app_label, codename=codename
                )
        group.permissions.set(perms)
