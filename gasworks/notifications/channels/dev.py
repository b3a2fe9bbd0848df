"""The development channel (the demo, `make run`): SMS and WeChat messages are kept, not sent,
and shown on the admin's outbox page as what would have gone out."""

from django.utils.translation import gettext as _

from gasworks.notifications.channels.base import Adapter, Outcome


class DevAdapter(Adapter):
    code = "dev"
    idempotent = True

    def __init__(self, channel: str):
        self.channel = channel

    def describe(self) -> str:
        return _("Development channel (kept, not sent)")

    def send(self, message, subject, text):
        return Outcome(sent=True, ref=f"dev:{message.key}")
