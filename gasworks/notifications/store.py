"""The notifications app's SQL: the outbox's bulk insert, a billing run's bill notices written
set-based, and the sender's settling of a round's outcomes in one statement.

Settling: Django's bulk_update builds a CASE per field and row, and compiling it cost more than
sending the messages (6 s for 500 rows); here PostgreSQL takes the values as arrays (UPDATE ...
FROM unnest), and SQLite (development, tests) a plain executemany.

A big batch of enqueue()'s rows (the collections run's chunk of notices) goes by COPY into a
scratch table and one INSERT ... SELECT on PostgreSQL, a small one as arrays in one INSERT ...
SELECT FROM unnest; either skips a key the customer has in any month (the outbox is partitioned
by month: see migration 0005). Other databases: the ORM's one INSERT, ON CONFLICT DO NOTHING.


A run issues bills a chunk at a time (10,000 in one transaction, COPY); its notices are written
in the same transaction by one INSERT ... SELECT per channel from the chunk's bills, so a run of
a million accounts pays no Python per message. A notice keeps only its bill's id; the bill's
figures and the customer's name are looked up when it is worded (sender.prefetch_late), which
keeps the rows a run writes small (their bytes are most of what the notices cost a run). The
rules are enqueue()'s, given as data by outbox.rules() (which profiles of preferences want the channel, where the address is, when an
SMS may go), so the two paths cannot drift apart; the unique key and ON CONFLICT DO NOTHING keep
one notice per bill, customer and channel on a rerun. PostgreSQL only: elsewhere the caller
writes through enqueue()."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from django.db import connection

from gasworks.billing.models import Bill
from gasworks.customers.models import Customer
from gasworks.lib.db import array_literal, copy_line, copy_lines
from gasworks.notifications import outbox, texts
from gasworks.notifications.models import Message, MessageStatus, Preference


def set_based() -> bool:
    return connection.vendor == "postgresql"


def _column(model, field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


def _profile_code(profile: outbox.Profile) -> int:
    """A preference profile (sms, wechat, email, opted out) as the bits the chunk computes once
    per customer (the CTE's `profile`), so each channel tests one integer, not four booleans."""
    return sum(8 >> n for n, on in enumerate(profile) if on)


def _wanted_sql(n: int, rule: outbox.ChannelRule) -> str:
    """The rule's preference profiles as a condition on the chunk's row (its preference, if any)."""
    without = "true" if rule.without_preference else "false"
    return f"(CASE WHEN k.pref_id IS NULL THEN {without} ELSE k.profile = ANY(%(profiles{n})s::int[]) END)"


def _address(rule: outbox.ChannelRule) -> str:
    on, field, _why = rule.address
    return f"{on}__{field}"


def _select_sql(n: int, rule: outbox.ChannelRule) -> str:
    """One channel's rows from the chunk (parameters suffixed with the rule's number)."""
    address = f"COALESCE(k.{_address(rule)}, '')"
    return f"""
        SELECT k.customer_id, %(event)s, %(channel{n})s,
            left(%(event)s || ':bill:' || k.bill_id || ':' || k.customer_id || ':' || %(channel{n})s, 120),
            CASE WHEN {address} <> '' THEN %(queued)s ELSE %(suppressed)s END,
            %(safety)s, COALESCE(k.language, %(language)s), k.variables,
            {address}, '', '', 0, CASE WHEN {address} <> '' THEN %(due_at{n})s::timestamptz END,
            %(provider{n})s, '', CASE WHEN {address} <> '' THEN '' ELSE %(why{n})s END, %(at)s
        FROM chunk k WHERE {_wanted_sql(n, rule)}"""  # noqa: S608 - names from the models, values bound


def _insert_sql(rules: list[outbox.ChannelRule]) -> str:
    """The chunk's bills with their customers and preferences read once, through the primary
    keys (the id ranges keep the planner off a scan of a million-row table for each chunk),
    then every channel's rows from it in one INSERT."""
    fields = sorted({rule.address[:2] for rule in rules})
    addresses = "".join(
        f", {'c' if on == 'customer' else 'p'}.{_column(Customer if on == 'customer' else Preference, field)}"
        f" AS {on}__{field}"
        for on, field in fields
    )
    selects = " UNION ALL ".join(_select_sql(n, rule) for n, rule in enumerate(rules))
    return f"""
        WITH chunk AS MATERIALIZED (
            SELECT b.id AS bill_id, b.customer_id, p.id AS pref_id, p.language,
                jsonb_build_object('bill_id', b.id::text) AS variables,
                (CASE WHEN p.sms THEN 8 ELSE 0 END) + (CASE WHEN p.wechat THEN 4 ELSE 0 END)
                    + (CASE WHEN p.email THEN 2 ELSE 0 END)
                    + (CASE WHEN p.opt_out @> %(opted)s::jsonb THEN 1 ELSE 0 END) AS profile{addresses}
            FROM unnest(%(ids)s::bigint[]) AS i (id)
            JOIN {Bill._meta.db_table} b ON b.id = i.id AND b.id BETWEEN %(first)s AND %(last)s
            JOIN {Customer._meta.db_table} c ON c.id = b.customer_id AND c.id BETWEEN %(lo)s AND %(hi)s
            LEFT JOIN {Preference._meta.db_table} p
                ON p.customer_id = b.customer_id AND p.customer_id BETWEEN %(lo)s AND %(hi)s
        )
        INSERT INTO {Message._meta.db_table} (customer_id, event, channel, key, status, safety, language,
            variables, address, subject, text, attempts, next_try_at, provider, provider_ref, error,
            created_at)
        {selects}
        ON CONFLICT DO NOTHING"""  # noqa: S608 - names from the models, values bound


def write_bill_notices(bill_ids, at: datetime) -> int:
    """The bill_issued messages of these bills, by the outbox's rules, in the caller's
    transaction. Returns the rows written (a rerun's existing keys are not counted)."""
    kind = texts.KINDS["bill_issued"]
    rules = outbox.rules(kind.code, at)
    if not bill_ids or not rules:
        return 0
    ids = array_literal(bill_ids)
    first, last = min(bill_ids), max(bill_ids)
    params: dict = {
        "event": kind.code,
        "queued": MessageStatus.QUEUED.value,
        "suppressed": MessageStatus.SUPPRESSED.value,
        "safety": kind.safety,
        "language": outbox.DEFAULT_LANGUAGE,
        "opted": f'["{kind.code}"]',
        "at": at,
        "ids": ids,
        "first": first,
        "last": last,
    }
    for n, rule in enumerate(rules):
        params.update({f"channel{n}": rule.channel, f"provider{n}": rule.provider, f"due_at{n}": rule.due_at})
        params[f"profiles{n}"] = [_profile_code(p) for p in rule.profiles]
        params[f"why{n}"] = rule.address[2]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT min(customer_id), max(customer_id) FROM {Bill._meta.db_table}"  # noqa: S608
            " WHERE id = ANY(%s::bigint[]) AND id BETWEEN %s AND %s",
            [ids, first, last],
        )
        params["lo"], params["hi"] = cursor.fetchone()
        cursor.execute(_insert_sql(rules), params)
        return max(cursor.rowcount, 0)


