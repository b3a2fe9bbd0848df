"""The messages panel on the staff customer page: the latest messages and the preferences."""

from gasworks.notifications.models import Message, Preference


def customer_panel(request, customer):
    if not request.user.has_perm("notifications.view_message"):
        return None
    return {
        "template": "notifications/customer_panel.html",
        "customer": customer,
        "messages_sent": Message.objects.filter(customer=customer).order_by("-created_at", "-pk")[:10],
        "preference": Preference.objects.filter(customer=customer).first(),
        "may_change": request.user.has_perm("notifications.change_preference"),
    }
