"""What the service desk plugs into the rest: role permissions, menu entries, the panels on the
customer page and on the portal (the history rows are the request's audit trail)."""

from django.utils.translation import gettext_lazy as _

from gasworks.accounts.roles import Role

# Roles that own a kind of request (kinds.RULES) open, see and work them; the manager reads
# everything already and gets the rest here; the admin holds every permission of the app.
DESK_PERMS = (
    "service.view_servicerequest",
    "service.add_servicerequest",
    "service.work_servicerequest",
)
DESK_ROLES = (Role.CASHIER, Role.METER_READER, Role.INSPECTOR, Role.DISPATCHER, Role.MANAGER)


def connect() -> None:
    from gasworks.accounts.roles import extend
    from gasworks.service.desk import (
        panels,
        params,  # noqa: F401  (registers the parameters)
    )
    from gasworks.web import views
    from gasworks.web.navigation import Item, register

    for role in DESK_ROLES:
        extend(role, *DESK_PERMS)
    register(Item(_("Service requests"), "service:desk-list", "service.view_servicerequest", icon="tools"))
    register(Item(_("My service requests"), "service:portal-requests", customer=True, icon="tools"))
    if panels.customer_panel not in views.CUSTOMER_SECTIONS:
        views.CUSTOMER_SECTIONS.append(panels.customer_panel)
    if panels.portal_panel not in views.PORTAL_SECTIONS:
        views.PORTAL_SECTIONS.append(panels.portal_panel)
