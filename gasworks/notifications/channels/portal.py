"""The portal inbox: always on; "sending" is making the message readable in the portal."""

from gasworks.notifications.channels.base import Adapter, Outcome


class PortalAdapter(Adapter):
    code = "portal"
    channel = "portal"
    idempotent = True

    def address(self, customer, preference):
        return customer.account_no, ""

    def send(self, message, subject, text):
        return Outcome(sent=True, ref=f"portal:{message.pk}")
