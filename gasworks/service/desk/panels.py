"""The desk's panels: on the staff customer page (the customer's requests and a button to open
one) and on the portal landing (the customer's open requests)."""

from gasworks.service.desk import services
from gasworks.service.desk.models import OPEN_STATUSES, ServiceRequest


def customer_panel(request, customer):
    user = request.user
    if not user.has_perm("service.view_servicerequest"):
        return None
    requests = services.visible_to(user, ServiceRequest.objects.filter(customer=customer))
    return {
        "template": "service/desk/customer_panel.html",
        "customer": customer,
        "requests": requests.select_related("assigned_to").order_by("-opened_at", "-pk")[:10],
    }


def portal_panel(request, customer):
    live = list(
        ServiceRequest.objects.filter(customer=customer, status__in=OPEN_STATUSES).order_by("due_by")[:5]
    )
    if not live:
        return None
    return {"template": "service/desk/portal_panel.html", "requests": live}
