"""What the collections ladder plugs into the rest: parameters, role permissions, menu entries,
the customer page and portal panels, the admin pages of the holiday calendar and the medical
register, the beat schedule."""

from django.utils.translation import gettext_lazy as _


def connect() -> None:
    from django.contrib import admin

    from gasworks.accounts.roles import extend
    from gasworks.service.collections import models, params, tasks  # noqa: F401  (parameters register on import)
    from gasworks.service.collections.panels import customer_panel, portal_panel
    from gasworks.web import views
    from gasworks.web.navigation import Item, register

    # The station manager runs the ladder (it reads everything already); the counter sees an
    # account's steps.
    extend("manager", "service.run_collections")
    extend("cashier", "service.view_collectionstep")
    register(
        Item(
            _("Debt collection"), "service:collections", "service.view_collectionstep", icon="hourglass-split"
        )
    )
    register(Item(_("Payment reminders"), "service:collections-mine", customer=True, icon="hourglass-split"))
    if customer_panel not in views.CUSTOMER_SECTIONS:
        views.CUSTOMER_SECTIONS.append(customer_panel)
    if portal_panel not in views.PORTAL_SECTIONS:
        views.PORTAL_SECTIONS.append(portal_panel)
    for model, columns in (
        (models.Holiday, ("day", "kind", "name")),
        (models.MedicalNeed, ("customer", "note", "registered_on")),
    ):
        if not admin.site.is_registered(model):
            admin.site.register(model, list_display=columns)
