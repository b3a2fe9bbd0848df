"""What payment arrangements plug into the rest (from ServiceConfig.ready): parameters, role
permissions, the customer-page and portal panels, the daily beat task."""


def connect() -> None:
    from gasworks.accounts.roles import extend
    from gasworks.service.arrangements import params, tasks  # noqa: F401  (register on import)
    from gasworks.service.arrangements.views import customer_panel, portal_panel
    from gasworks.web import views

    # Cashiers see and make arrangements; the station manager also calls them off (it reads
    # everything already). The admin holds every permission of the service app.
    extend("cashier", "service.view_arrangement", "service.add_arrangement")
    extend("manager", "service.add_arrangement", "service.cancel_arrangement")
    if customer_panel not in views.CUSTOMER_SECTIONS:
        views.CUSTOMER_SECTIONS.append(customer_panel)
    if portal_panel not in views.PORTAL_SECTIONS:
        views.PORTAL_SECTIONS.append(portal_panel)
