"""What every channel adapter is and answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from gasworks.notifications.models import Message, Preference


@dataclass(frozen=True)
class Outcome:
    """A provider's answer. `retry`: worth trying again (a timeout, a 5xx, throttling); a refusal
    (an invalid number) is not. `error` keeps the provider's own words."""

    sent: bool
    ref: str = ""
    retry: bool = False
    error: str = ""


# Where each channel's address is: on the customer or on their preferences, the field, and why
# there is none when it is blank. Per channel, not per provider: any SMS provider sends to the
# phone. The set-based writers (notifications/store.py) read the same table.
ADDRESS_OF: dict[str, tuple[str, str, str]] = {
    "portal": ("customer", "account_no", ""),
    "sms": ("customer", "phone", "no phone number"),
    "wechat": ("preference", "wechat_openid", "no WeChat account linked"),
    "email": ("preference", "email_address", "no email address"),
}


class Adapter:
    code: ClassVar[str] = ""
    channel: str = ""
    # Whether sending the same message twice is harmless (the provider dedupes by our key, or the
    # "sending" is a row in our own database): a message caught mid-send is then sent again;
    # otherwise it is reconciled (`query`) or left for a person to check.
    idempotent: ClassVar[bool] = False

    def configured(self) -> bool:
        return True

    def address(self, customer, preference: Preference | None) -> tuple[str, str]:
        """(address, "") where to send, or ("", reason) when this customer cannot get it."""
        on, field, why = ADDRESS_OF[self.channel]
        holder = customer if on == "customer" else preference
        value = getattr(holder, field, "") if holder is not None else ""
        return (value, "") if value else ("", why)

    def send(self, message: Message, subject: str, text: str) -> Outcome:
        raise NotImplementedError

    def query(self, message: Message) -> Outcome | None:
        """Ask the provider what became of a message caught mid-send (None: it cannot say)."""
        return None

    def describe(self) -> str:
        return self.code
