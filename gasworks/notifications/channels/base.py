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
        raise NotImplementedError

    def send(self, message: Message, subject: str, text: str) -> Outcome:
        raise NotImplementedError

    def query(self, message: Message) -> Outcome | None:
        """Ask the provider what became of a message caught mid-send (None: it cannot say)."""
        return None

    def describe(self) -> str:
        return self.code
