"""Delivering the outbox, after commit, exactly once.

A batch is *claimed* in its own short transaction (queued → sending, FOR UPDATE SKIP LOCKED, so
two senders never take the same message), then each message goes to its provider and its outcome
is *settled* in another transaction: sent, queued again with backoff (a timeout, a 5xx), or
failed (a refusal, or too many tries), keeping the provider's words.

A sender killed between the provider's answer and the settling leaves the message `sending`.
`recover()` settles those, as refunds are settled: where sending again is harmless (the portal,
the development channel, a provider that dedupes by our key) it is queued again; where the
provider can say what became of it (`Adapter.query`), its answer settles it; otherwise it is
marked failed with the reason, for a person to check and resend. Nothing is sent twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from gasworks.notifications import channels, texts
from gasworks.notifications.channels import Outcome
from gasworks.notifications.models import Channel, Message, MessageStatus, Template
from gasworks.system import parameters

log = logging.getLogger("gasworks.notifications")

BACKOFF_MINUTES = (1, 5, 30, 120, 600)
STALE_AFTER = timedelta(minutes=10)


def templates() -> dict[tuple[str, str, str], Template]:
    """Every admin wording by (event, channel, language): read once per sending round."""
    return {(t.event, t.channel, t.language): t for t in Template.objects.all()}


def wording(message: Message, known: dict[tuple[str, str, str], Template] | None = None) -> tuple[str, str]:
    """(subject, text) of a message in its language: the admin's template, else the built-in."""
    if known is None:
        known = templates()
    template = known.get((message.event, message.channel, message.language))
    if template is not None:
        subject, body = template.subject, template.body
    else:
        subject, body = texts.built_in(message.event, message.language)
    from gasworks.notifications.handlers import LATE_VARIABLES

    variables = {"company": parameters.get("sms_signature").strip("【】"), **message.variables}
    late = LATE_VARIABLES.get(message.event)
    if late is not None:
        variables.update(late(message.variables))
    return texts.render(subject, variables), texts.render(body, variables)


def claim(limit: int, now: datetime) -> list[int]:
    with transaction.atomic():
        ids = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.QUEUED, next_try_at__lte=now)
            .order_by("next_try_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        Message.objects.filter(pk__in=ids).update(
            status=MessageStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    return ids


def _over_cap(message: Message, now: datetime) -> bool:
    if message.safety or message.channel == Channel.PORTAL:
        return False
    day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    sent_today = Message.objects.filter(
        customer_id=message.customer_id, channel=message.channel, status=MessageStatus.SENT, sent_at__gte=day
    ).count()
    return sent_today >= int(parameters.get("notify_daily_cap"))


def settle(message_id: int, outcome: Outcome, subject: str, text: str, now: datetime) -> str:
    """Record a provider's answer; returns the new status."""
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        if message.status != MessageStatus.SENDING:
            return message.status  # settled already (by recover, or another sender)
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
        message.save(
            update_fields=["status", "sent_at", "provider_ref", "error", "next_try_at", "subject", "text"]
        )
        return message.status


def _defer_to_tomorrow(message: Message, now: datetime) -> None:
    from gasworks.notifications.outbox import quiet_until

    tomorrow = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    resume = quiet_until(tomorrow) or tomorrow
    Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
        status=MessageStatus.QUEUED, next_try_at=resume, attempts=F("attempts") - 1, error="daily cap reached"
    )


def send_one(message: Message, now: datetime, known: dict | None = None) -> str:
    adapter = channels.by_code(message.provider, message.channel) or channels.active(message.channel)
    try:
        subject, text = wording(message, known)
    except (KeyError, ValueError, IndexError) as exc:  # a template that cannot be worded
        return settle(message.pk, Outcome(sent=False, error=f"wording: {exc}"), "", "", now)
    if adapter is None:
        return settle(
            message.pk, Outcome(sent=False, error="channel no longer configured"), subject, text, now
        )
    if _over_cap(message, now):
        _defer_to_tomorrow(message, now)
        return MessageStatus.QUEUED
    try:
        outcome = adapter.send(message, subject, text)
    except Exception as exc:  # an adapter's unexpected error is a provider fault: try again later
        log.exception("sending message %s", message.pk)
        outcome = Outcome(sent=False, retry=True, error=f"{type(exc).__name__}: {exc}"[:255])
    return settle(message.pk, outcome, subject, text, now)


def recover(now: datetime | None = None) -> dict[str, int]:
    """Settle the messages a stopped sender left `sending` (see the module's docstring)."""
    now = now or timezone.now()
    counts = {"requeued": 0, "settled": 0, "failed": 0}
    stale = Message.objects.filter(status=MessageStatus.SENDING, claimed_at__lt=now - STALE_AFTER)
    for message in stale.iterator():
        adapter = channels.by_code(message.provider, message.channel)
        if adapter is not None and adapter.idempotent:
            Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
                status=MessageStatus.QUEUED, next_try_at=now
            )
            counts["requeued"] += 1
            continue
        answer = adapter.query(message) if adapter is not None else None
        if answer is not None:
            settle(message.pk, answer, message.subject, message.text, now)
            counts["settled"] += 1
        else:
            settle(
                message.pk,
                Outcome(
                    sent=False, error="the sender stopped mid-send: check with the provider, then resend"
                ),
                message.subject,
                message.text,
                now,
            )
            counts["failed"] += 1
    return counts


def send_due(limit: int = 500, now: datetime | None = None) -> dict[str, int]:
    """One round: recover stale claims, claim up to `limit` due messages, send each."""
    now = now or timezone.now()
    counts = {"sent": 0, "queued": 0, "failed": 0, **recover(now)}
    ids = claim(limit, now)
    known = templates() if ids else {}
    for message in Message.objects.filter(pk__in=ids).order_by("pk"):
        status = send_one(message, now, known)
        counts[status if status in counts else "queued"] += 1
    return counts


def resend(message: Message, by=None) -> Message:
    """A person's resend of a failed or suppressed message: queued again now, its tries reset."""
    Message.objects.filter(pk=message.pk).filter(
        Q(status=MessageStatus.FAILED) | Q(status=MessageStatus.SUPPRESSED, address__gt="")
    ).update(status=MessageStatus.QUEUED, next_try_at=timezone.now(), attempts=0, error="")
    message.refresh_from_db()
    return message
