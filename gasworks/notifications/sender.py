"""Delivering the outbox, after commit, exactly once.

A batch is *claimed* in its own short transaction (queued → sending, FOR UPDATE SKIP LOCKED, so
two senders never take the same message), then each message goes to its provider and its outcome
is *settled* in another transaction: sent, queued again with backoff (a timeout, a 5xx), or
failed (a refusal, or too many tries), keeping the provider's words.

A round is set-based: one claim, the messages grouped by adapter (a provider that takes many
numbers a request gets them together, `Adapter.send_many`), one query for the daily cap, and the
outcomes settled in one UPDATE (store.py).

A sender killed between the provider's answer and the settling leaves the message `sending`.
Once the claim is older than `notify_claim_stale_seconds`, `recover()` settles those, as refunds
are settled: where sending again is harmless (the portal, the development channel) it is queued
again; where the provider can say what became of it (`Adapter.query`: Aliyun and Tencent find
the deliveries made under the claim's `out_id` to that number), the messages it delivered are
marked sent and the others queued again; otherwise (mail, WeChat) it is marked failed with the
reason, for a person to check and resend. Nothing is sent twice. A request that timed out
waiting for its answer (it may have gone) is left `sending` on purpose and settled the same way.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from gasworks.notifications import channels, store, texts
from gasworks.notifications.channels import Outcome
from gasworks.notifications.models import Channel, Message, MessageStatus, Template
from gasworks.system import parameters

log = logging.getLogger("gasworks.notifications")

BACKOFF_MINUTES = (1, 5, 30, 120, 600)
SETTLED_FIELDS = ["status", "sent_at", "provider_ref", "error", "next_try_at", "subject", "text"]


def stale_after() -> timedelta:
    return timedelta(seconds=int(parameters.get("notify_claim_stale_seconds")))


def templates() -> dict[tuple[str, str, str], Template]:
    """Every admin wording by (event, channel, language): read once per sending round."""
    return {(t.event, t.channel, t.language): t for t in Template.objects.all()}


def prefetch_late(messages: Sequence[Message]) -> None:
    """Look up, for a round's messages at once, the variables known only when they are worded:
    the customer's name and account number (kept once, on the customer, not in every row), and
    each kind's own (LATE_VARIABLES: a bill's figures, a payment's receipt number)."""
    from gasworks.customers.models import Customer
    from gasworks.notifications.handlers import LATE_VARIABLES

    people = dict(
        (pk, {"name": name, "account_no": number})
        for pk, name, number in Customer.objects.filter(pk__in={m.customer_id for m in messages}).values_list(
            "pk", "name", "account_no"
        )
    )
    by_event: dict[str, list[Message]] = defaultdict(list)
    for message in messages:
        message.late = dict(people.get(message.customer_id, {}))
        if message.event in LATE_VARIABLES:
            by_event[message.event].append(message)
    for event, group in by_event.items():
        for message, extra in zip(group, LATE_VARIABLES[event]([m.variables for m in group]), strict=True):
            message.late = {**(message.late or {}), **extra}


def values(message: Message) -> dict:
    """The variables a message is worded with: the company, its own, and those known only now."""
    if message.late is None:
        prefetch_late([message])
    return {
        "company": parameters.get("sms_signature").strip("【】"),
        **message.variables,
        **(message.late or {}),
    }


def wording(message: Message, known: dict[tuple[str, str, str], Template] | None = None) -> tuple[str, str]:
    """(subject, text) of a message in its language: the admin's template, else the built-in."""
    if known is None:
        known = templates()
    template = known.get((message.event, message.channel, message.language))
    if template is not None:
        subject, body = template.subject, template.body
    else:
        subject, body = texts.built_in(message.event, message.language)
    variables = values(message)
    return texts.render(subject, variables), texts.render(body, variables)


