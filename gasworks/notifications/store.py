"""The notifications app's SQL: a billing run's bill notices written set-based.

A run issues bills a chunk at a time (10,000 in one transaction, COPY); its notices are written
in the same transaction by one INSERT ... SELECT per channel from the chunk's bills, so a run of
a million accounts pays no Python per message. The rules are enqueue()'s, given as data by
outbox.rules() (which profiles of preferences want the channel, where the address is, when an
SMS may go), so the two paths cannot drift apart; the unique key and ON CONFLICT DO NOTHING keep
one notice per bill, customer and channel on a rerun. PostgreSQL only: elsewhere the caller
writes through enqueue()."""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from gasworks.billing.models import Bill
from gasworks.customers.models import Customer
from gasworks.lib.db import array_literal
from gasworks.notifications import outbox, texts
from gasworks.notifications.models import Message, MessageStatus, Preference


def set_based() -> bool:
    return connection.vendor == "postgresql"


def _column(model, field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


def _wanted_sql(rule: outbox.ChannelRule) -> str:
    """The rule's preference profiles as a condition on p (the preference row, if any)."""
    if rule.profiles:
        rows = ", ".join("(" + ", ".join("true" if v else "false" for v in p) + ")" for p in rule.profiles)
        chosen = f"(p.sms, p.wechat, p.email, COALESCE(p.opt_out @> %(opted)s::jsonb, false)) IN ({rows})"
    else:
        chosen = "false"
    return f"(CASE WHEN p.id IS NULL THEN {'true' if rule.without_preference else 'false'} ELSE {chosen} END)"


def _insert_sql(rule: outbox.ChannelRule) -> str:
    on, field, _why = rule.address
    address = (
        f"{'c' if on == 'customer' else 'p'}.{_column(Customer if on == 'customer' else Preference, field)}"
    )
    return f"""
        INSERT INTO {Message._meta.db_table} (customer_id, event, channel, key, status, safety, language,
            variables, address, subject, text, attempts, next_try_at, provider, provider_ref, error,
            created_at)
        SELECT b.customer_id, %(event)s, %(channel)s,
            left(%(event)s || ':bill:' || b.id || ':' || b.customer_id || ':' || %(channel)s, 120),
            CASE WHEN a.address <> '' THEN %(queued)s ELSE %(suppressed)s END,
            %(safety)s, COALESCE(p.language, %(language)s),
            jsonb_build_object('name', c.name, 'account_no', c.account_no, 'period', b.period,
                'amount', b.total::text, 'due_on', COALESCE(b.due_on::text, ''), 'link', %(link)s::text),
            a.address, '', '', 0, CASE WHEN a.address <> '' THEN %(due_at)s::timestamptz END,
            %(provider)s, '', CASE WHEN a.address <> '' THEN '' ELSE %(why)s END, %(at)s
        FROM {Bill._meta.db_table} b
        JOIN {Customer._meta.db_table} c ON c.id = b.customer_id
        LEFT JOIN {Preference._meta.db_table} p ON p.customer_id = b.customer_id
        CROSS JOIN LATERAL (SELECT COALESCE({address}, '') AS address) a
        WHERE b.id = ANY(%(ids)s::bigint[]) AND {_wanted_sql(rule)}
        ON CONFLICT (key) DO NOTHING"""  # noqa: S608 - names from the models, values bound


def write_bill_notices(bill_ids, link: str, at: datetime) -> int:
    """The bill_issued messages of these bills, by the outbox's rules, in the caller's
    transaction. Returns the rows written (a rerun's existing keys are not counted)."""
    kind = texts.KINDS["bill_issued"]
    ids = array_literal(bill_ids)
    written = 0
    with connection.cursor() as cursor:
        for rule in outbox.rules(kind.code, at):
            cursor.execute(
                _insert_sql(rule),
                {
                    "event": kind.code,
                    "channel": rule.channel,
                    "queued": MessageStatus.QUEUED.value,
                    "suppressed": MessageStatus.SUPPRESSED.value,
                    "safety": kind.safety,
                    "language": outbox.DEFAULT_LANGUAGE,
                    "opted": f'["{kind.code}"]',
                    "link": link,
                    "due_at": rule.due_at,
                    "provider": rule.provider,
                    "why": rule.address[2],
                    "at": at,
                    "ids": ids,
                },
            )
            written += max(cursor.rowcount, 0)
    return written
