"""The messages panel on the staff customer page: the latest messages and the preferences."""

from gasworks.notifications.models import Message, Preference


def customer_panel(request, customer):
    if not request.user.has_perm("notifications.view_message"):
        return None
    from gasworks.notifications.interruptions import current_for

    return {
        "template": "notifications/customer_panel.html",
        "interruptions": current_for(customer),
        "customer": customer,
        "messages_sent": Message.objects.filter(customer=customer).order_by("-created_at", "-pk")[:10],
        "preference": Preference.objects.filter(customer=customer).first(),
        "may_change": request.user.has_perm("notifications.change_preference"),
    }


def interruption_notice(request, customer):
    """The counter's and the portal's notice of a planned interruption that concerns the customer."""
    from gasworks.notifications.interruptions import current_for

    items = current_for(customer)
    return {"template": "notifications/interruption_notice.html", "interruptions": items} if items else None


def portal_panel(request, customer):
    from gasworks.notifications.models import Channel

    notice = interruption_notice(request, customer) or {"interruptions": []}
    unread = Message.objects.filter(
        customer=customer, channel=Channel.PORTAL, read_at__isnull=True, status="sent"
    ).count()
    if not notice["interruptions"] and not unread:
        return None
    return {
        "template": "notifications/portal_panel.html",
        "interruptions": notice["interruptions"],
        "unread": unread,
    }
