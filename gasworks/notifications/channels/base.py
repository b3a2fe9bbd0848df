"""What every channel adapter is and answers."""

from __future__ import annotations

import os
from collections.abc import Sequence
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
    # The request may have reached the provider but no answer came (a read timeout): the message
    # stays `sending`, and recover() asks the provider once the claim is stale, as after a crash.
    unknown: bool = False


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

    def send_many(self, items: Sequence[tuple[Message, str, str]]) -> list[Outcome]:
        """Send (message, subject, text) items, an outcome each in the same order; a provider
        that takes many recipients a request batches them."""
        return [self.send(message, subject, text) for message, subject, text in items]

    def query(self, message: Message) -> list[str] | None:
        """Ask the provider what became of a message caught mid-send: the references of the
        deliveries it made under our id (`message.out_id`) to this address and template (empty:
        none), or None when it cannot say."""
        return None

    def describe(self) -> str:
        return self.code


def env(name: str) -> str:
    # Read when used, not at import: the channel page and the tests see a change at once.
    return os.environ.get(name, "").strip()


def summary(provider: str, signature: str, templates: dict[str, str]) -> str:
    """The channel page's line: the provider, its signature and how many templates are mapped
    (never a key or a secret)."""
    from django.utils.translation import ngettext

    count = ngettext("%(n)s template", "%(n)s templates", len(templates)) % {"n": len(templates)}
    return " · ".join(part for part in (provider, f"【{signature}】" if signature else "", count) if part)


def in_parallel(send, jobs: list, workers: int = 4) -> list:
    """`send(*job)` for each job, a few requests in flight at once (a provider's round trip is
    mostly waiting); the answers in the jobs' order."""
    if len(jobs) <= 1:
        return [send(*job) for job in jobs]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        return list(pool.map(lambda job: send(*job), jobs))


def waves(messages: Sequence[Message]) -> list[list[Message]]:
    """The messages in waves, each holding at most one message per address and event: the
    second to a number goes out only after the first was answered. A provider queried after a
    crash counts k deliveries to a number under a claim's id; they are then the first k of
    that number's messages (sender.recover relies on it), whatever ran in parallel."""
    result: list[list[Message]] = []
    seen: dict[tuple[str, str], int] = {}
    for message in sorted(messages, key=lambda m: m.pk):
        index = seen.get((message.address, message.event), 0)
        seen[(message.address, message.event)] = index + 1
        if index == len(result):
            result.append([])
        result[index].append(message)
    return result


def template_ids(name: str) -> dict[str, str]:
    """Our event kinds to the provider's approved template ids, from an environment variable
    written `kind=id,kind=id` (e.g. `bill_issued=SMS_123456,low_balance=SMS_123457`)."""
    pairs = (item.split("=", 1) for item in env(name).split(",") if "=" in item)
    return {kind.strip(): code.strip() for kind, code in pairs if kind.strip() and code.strip()}


def provider_variables(message: Message) -> dict[str, str]:
    """What a provider's template is filled with: the event's own variables, and the account
    number where our wording names it (providers send only their approved templates, so our
    wording is not sent). A district's supply interruption thus has equal variables for all."""
    from gasworks.notifications import texts
    from gasworks.notifications.sender import values

    kind = texts.KINDS.get(message.event)
    if kind is None:
        return {}
    names = (*(("account_no",) if "account_no" in texts.names_in(str(kind.text)) else ()), *kind.variables)
    known = values(message)
    return {name: str(known.get(name, "")) for name in names}