# Below this many rows one INSERT of the values as arrays is as quick (and a counter payment's
# receipt notice stays one statement: its query budget is pinned); above, COPY.
COPY_FROM = 1_000
COLUMNS = (
    "customer_id",
    "event",
    "channel",
    "key",
    "status",
    "safety",
    "language",
    "variables",
    "address",
    "subject",
    "text",
    "attempts",
    "next_try_at",
    "provider",
    "provider_ref",
    "error",
    "created_at",
)
TYPES = ("bigint", "text", "text", "text", "text", "boolean", "text", "jsonb", "text", "text", "text",
         "smallint", "timestamptz", "text", "text", "text", "timestamptz")  # fmt: skip


def _value(message: Message, column: str):
    value = getattr(message, column)
    return json.dumps(value, ensure_ascii=False) if column == "variables" else value


def _line(message: Message) -> str:
    return copy_line([_value(message, column) for column in COLUMNS])


def _new_keys_only(source: str) -> str:
    """The rows of `source` whose key the customer has in no month yet. On a partitioned outbox
    a partition's unique index (ON CONFLICT) sees its own month only: this looks in every month,
    through each partition's (customer_id, key) index."""
    table, names = Message._meta.db_table, ", ".join(COLUMNS)
    return (
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {source}"  # noqa: S608 - model names
        f" WHERE NOT EXISTS (SELECT 1 FROM {table} m WHERE m.customer_id = s.customer_id AND m.key = s.key)"
        " ON CONFLICT DO NOTHING"
    )


def insert_messages(rows: list[Message]) -> None:
    """Queue these messages; a key the customer has already is skipped (the database decides, so
    two writers of one key leave one row)."""
    if connection.vendor != "postgresql":
        Message.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
        return
    if not rows:
        return
    table, names = Message._meta.db_table, ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        if len(rows) < COPY_FROM:
            arrays = ", ".join(f"%s::{kind}[]" for kind in TYPES)
            source = f"unnest({arrays}) AS s ({names})"
            cursor.execute(_new_keys_only(source), [[_value(m, c) for m in rows] for c in COLUMNS])
            return
        cursor.execute(f"CREATE TEMP TABLE outbox_load AS SELECT {names} FROM {table} WITH NO DATA")  # noqa: S608 - model table, constants
        copy_lines(connection, "outbox_load", COLUMNS, [_line(m) for m in rows])
        cursor.execute(_new_keys_only("outbox_load s"))
        cursor.execute("DROP TABLE outbox_load")  # a failure above rolls its creation back too


SETTLED_FIELDS = ("status", "sent_at", "provider_ref", "error", "next_try_at", "subject", "text")
SETTLED_TYPES = ("text", "timestamptz", "text", "text", "timestamptz", "text", "text")


def settle_rows(messages: Sequence[Message]) -> None:
    """Write each message's outcome fields where its row is still `sending` (one settled
    meanwhile by recover() or another sender keeps its own)."""
    if not messages:
        return
    table = connection.ops.quote_name(Message._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = [[m.pk for m in messages]] + [[getattr(m, f) for m in messages] for f in SETTLED_FIELDS]
            arrays = ", ".join(f"%s::{kind}[]" for kind in ("bigint", *SETTLED_TYPES))
            sets = ", ".join(f"{f} = v.{f}" for f in SETTLED_FIELDS)
            cursor.execute(
                f"UPDATE {table} AS m SET {sets} FROM unnest({arrays}) AS v(id, {', '.join(SETTLED_FIELDS)})"  # noqa: S608 (model names)
                " WHERE m.id = v.id AND m.status = %s",
                [*columns, MessageStatus.SENDING],
            )
        else:
            sets = ", ".join(f"{f} = %s" for f in SETTLED_FIELDS)
            cursor.executemany(
                f"UPDATE {table} SET {sets} WHERE id = %s AND status = %s",  # noqa: S608 (model names)
                [[*(getattr(m, f) for f in SETTLED_FIELDS), m.pk, MessageStatus.SENDING] for m in messages],
            )
