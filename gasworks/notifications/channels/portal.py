"""The portal inbox: always on; "sending" is making the message readable in the portal."""

from django.utils.translation import gettext as _

from gasworks.notifications.channels.base import Adapter, Outcome


class PortalAdapter(Adapter):
    code = "portal"
    channel = "portal"
    idempotent = True

    def describe(self) -> str:
        return _("Portal inbox")

    def send(self, message, subject, text):
        return Outcome(sent=True, ref=f"portal:{message.pk}")
