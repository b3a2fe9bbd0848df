"""The ladder's SQL: which steps are due (one pass over the arrears of every account in debt,
the WITH clause billing's ledger gives), the steps taken in one INSERT ... SELECT, and a
cleared debt's ladder ended in one UPDATE. The same statements on PostgreSQL and SQLite; only a
list of ids, the amount's cast and the conflict clause differ."""

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection

from gasworks.billing import ledger
from gasworks.lib.db import array_literal
from gasworks.safety.models import UNCLOSED_HAZARD_STATUSES, Hazard
from gasworks.service.collections.models import CollectionStep, MedicalNeed, StepKind, StepStatus

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Rules:
    """The ladder's rules for one day, from the parameters and the calendar."""

    as_of: date
    reminder_days: int
    final_days: int
    disconnection_days: int
    min_debt_fen: int
    may_disconnect: bool  # a working day followed by a working day
    holds: frozenset[int] = frozenset()


def _day(value: date):
    return value if connection.vendor == "postgresql" else value.isoformat()


def _in(column: str, ids, params: dict, name: str) -> str:
    if connection.vendor == "postgresql":
        params[name] = array_literal(sorted(ids))
        return f"{column} = ANY(%({name})s::bigint[])"
    params[name] = json.dumps(sorted(ids))
    return f"{column} IN (SELECT value FROM json_each(%({name})s))"  # noqa: S608 - a column name


def _due_steps(rules: Rules, scope=None, source=None) -> tuple[str, dict]:
    """A WITH clause ending in `due` (cid, step, overdue fen, oldest due day): the steps the
    accounts in scope take on ``rules.as_of``. One step per account and run: a later step needs
    the earlier one live and taken on an earlier day, so a customer found 50 days late gets the
    reminder first, and the same day run twice takes nothing new. The arrears are computed live
    (of the accounts in ``scope``, or all), or read from billing's ``source`` (its snapshot of
    today beside the accounts moved since: ledger.arrears_source)."""
    if source is None:
        ctes, params = ledger.arrears_ctes(rules.as_of, scope)
        arrears = "accts"
    else:
        ctes, params = ledger.arrears_merged(rules.as_of, source)
        params.setdefault("as_of", _day(rules.as_of))
        arrears = "merged"
    step, hazard, medical = (
        CollectionStep._meta.db_table,
        Hazard._meta.db_table,
        MedicalNeed._meta.db_table,
    )
    params.update(
        r_since=_day(rules.as_of - timedelta(days=rules.reminder_days)),
        f_since=_day(rules.as_of - timedelta(days=rules.final_days)),
        d_since=_day(rules.as_of - timedelta(days=rules.disconnection_days)),
        min_fen=rules.min_debt_fen,
        yes=True,
        reminder=StepKind.REMINDER.value,
        final=StepKind.FINAL_NOTICE.value,
        disconnection=StepKind.DISCONNECTION_ORDER.value,
    )
    held = f" AND NOT ({_in('cid', rules.holds, params, 'holds')})" if rules.holds else ""

    def live(kind: str, earlier: bool = False) -> str:
        before = " AND s.created_on < %(as_of)s" if earlier else ""
        return f"""SELECT 1 FROM {step} s WHERE s.customer_id = e.cid AND s.live = %(yes)s
            AND s.step = %({kind})s{before}"""  # noqa: S608 - model tables, parameters

    hazards = ", ".join(f"'{s.value}'" for s in UNCLOSED_HAZARD_STATUSES)
    disconnections = ""
    if rules.may_disconnect:
        disconnections = f"""
        UNION ALL
        SELECT e.cid, %(disconnection)s, e.overdue, e.oldest_due FROM eligible e
        WHERE e.oldest_due <= %(d_since)s AND e.overdue >= %(min_fen)s
          AND EXISTS ({live("final", True)}) AND NOT EXISTS ({live("disconnection")})
          AND NOT EXISTS (SELECT 1 FROM {hazard} h WHERE h.customer_id = e.cid AND h.status IN ({hazards}))
          AND NOT EXISTS (SELECT 1 FROM {medical} m WHERE m.customer_id = e.cid)"""  # noqa: S608
    sql = f"""{ctes},
    eligible AS (
        SELECT cid, overdue, oldest_due FROM {arrears}
        WHERE overdue > 0 AND oldest_due <= %(r_since)s{held}
    ),
    due AS (
        SELECT e.cid, %(reminder)s AS step, e.overdue, e.oldest_due FROM eligible e
        WHERE NOT EXISTS ({live("reminder")})
        UNION ALL
        SELECT e.cid, %(final)s, e.overdue, e.oldest_due FROM eligible e
        WHERE e.oldest_due <= %(f_since)s
          AND EXISTS ({live("reminder", True)}) AND NOT EXISTS ({live("final")}){disconnections}
    )"""  # noqa: S608 - model tables, constants, parameters
    return sql, params


