"""Writing the outbox: which messages an event gives, one per channel the customer gets.

Called inside the transaction of the work that caused it (in-transaction event subscribers), so
the messages commit or roll back with it. Nothing here may fail on a customer's data: a missing
phone is a `suppressed` message that says why, never an error. Rows are written in bulk with
ON CONFLICT DO NOTHING on the unique key, so an event delivered twice (a continued billing run)
writes nothing twice.

Rules:
- the portal inbox always gets the message;
- SMS, WeChat and mail go where the customer chose (SMS by default) and the channel is configured;
  a kind the customer opted out of goes to the portal only;
- a safety message (supply interruption, hazard, emergency) ignores opt-outs and always goes by
  SMS too when there is a phone: it cannot be opted out of on every channel;
- an SMS that is not a safety message waits out the quiet hours (`next_try_at`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from gasworks.customers.models import Customer
from gasworks.lib.dates import start_of_day
from gasworks.notifications import channels, store, texts
from gasworks.notifications.channels.base import ADDRESS_OF
from gasworks.notifications.models import Channel, Message, MessageStatus, Preference
from gasworks.system import parameters

OUTSIDE_CHANNELS = (Channel.SMS, Channel.WECHAT, Channel.EMAIL)
DEFAULT_LANGUAGE = "zh-hans"  # a customer who never set preferences


def quiet_until(at: datetime) -> datetime | None:
    """When the SMS quiet hours that `at` falls in end (None: not in quiet hours)."""
    start, end = int(parameters.get("quiet_hours_start")), int(parameters.get("quiet_hours_end"))
    local = timezone.localtime(at)
    hour = local.hour
    quiet = (start <= hour or hour < end) if start > end else (start <= hour < end)
    if not quiet:
        return None
    day = local.date() if hour < end else local.date() + timedelta(days=1)
    return start_of_day(day) + timedelta(hours=end)


def wanted(channel: str, kind: texts.Kind, preference: Preference | None) -> bool:
    if channel == Channel.PORTAL:
        return True
    if kind.safety and channel == Channel.SMS:
        return True
    chosen = getattr(preference, channel, channel == Channel.SMS) if preference else channel == Channel.SMS
    opted_out = bool(preference and kind.code in (preference.opt_out or []))
    return bool(chosen) and (kind.safety or not opted_out)


def due_at(channel: str, kind: texts.Kind, at: datetime, quiet: datetime | None) -> datetime:
    """When a message with an address is first tried: an SMS that is not a safety message waits
    out the quiet hours."""
    waits = channel == Channel.SMS and not kind.safety and quiet is not None
    return quiet if waits and quiet is not None else at


def active_channels() -> dict[str, channels.Adapter]:
    found = {c: channels.active(c) for c in (Channel.PORTAL, *OUTSIDE_CHANNELS)}
    return {channel: adapter for channel, adapter in found.items() if adapter is not None}


# What wanted() reads of a preference: the three channel switches and whether the kind is opted out.
Profile = tuple[bool, bool, bool, bool]
PROFILES: tuple[Profile, ...] = tuple(itertools.product((True, False), repeat=4))  # type: ignore[arg-type]


@dataclass(frozen=True)
class ChannelRule:
    """enqueue()'s rules for one kind on one active channel, as data, for the set-based writers
    (notifications/store.py) that write a billing run's notices in SQL: wanted() asked once of
    every preference profile, instead of once per customer."""

    channel: str
    provider: str
    address: tuple[str, str, str]  # ADDRESS_OF: on the customer or the preference, field, why none
    without_preference: bool  # wanted for a customer who never set preferences
    profiles: tuple[Profile, ...]  # (sms, wechat, email, opted out) of the preferences that want it
    due_at: datetime


def rules(kind_code: str, at: datetime) -> list[ChannelRule]:
    kind = texts.KINDS[kind_code]
    quiet = quiet_until(at)
    found = []
    for channel, adapter in active_channels().items():
        profiles = tuple(
            p
            for p in PROFILES
            if wanted(
                channel,
                kind,
                Preference(sms=p[0], wechat=p[1], email=p[2], opt_out=[kind.code] if p[3] else []),
            )
        )
        found.append(
            ChannelRule(
                channel,
                adapter.code,
                ADDRESS_OF[channel],
                wanted(channel, kind, None),
                profiles,
                due_at(channel, kind, at, quiet),
            )
        )
    return found


def enqueue(kind_code: str, items: Iterable[tuple[str, int, Mapping]], at: datetime | None = None) -> int:
    """Queue `kind_code` for each (ref, customer id, variables): `ref` names the event (e.g.
    "bill:42"); the message key adds the customer and the channel. Returns the rows offered
    (a row whose key exists already is skipped by the database)."""
    items = list(items)
    if not items:
        return 0
    kind = texts.KINDS[kind_code]
    at = at or timezone.now()
    ids = list({customer_id for _ref, customer_id, _v in items})
    # One query for the customers and their preferences (a counter payment's receipt notice
    # costs it two: this and the insert).
    customers = Customer.objects.select_related("notification_preference").in_bulk(ids)
    active = active_channels()
    quiet = quiet_until(at)
    rows = []
    for ref, customer_id, variables in items:
        customer = customers.get(customer_id)
        if customer is None:
            continue
        preference = getattr(customer, "notification_preference", None)
        language = preference.language if preference else DEFAULT_LANGUAGE
        for channel, adapter in active.items():
            if not wanted(channel, kind, preference):
                continue
            address, why = adapter.address(customer, preference)
            rows.append(
                Message(
                    customer_id=customer_id,
                    event=kind.code,
                    channel=channel,
                    key=f"{kind.code}:{ref}:{customer_id}:{channel}"[:120],
                    status=MessageStatus.QUEUED if address else MessageStatus.SUPPRESSED,
                    safety=kind.safety,
                    language=language,
                    variables={k: str(v) for k, v in variables.items()},
                    address=address,
                    provider=adapter.code,
                    error=why,
                    next_try_at=due_at(channel, kind, at, quiet) if address else None,
                    created_at=at,
                )
            )
    store.insert_messages(rows)
    queued(len(rows))
    return len(rows)


def queued(count: int) -> None:
    """Messages were written in this transaction: send them after it commits."""
    if count:
        transaction.on_commit(kick, robust=True)  # a sending fault never fails the committed work


def kick() -> None:
    """After a commit that queued messages: send them now where a sender runs on demand."""
    from django.conf import settings

    from gasworks.notifications.tasks import send_notifications

    if getattr(settings, "REDIS_URL", "") or getattr(settings, "NOTIFY_SEND_INLINE", False):
        send_notifications.delay()
