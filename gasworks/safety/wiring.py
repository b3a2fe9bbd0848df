"""What the safety app plugs into the rest: role permissions, menu entries, the customer page
panel, demo data and the audit log."""

from django.utils.translation import gettext_lazy as _

INSPECTOR_PERMS = (
    "safety.view_inspectiontask",
    "safety.add_inspectiontask",
    "safety.change_inspectiontask",
    "safety.view_checklisttemplate",
    "safety.view_inspectorarea",
    "safety.view_hazard",
    "safety.add_hazard",
    "safety.change_hazard",
    "safety.rectify_hazard",
    "safety.close_hazard",
    "safety.add_photo",
    "safety.view_photo",
)
DISPATCHER_PERMS = (
    "safety.view_emergency",
    "safety.add_emergency",
    "safety.change_emergency",
    "safety.dispatch_emergency",
    "safety.view_crew",
    "safety.add_crew",  # the dispatcher keeps the crew list and who is on duty
    "safety.change_crew",
)


def connect() -> None:
    from gasworks.accounts.roles import extend
    from gasworks.customers.management.commands.generate_data import EXTRA_GENERATORS
    from gasworks.customers.management.commands.seed_demo import EXTRA_SEEDERS
    from gasworks.safety import demo, generate, models
    from gasworks.safety.panels import customer_panel
    from gasworks.system import audit
    from gasworks.web import views
    from gasworks.web.navigation import Item, register

    extend("inspector", *INSPECTOR_PERMS)
    extend("dispatcher", *DISPATCHER_PERMS)
    register(
        Item(_("Inspections"), "safety:inspection-list", "safety.view_inspectiontask", icon="clipboard-check")
    )
    register(Item(_("Hazards"), "safety:hazard-list", "safety.view_hazard", icon="exclamation-triangle"))
    register(Item(_("Emergencies"), "safety:emergency-board", "safety.view_emergency", icon="broadcast"))
    register(Item(_("Crews"), "safety:crew-list", "safety.view_crew", icon="people"))
    register(Item(_("Inspector areas"), "safety:area-list", "safety.view_inspectorarea", icon="map"))
    register(
        Item(_("Checklists"), "safety:checklist-list", "safety.view_checklisttemplate", icon="list-check")
    )
    register(Item(_("My hazards"), "safety:portal-hazards", customer=True, icon="exclamation-triangle"))
    register(Item(_("My inspections"), "safety:portal-inspections", customer=True, icon="calendar-check"))
    register(
        Item(_("Report a gas leak"), "safety:portal-emergency", customer=True, icon="telephone-outbound")
    )
    if customer_panel not in views.CUSTOMER_SECTIONS:
        views.CUSTOMER_SECTIONS.append(customer_panel)
    if demo.seed not in EXTRA_SEEDERS:
        EXTRA_SEEDERS.append(demo.seed)
    if generate.generate not in EXTRA_GENERATORS:
        EXTRA_GENERATORS.append(generate.generate)
    for model in (models.InspectorArea, models.ChecklistTemplate, models.Crew, models.InspectionTask):
        audit.watch(model)