def due_customers(rules: Rules, source=None) -> list[int]:
    """The customers who take a step on the day: one read of every account in debt (live, or
    from billing's snapshot: ``source``), no lock. Only a short list: the steps are taken under
    the accounts' locks, chunk by chunk, reading their arrears live again (take_steps)."""
    ctes, params = _due_steps(rules, source=source)
    with connection.cursor() as cursor:
        cursor.execute(f"{ctes} SELECT DISTINCT cid FROM due ORDER BY cid", params)  # noqa: S608
        return [cid for (cid,) in cursor.fetchall()]


def take_steps(rules: Rules, customer_ids: list[int], now) -> list[tuple[int, int, str, Any, date]]:
    """Take the due steps of these customers (their accounts locked by the caller), in one
    INSERT ... SELECT; returns (step id, customer id, step, amount, oldest due day) of each."""
    ctes, params = _due_steps(rules, ("ids", customer_ids))
    table = CollectionStep._meta.db_table
    params.update(now=connection.ops.adapt_datetimefield_value(now), open=StepStatus.OPEN.value)
    if connection.vendor == "postgresql":
        amount, conflict = "CAST(overdue AS NUMERIC) / 100", " ON CONFLICT DO NOTHING"
    else:
        amount, conflict = "overdue / 100.0", ""  # one writer at a time: NOT EXISTS is enough
    sql = f"""INSERT INTO {table} (customer_id, step, created_on, status, amount, oldest_due, live, created_at)
        {ctes} SELECT cid, step, %(as_of)s, %(open)s, {amount}, oldest_due, %(yes)s, %(now)s FROM due
        {"WHERE true" if conflict else ""}{conflict}
        RETURNING id, customer_id, step, amount, oldest_due"""  # noqa: S608 - model tables, parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        if rows:
            _supersede(cursor, rows)
    return [
        # SQLite gives the amount as a float (of whole fen / 100: exact to the fen) and ISO text.
        (pk, cid, step, Decimal(str(value)).quantize(CENT), _as_date(due))
        for pk, cid, step, value, due in rows
    ]


def _supersede(cursor, taken) -> None:
    """The rung a customer stood on is done once the next one is taken: the open steps of the
    customers who just took one, but the new ones, become done (one UPDATE)."""
    params: dict[str, Any] = {"yes": True, "open": StepStatus.OPEN.value, "done": StepStatus.DONE.value}
    customers = _in("customer_id", {row[1] for row in taken}, params, "customers")
    fresh = _in("id", [row[0] for row in taken], params, "fresh")
    cursor.execute(
        f"""UPDATE {CollectionStep._meta.db_table} SET status = %(done)s
        WHERE live = %(yes)s AND status = %(open)s AND {customers} AND NOT ({fresh})""",  # noqa: S608 - model table
        params,
    )


def _as_date(value):
    return date.fromisoformat(value) if isinstance(value, str) else value


def end_if_cleared(customer_id: int, today: date, now) -> list[tuple[int, str, str]]:
    """End the customer's live ladder when nothing of the debt is overdue any more (one UPDATE
    over the arrears of this one account): open steps cancelled, done ones kept done. Returns
    (step id, step, status) of the steps ended; none when a debt is still overdue."""
    ctes, params = ledger.arrears_ctes(today, ("ids", [customer_id]))
    table = CollectionStep._meta.db_table
    params.update(
        cid=customer_id,
        yes=True,
        no=False,
        now=connection.ops.adapt_datetimefield_value(now),
        open=StepStatus.OPEN.value,
        cancelled=StepStatus.CANCELLED.value,
    )
    sql = f"""{ctes} UPDATE {table} SET live = %(no)s, closed_at = %(now)s,
            status = CASE WHEN status = %(open)s THEN %(cancelled)s ELSE status END
        WHERE customer_id = %(cid)s AND live = %(yes)s
          AND NOT EXISTS (SELECT 1 FROM accts WHERE cid = %(cid)s AND overdue > 0)
        RETURNING id, step, status"""  # noqa: S608 - model tables, parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
