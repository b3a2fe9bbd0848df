"""What the notifications app plugs into the rest: menu entries, the customer page panel, the
audit log, role permissions."""

from django.utils.translation import gettext_lazy as _


def connect() -> None:
    from gasworks.accounts.roles import admin_app, extend
    from gasworks.notifications.panels import customer_panel, interruption_notice, portal_panel
    from gasworks.web import views
    from gasworks.web.navigation import Item, register

    admin_app("notifications")
    # Staff who talk to customers see what was sent to them (the customer page's messages).
    for role in ("cashier", "dispatcher", "inspector", "manager"):
        extend(role, "notifications.view_message")
    extend("cashier", "notifications.change_preference")
    # Dispatchers and the station manager announce planned supply interruptions.
    for role in ("dispatcher", "manager"):
        extend(
            role,
            "notifications.view_supplyinterruption",
            "notifications.announce_supplyinterruption",
        )
    extend("cashier", "notifications.view_supplyinterruption")
    register(Item(_("Outbox"), "notifications:outbox", "notifications.view_message", icon="envelope"))
    register(Item(_("My messages"), "notifications:inbox", customer=True, icon="envelope"))
    register(
        Item(
            _("Supply interruptions"),
            "notifications:interruptions",
            "notifications.view_supplyinterruption",
            icon="cone-striped",
        )
    )
    if portal_panel not in views.PORTAL_SECTIONS:
        views.PORTAL_SECTIONS.append(portal_panel)
    # The cashier tells the customer in front of them (no permission beyond the counter's own).
    if interruption_notice not in views.COUNTER_SECTIONS:
        views.COUNTER_SECTIONS.append(interruption_notice)
    if customer_panel not in views.CUSTOMER_SECTIONS:
        views.CUSTOMER_SECTIONS.append(customer_panel)
