"""Roles are Django groups; this table says what each may do. Deny by default: a permission not
listed here is held only by superusers. Later apps extend ROLE_PERMISSIONS with their own codenames."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Station manager")
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
    Role.MANAGER: [],  # reads everything (see sync_role_groups); its approvals come from the apps
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


# The station manager (站长) reads everything: every view_* permission of the Gasworks apps
# (those whose AppConfig.name starts "gasworks."), except on the tables of users and parameters,
# which only the administrator manages (and sees). Approvals are named in ROLE_PERMISSIONS.
MANAGER_HIDDEN_MODELS = [("accounts", "user"), ("system", "parameter")]


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
        elif role == Role.MANAGER:
            perms = _manager_reads(Permission) | _listed(Permission, ROLE_PERMISSIONS.get(role, []))
        else:
            perms = _listed(Permission, ROLE_PERMISSIONS.get(role, []))
        group.permissions.set(perms.distinct())


def _listed(Permission, wanted: list[str]):
    perms = Permission.objects.none()
    for item in wanted:
        app_label, codename = item.split(".", 1)
        perms = perms | Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return perms


def gasworks_apps() -> list[str]:
    from django.apps import apps

    return [config.label for config in apps.get_app_configs() if config.name.startswith("gasworks.")]


def _manager_reads(Permission):
    from django.db.models import Q

    hidden = Q()
    for app_label, model in MANAGER_HIDDEN_MODELS:
        hidden |= Q(content_type__app_label=app_label, content_type__model=model)
    return Permission.objects.filter(
        content_type__app_label__in=gasworks_apps(), codename__startswith="view_"
    ).exclude(hidden)