def claim(limit: int, now: datetime) -> list[int]:
    with transaction.atomic():
        ids = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.QUEUED, next_try_at__lte=now)
            .order_by("next_try_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        # The claim's id goes to the provider with each message (see recover()).
        Message.objects.filter(pk__in=ids).update(
            status=MessageStatus.SENDING,
            claimed_at=now,
            attempts=F("attempts") + 1,
            out_id=f"gw{uuid.uuid4().hex[:16]}",
        )
    return ids


def _sent_today(messages: Sequence[Message], now: datetime) -> Counter:
    """Messages sent today per (customer, channel), for the customers of a round: one query."""
    day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    customers = {m.customer_id for m in messages if not m.safety and m.channel != Channel.PORTAL}
    if not customers:
        return Counter()
    rows = (
        Message.objects.filter(customer_id__in=customers, status=MessageStatus.SENT, sent_at__gte=day)
        .exclude(channel=Channel.PORTAL)
        .values_list("customer_id", "channel")
        .annotate(n=Count("pk"))
    )
    return Counter({(customer, channel): n for customer, channel, n in rows})


def _settled(message: Message, outcome: Outcome, subject: str, text: str, now: datetime) -> Message:
    """The message with a provider's answer applied (not saved)."""
    message.subject, message.text = subject[:200], text
    if outcome.sent:
        message.status, message.sent_at, message.provider_ref, message.error = (
            MessageStatus.SENT,
            now,
            outcome.ref[:80],
            "",
        )
    elif outcome.retry and message.attempts < int(parameters.get("notify_max_attempts")):
        wait = BACKOFF_MINUTES[min(message.attempts, len(BACKOFF_MINUTES)) - 1]
        message.status, message.next_try_at = MessageStatus.QUEUED, now + timedelta(minutes=wait)
        message.error = outcome.error[:255]
    else:
        message.status, message.error = MessageStatus.FAILED, (outcome.error or "refused")[:255]
    return message


def settle_many(answers: Sequence[tuple[Message, Outcome, str, str]], now: datetime) -> dict[int, str]:
    """Record providers' answers in one UPDATE; only rows still `sending` are written (one settled
    meanwhile, by recover() or another sender, keeps its status). Returns each message's new
    status."""
    settled = [
        _settled(message, outcome, subject, text, now)
        for message, outcome, subject, text in answers
        if not outcome.unknown  # left `sending` for recover() to ask about
    ]
    with transaction.atomic():
        store.settle_rows(settled)
    statuses = {message.pk: MessageStatus.SENDING for message, outcome, _s, _t in answers if outcome.unknown}
    return {**statuses, **{message.pk: message.status for message in settled}}


def settle(message_id: int, outcome: Outcome, subject: str, text: str, now: datetime) -> str:
    """Record one provider's answer; returns the new status."""
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        if message.status != MessageStatus.SENDING:
            return message.status  # settled already (by recover, or another sender)
        _settled(message, outcome, subject, text, now).save(update_fields=SETTLED_FIELDS)
        return message.status


def _defer_to_tomorrow(deferred: Sequence[Message], now: datetime) -> None:
    from gasworks.notifications.outbox import quiet_until

    tomorrow = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    resume = quiet_until(tomorrow) or tomorrow
    Message.objects.filter(pk__in=[m.pk for m in deferred], status=MessageStatus.SENDING).update(
        status=MessageStatus.QUEUED, next_try_at=resume, attempts=F("attempts") - 1, error="daily cap reached"
    )


def _adapter(message: Message) -> channels.Adapter | None:
    return channels.by_code(message.provider, message.channel) or channels.active(message.channel)


def send_batch(batch: Sequence[Message], now: datetime, known: dict | None = None) -> dict[int, str]:
    """Word, cap, send (grouped by adapter) and settle claimed messages; their new statuses."""
    known = templates() if known is None else known
    cap = int(parameters.get("notify_daily_cap"))
    sent_today = _sent_today(batch, now)
    answers: list[tuple[Message, Outcome, str, str]] = []
    deferred: list[Message] = []
    prefetch_late(batch)
    groups: dict[tuple[str, str], tuple[channels.Adapter, list]] = {}
    for message in batch:
        adapter = _adapter(message)
        try:
            subject, text = wording(message, known)
        except (KeyError, ValueError, IndexError) as exc:  # a template that cannot be worded
            answers.append((message, Outcome(sent=False, error=f"wording: {exc}"), "", ""))
            continue
        if adapter is None:
            answers.append(
                (message, Outcome(sent=False, error="channel no longer configured"), subject, text)
            )
            continue
        if not message.safety and message.channel != Channel.PORTAL:
            if sent_today[(message.customer_id, message.channel)] >= cap:
                deferred.append(message)
                continue
            sent_today[(message.customer_id, message.channel)] += 1
        groups.setdefault((adapter.code, adapter.channel), (adapter, []))[1].append((message, subject, text))
    for adapter, items in groups.values():
        try:
            outcomes = adapter.send_many(items)
        except Exception as exc:  # an adapter's unexpected error is a provider fault: try again later
            log.exception("sending %s messages through %s", len(items), adapter.code)
            outcomes = [Outcome(sent=False, retry=True, error=f"{type(exc).__name__}: {exc}"[:255])] * len(
                items
            )
        answers.extend((m, outcome, s, t) for (m, s, t), outcome in zip(items, outcomes, strict=True))
    if deferred:
        _defer_to_tomorrow(deferred, now)
    statuses = settle_many(answers, now) if answers else {}
    statuses.update({m.pk: MessageStatus.QUEUED for m in deferred})
    return statuses


def recover(now: datetime | None = None) -> dict[str, int]:
    """Settle the messages a stopped sender left `sending` (see the module's docstring)."""
    now = now or timezone.now()
    counts = {"requeued": 0, "settled": 0, "failed": 0}
    stale = Message.objects.filter(status=MessageStatus.SENDING, claimed_at__lt=now - stale_after())
    # Messages of one claim to one address and event are counted together: the provider's k
    # deliveries under the claim's id were the first k of them (channels.base.waves).
    together: dict[tuple, list[Message]] = defaultdict(list)
    for message in stale.order_by("pk").iterator():
        together[(message.provider, message.channel, message.out_id, message.address, message.event)].append(
            message
        )
    for (provider, channel, *_rest), messages in together.items():
        adapter = channels.by_code(provider, channel)
        if adapter is not None and adapter.idempotent:
            _requeue(messages, now, tried=True)
            counts["requeued"] += len(messages)
            continue
        delivered = adapter.query(messages[0]) if adapter is not None else None
        if delivered is None:
            failure = Outcome(
                sent=False, error="the sender stopped mid-send: check with the provider, then resend"
            )
            settle_many([(m, failure, m.subject, m.text) for m in messages], now)
            counts["failed"] += len(messages)
            continue
        went = messages[: len(delivered)]
        prefetch_late(went)
        known = templates()
        sent = [
            (m, Outcome(sent=True, ref=ref), *wording(m, known))
            for m, ref in zip(went, delivered, strict=False)
        ]
        settle_many(sent, now)
        _requeue(messages[len(delivered) :], now)
        counts["settled"] += len(went)
        counts["requeued"] += len(messages) - len(went)
    return counts


def _requeue(messages: Sequence[Message], now: datetime, tried: bool = False) -> None:
    # A try the provider says never reached it is not counted against the message.
    Message.objects.filter(pk__in=[m.pk for m in messages], status=MessageStatus.SENDING).update(
        status=MessageStatus.QUEUED, next_try_at=now, attempts=F("attempts") - (0 if tried else 1)
    )


def send_due(limit: int = 500, now: datetime | None = None) -> dict[str, int]:
    """One round: recover stale claims, claim up to `limit` due messages, send them."""
    now = now or timezone.now()
    counts = {"sent": 0, "queued": 0, "failed": 0, "unknown": 0, **recover(now)}
    ids = claim(limit, now)
    if not ids:
        return counts
    statuses = send_batch(list(Message.objects.filter(pk__in=ids).order_by("pk")), now)
    for status in statuses.values():
        key = "unknown" if status == MessageStatus.SENDING else status
        counts[key if key in counts else "queued"] += 1
    return counts


def resend(message: Message, by=None) -> Message:
    """A person's resend of a failed or suppressed message: queued again now, its tries reset."""
    Message.objects.filter(pk=message.pk).filter(
        Q(status=MessageStatus.FAILED) | Q(status=MessageStatus.SUPPRESSED, address__gt="")
    ).update(status=MessageStatus.QUEUED, next_try_at=timezone.now(), attempts=0, error="")
    message.refresh_from_db()
    return message
