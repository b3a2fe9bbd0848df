"""The safety panel on the staff customer page: the supply block, open hazards, inspections."""

from gasworks.safety.interlock import blocking_hazards, supply_block_reason
from gasworks.safety.models import UNCLOSED_HAZARD_STATUSES, Hazard, InspectionTask


def customer_panel(request, customer):
    user = request.user
    can_hazards = user.has_perm("safety.view_hazard")
    can_tasks = user.has_perm("safety.view_inspectiontask")
    reason = supply_block_reason(customer)
    # Everyone who may see the customer sees the block, whatever their role.
    if not (reason or can_hazards or can_tasks):
        return None
    hazards = (
        Hazard.objects.filter(customer=customer, status__in=UNCLOSED_HAZARD_STATUSES).order_by("deadline")
        if can_hazards
        else []
    )
    tasks = (
        InspectionTask.objects.filter(customer=customer).select_related("inspector").order_by("-due_on")[:5]
        if can_tasks
        else []
    )
    return {
        "template": "safety/customer_panel.html",
        "customer": customer,
        "block_reason": reason,
        "blocking": list(blocking_hazards(customer)) if user.has_perm("safety.add_supplyoverride") else [],
        "hazards": hazards,
        "tasks": tasks,
    }
