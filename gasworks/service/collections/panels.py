"""The ladder's panels: on the staff customer page and in the portal."""

from gasworks.service.collections.models import CollectionStep, MedicalNeed, SupplyCut


def customer_panel(request, customer):
    if not request.user.has_perm("service.view_collectionstep"):
        return None
    steps = list(CollectionStep.objects.filter(customer=customer).order_by("-created_on", "-pk")[:10])
    cut = SupplyCut.objects.filter(customer=customer).first()
    medical = MedicalNeed.objects.filter(customer=customer).first()
    if not steps and cut is None and medical is None:
        return None
    return {
        "template": "service/collections/customer_panel.html",
        "steps": steps,
        "cut": cut,
        "medical": medical,
    }


def portal_panel(request, customer):
    steps = list(
        CollectionStep.objects.filter(customer=customer, live=True).order_by("-created_on", "-pk")[:3]
    )
    if not steps:
        return None
    return {"template": "service/collections/portal_panel.html", "steps": steps}
