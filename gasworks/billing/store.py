"""The billing app's SQL: the billing run's set-based reads and bulk writes, and the ledger's
fast paths. PostgreSQL gets hand-written statements and COPY; any other database the same
results through the ORM. Nothing else in billing opens a cursor or asks which database it is on.

The ``ledger_*`` functions write LedgerEntry rows and Account balances: only
gasworks.billing.ledger calls them (tests/foundation/test_layers.py checks), so the ledger stays
the one writer of money while its bulk paths live here with the rest of the SQL."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Avg, Count
from django.utils import timezone

from gasworks.billing.models import (
    Account,
    Bill,
    BillLine,
    BillReview,
    BillStatus,
    LedgerEntry,
    PrepaidCharge,
)
from gasworks.billing.periods import Period
from gasworks.customers.models import Customer
from gasworks.customers.models import Status as CustomerStatus
from gasworks.lib.db import DecimalSum, array_literal, copy_line, copy_lines, copy_text, next_ids
from gasworks.metering import billable
from gasworks.metering.models import Reading

ZERO = Decimal("0")
VOLUME_SQL = billable.VOLUME_SQL.format(r="rd")


def candidates(period: Period):
    """Readings that make an account a candidate of the period's run: billable (the one
    definition, gasworks.metering.billable), of an active customer, and not already charged one
    by one by a prepaid meter."""
    return billable.readings(period.start_at, period.end_at).filter(
        customer__status=CustomerStatus.ACTIVE, prepaid_charge__isnull=True
    )


# One candidate account of a chunk, as a plain tuple (read set-based, priced in a tight loop):
# (customer id, category, gas use, household size, volume, reading from, reading to,
#  issued bills before the period, their average volume, {tariff year: prior volume}).


def read_chunk(period: Period, lo: int, hi: int, force: bool) -> list[tuple]:
    """The chunk's unbilled candidates in customer order (parked ones too when ``force``)."""
    if connection.vendor == "postgresql":
        return _read_chunk_sql(period, lo, hi, force)
    return _read_chunk_orm(period, lo, hi, force)


def _read_chunk_sql(period: Period, lo: int, hi: int, force: bool) -> list[tuple]:
    """PostgreSQL: one statement; readings, history and prior use aggregated per customer by
    GROUP BY, accounts already billed (or parked) left out by the unique indexes."""
    t = {m.__name__: m._meta.db_table for m in (Reading, Customer, Bill, BillLine, BillReview, PrepaidCharge)}
    parked = (
        ""
        if force
        else f"AND NOT EXISTS (SELECT 1 FROM {t['BillReview']} v"  # noqa: S608 - a model's table
        " WHERE v.customer_id = r.customer_id AND v.period = %(period)s AND v.customer_id BETWEEN %(lo)s AND %(hi)s)"
    )
    sql = f"""
    WITH r AS (
        SELECT rd.customer_id,
               sum({VOLUME_SQL}) AS volume,
               -- first and last reading by time: min/max of [epoch, value] pairs, cheaper
               -- than an ordered array_agg (which sorts every group on its own)
               (min(ARRAY[extract(epoch FROM rd.taken_at)::numeric,
                          rd.value - coalesce(rd.consumption, 0)]))[2] AS reading_from,
               (max(ARRAY[extract(epoch FROM rd.taken_at)::numeric, rd.value]))[2] AS reading_to
        FROM {t["Reading"]} rd
        WHERE rd.customer_id BETWEEN %(lo)s AND %(hi)s
          AND rd.taken_at >= %(start)s AND rd.taken_at < %(end)s
          AND rd.status = ANY(%(statuses)s)
          AND NOT EXISTS (
              SELECT 1 FROM {t["PrepaidCharge"]} pc
              WHERE pc.reading_id = rd.id AND pc.customer_id BETWEEN %(lo)s AND %(hi)s
          )
        GROUP BY rd.customer_id
    ), hist AS (
        SELECT customer_id, count(*) AS n, avg(volume) AS avg_volume
        FROM {t["Bill"]}
        WHERE customer_id BETWEEN %(lo)s AND %(hi)s AND status = %(issued)s AND period < %(period)s
        GROUP BY customer_id
    ), prior AS (
        SELECT customer_id, array_agg(tariff_year) AS years, array_agg(volume) AS volumes
        FROM (
            SELECT b.customer_id, l.tariff_year, sum(l.volume) AS volume
            FROM {t["BillLine"]} l JOIN {t["Bill"]} b ON b.id = l.bill_id
            WHERE b.customer_id BETWEEN %(lo)s AND %(hi)s AND b.status = %(issued)s
              AND b.period < %(period)s AND l.tariff_year >= %(since)s
            GROUP BY 1, 2
            UNION ALL
            SELECT pc.customer_id, pc.tariff_year, sum(pc.volume)
            FROM {t["PrepaidCharge"]} pc JOIN {t["Reading"]} rd ON rd.id = pc.reading_id
            WHERE pc.customer_id BETWEEN %(lo)s AND %(hi)s AND rd.taken_at < %(start)s
              AND pc.tariff_year >= %(since)s
            GROUP BY 1, 2
        ) AS used
        GROUP BY customer_id
    )
    SELECT c.id, c.category, c.gas_use, c.household_size, r.volume, r.reading_from, r.reading_to,
           h.n, h.avg_volume, p.years, p.volumes
    FROM r
    JOIN {t["Customer"]} c ON c.id = r.customer_id
    LEFT JOIN hist h ON h.customer_id = r.customer_id
    LEFT JOIN prior p ON p.customer_id = r.customer_id
    WHERE c.status = %(active)s AND c.id BETWEEN %(lo)s AND %(hi)s
      AND NOT EXISTS (
          SELECT 1 FROM {t["Bill"]} b
          WHERE b.customer_id = r.customer_id AND b.period = %(period)s AND b.customer_id BETWEEN %(lo)s AND %(hi)s
      )
      {parked}
    ORDER BY c.id
    """  # noqa: S608 - table names come from the models, values are parameters
    params: dict[str, Any] = {
        "lo": lo,
        "hi": hi,
        "start": period.start_at,
        "end": period.end_at,
        "statuses": list(billable.STATUSES),
        "period": period.key,
        "since": period.start - timedelta(days=366),
        "issued": BillStatus.ISSUED.value,
        "active": CustomerStatus.ACTIVE.value,
    }
    with connection.cursor() as cursor:
        # The range conditions above keep every join to the chunk's index range even while the
        # planner's statistics lag behind a table the run is filling; a chunk is too small for
        # parallel workers to pay for starting.
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = []
    for cid, category, gas_use, size, volume, rfrom, rto, n, avg, years, volumes in rows:
        prior: dict = {}
        if years:
            for year, used in zip(years, volumes, strict=True):
                prior[year] = prior.get(year, ZERO) + used
        result.append((cid, category, gas_use, size, volume, rfrom, rto, n or 0, avg, prior))
    return result


def _read_chunk_orm(period: Period, lo: int, hi: int, force: bool) -> list[tuple]:
    """Any other database: the same tuples from a few ORM queries."""
    rows = (
        candidates(period)
        .filter(customer_id__gte=lo, customer_id__lte=hi)
        .order_by("customer_id", "taken_at")
        .values_list("customer_id", "value", "consumption", "corrected_consumption")
    )
    usage: dict[int, list] = {}
    for cid, value, consumption, corrected in rows.iterator(chunk_size=5000):
        item = usage.get(cid)
        if item is None:
            item = usage[cid] = [ZERO, value - consumption if consumption is not None else value, None]
        item[0] += billable.volume(consumption, corrected)
        item[2] = value
    in_range = {"customer_id__gte": lo, "customer_id__lte": hi}
    done = set(Bill.objects.filter(period=period.key, **in_range).values_list("customer_id", flat=True))
    if not force:
        done |= set(
            BillReview.objects.filter(period=period.key, **in_range).values_list("customer_id", flat=True)
        )
    todo = sorted(set(usage) - done)
    if not todo:
        return []
    customers = {
        pk: (category, gas_use, size)
        for pk, category, gas_use, size in Customer.objects.filter(pk__gte=lo, pk__lte=hi).values_list(
            "pk", "category", "gas_use", "household_size"
        )
    }
    prior = _prior_use(lo, hi, period)
    history = {
        cid: (n, avg)
        for cid, avg, n in Bill.objects.filter(status=BillStatus.ISSUED, period__lt=period.key, **in_range)
        .values_list("customer_id")
        .annotate(avg=Avg("volume"), n=Count("pk"))
    }
    result = []
    for cid in todo:
        n, avg = history.get(cid, (0, None))
        result.append((cid, *customers[cid], *usage[cid], n, avg, dict(prior.get(cid, {}))))
    return result


def _prior_use(lo: int, hi: int, period: Period) -> dict[int, dict]:
    """Volume already billed (or prepaid-charged) per customer and tariff year before the period."""
    since = period.start - timedelta(days=366)
    prior: dict[int, dict] = defaultdict(lambda: defaultdict(lambda: ZERO))
    lines = (
        BillLine.objects.filter(
            bill__customer_id__gte=lo,
            bill__customer_id__lte=hi,
            bill__status=BillStatus.ISSUED,
            bill__period__lt=period.key,
            tariff_year__gte=since,
        )
        .values_list("bill__customer_id", "tariff_year")
        .annotate(v=DecimalSum("volume"))
    )
    charges = (
        PrepaidCharge.objects.filter(
            customer_id__gte=lo,
            customer_id__lte=hi,
            reading__taken_at__lt=period.start_at,
            tariff_year__gte=since,
        )
        .values_list("customer_id", "tariff_year")
        .annotate(v=DecimalSum("volume"))
    )
    for customer_id, year, volume in [*lines, *charges]:
        prior[customer_id][year] += volume
    return prior


BILL_COLUMNS = (
    "id",
    "customer_id",
    "volume",
    "total",
    "minimum_top_up",
    "meter_rent",
    "previous_balance",
    "reading_from",
    "reading_to",
    "tariff_id",
    "period",
    "period_start",
    "period_end",
    "status",
    "run_id",
    "issued_on",
    "due_on",
    "created_at",
)
LINE_COLUMNS = ("bill_id", "tier", "volume", "unit_price", "amount", "effective_from", "tariff_year")
ENTRY_COLUMNS = (
    "account_id",
    "kind",
    "amount",
    "balance_after",
    "reference",
    "idempotency_key",
    "created_at",
)


def insert_bills(bills, before, period, run_id, today, due_on, now) -> list[int]:
    """Write the bills; returns their ids in order."""
    if not bills:
        return []
    if connection.vendor != "postgresql":
        objects = [
            Bill(
                customer_id=cid,
                period=period.key,
                period_start=period.start,
                period_end=period.end,
                volume=volume,
                total=total,
                minimum_top_up=priced.minimum_top_up,
                meter_rent=priced.meter_rent,
                previous_balance=before[cid],
                reading_from=rfrom,
                reading_to=rto,
                tariff_id=tariff_id,
                run_id=run_id,
                issued_on=today,
                due_on=due_on,
                created_at=now,
            )
            for cid, volume, rfrom, rto, priced, total, tariff_id, _lines in bills
        ]
        Bill.objects.bulk_create(objects, batch_size=500)
        return [bill.pk for bill in objects]
    ids = next_ids(Bill._meta.db_table, len(bills))
    # The columns that are the same for every bill of the chunk, formatted once.
    tail = "\t".join(
        copy_text(v)
        for v in (period.key, period.start, period.end, BillStatus.ISSUED.value, run_id, today, due_on, now)
    )
    lines = [
        f"{pk}\t{cid}\t{volume!s}\t{total!s}\t{priced.minimum_top_up!s}\t{priced.meter_rent!s}"
        f"\t{before[cid]!s}\t{copy_text(rfrom)}\t{copy_text(rto)}\t{tariff_id}\t{tail}\n"
        for pk, (cid, volume, rfrom, rto, priced, total, tariff_id, _lines) in zip(ids, bills, strict=True)
    ]
    copy_lines(connection, Bill._meta.db_table, BILL_COLUMNS, lines)
    return ids


def insert_lines(bills: list[tuple], bill_ids: list[int]) -> None:
    if connection.vendor != "postgresql":
        rows = [(pk, *line) for pk, bill in zip(bill_ids, bills, strict=True) for line in bill[7]]
        BillLine.objects.bulk_create(
            [BillLine(**dict(zip(LINE_COLUMNS, row, strict=True))) for row in rows], batch_size=500
        )
        return
    texts: dict[int, list[str]] = {}  # a priced bill's line columns, formatted once per chunk
    out: list[str] = []
    for pk, bill in zip(bill_ids, bills, strict=True):
        lines = bill[7]
        formatted = texts.get(id(lines))
        if formatted is None:
            formatted = texts[id(lines)] = ["\t" + copy_line(line) for line in lines]
        prefix = str(pk)
        out.extend(prefix + text for text in formatted)
    copy_lines(connection, BillLine._meta.db_table, LINE_COLUMNS, out)


# --- the ledger's fast paths (called by gasworks.billing.ledger only) -------------------------


def ledger_insert_entries(rows: list[tuple], kind: str, reference: str, at, key_prefix: str) -> None:
    """Insert ledger entries given as (account pk, amount, balance after, key id), all of one
    kind and reference, each with the idempotency key key_prefix + its key id: COPY on
    PostgreSQL, bulk_create elsewhere. A row may carry a fifth item, its own time (None: ``at``)."""
    if not rows:
        return
    timed = len(rows[0]) == 5
    if connection.vendor != "postgresql":
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    account_id=row[0],
                    kind=kind,
                    amount=row[1],
                    balance_after=row[2],
                    reference=reference,
                    idempotency_key=f"{key_prefix}{row[3]}",
                    created_at=(row[4] or at) if timed else at,
                )
                for row in rows
            ],
            batch_size=500,
        )
        return
    head = f"\t{kind}\t"
    middle = f"\t{copy_text(reference)}\t{copy_text(key_prefix)}"
    default = copy_text(at)
    if timed:
        lines = [
            f"{account_pk}{head}{amount!s}\t{after!s}{middle}{key}\t{copy_text(when) if when else default}\n"
            for account_pk, amount, after, key, when in rows
        ]
    else:
        tail = f"\t{default}\n"  # one time for all: the billing run's hot path formats it once
        lines = [
            f"{account_pk}{head}{amount!s}\t{after!s}{middle}{key}{tail}"
            for account_pk, amount, after, key in rows
        ]
    copy_lines(connection, LedgerEntry._meta.db_table, ENTRY_COLUMNS, lines)


def ledger_insert_accounts(rows: list[tuple], now) -> dict[int, int]:
    """Insert accounts given as (customer id, opening balance), skipping customers that have
    one already; {customer id: pk} of those inserted."""
    if connection.vendor == "postgresql":
        sql = (
            f"INSERT INTO {Account._meta.db_table} (customer_id, balance, prepaid, credit_limit,"  # noqa: S608
            " low_balance_alert, updated_at) SELECT c, b, false, 0, %s, %s"
            " FROM unnest(%s::bigint[], %s::numeric[]) AS v(c, b)"
            " ON CONFLICT (customer_id) DO NOTHING RETURNING customer_id, id"
        )
        default_alert = Account._meta.get_field("low_balance_alert").default
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                [default_alert, now, array_literal(r[0] for r in rows), array_literal(r[1] for r in rows)],
            )
            return dict(cursor.fetchall())
    ids = [r[0] for r in rows]
    taken = set(Account.objects.filter(customer_id__any=ids).values_list("customer_id", flat=True))
    Account.objects.bulk_create(
        [Account(customer_id=cid, balance=balance) for cid, balance in rows if cid not in taken],
        ignore_conflicts=True,
    )
    return dict(
        Account.objects.filter(customer_id__any=[c for c in ids if c not in taken]).values_list(
            "customer_id", "pk"
        )
    )


def ledger_write_balances(balances: dict[int, Decimal]) -> None:
    """Set the cached balance of accounts given as {account pk: balance}, in one statement."""
    if not balances:
        return
    now = timezone.now()
    if len(balances) == 1:
        ((pk, balance),) = balances.items()
        Account.objects.filter(pk=pk).update(balance=balance, updated_at=now)
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Account._meta.db_table} AS a SET"  # noqa: S608 - table name from the model
                " balance = v.balance, updated_at = %s "
                "FROM unnest(%s::bigint[], %s::numeric[]) AS v(id, balance) WHERE a.id = v.id",
                [now, array_literal(balances), array_literal(balances.values())],
            )
        return
    rows = [Account(pk=pk, balance=balance, updated_at=now) for pk, balance in balances.items()]
    Account.objects.bulk_update(rows, ["balance", "updated_at"], batch_size=500)


def ledger_adds_in_database() -> bool:
    """Whether ledger_add_to_balance can be used: PostgreSQL's numeric arithmetic is exact; on
    SQLite (binary floats) it would not be, so SQLite takes the general path."""
    return connection.vendor == "postgresql"


def ledger_add_to_balance(customer_id: int, delta: Decimal) -> Account | None:
    """PostgreSQL: lock the customer's account and add delta to its balance in one statement;
    the account as it is afterwards, or None when the customer has no account yet."""
    qn = connection.ops.quote_name
    fields = Account._meta.concrete_fields
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qn(Account._meta.db_table)} SET balance = balance + %s WHERE customer_id = %s "  # noqa: S608 (model's table)
            f"RETURNING {', '.join(qn(f.column or '') for f in fields)}",
            [delta, customer_id],
        )
        row = cursor.fetchone()
    return None if row is None else Account.from_db(connection.alias, [f.attname for f in fields], row)


# --- arrears: the allocation rule in SQL (read through gasworks.billing.ledger only) ----------
#
# Payments settle the oldest bills first and late fees last, so an account's unpaid bill amount
# R = max(0, debt - late fees charged) sits on its newest bills: walking them newest first, a
# bill keeps min(its total, R - the totals of the newer bills) while that is positive. In SQL:
# a running sum of bill totals newest first per account (a window function), and its running
# maximum, so that once R is used up an older negative bill cannot bring the walk back (the
# Python walk stops there). Amounts are whole fen (BIGINT): exact on SQLite too, whose decimals
# are floats. Every statement is the same on PostgreSQL and SQLite (3.25+ has window functions);
# only a list of ids is bound differently.


def _fen(expr: str) -> str:
    return f"CAST(ROUND({expr} * 100) AS BIGINT)"


def _day(value):
    """A date as the backend compares it (SQLite stores dates as ISO text)."""
    return value if connection.vendor == "postgresql" else value.isoformat()


def _ids_clause(column: str, ids, params: dict) -> str:
    if connection.vendor == "postgresql":
        params["ids"] = array_literal(sorted(ids))
        return f"{column} = ANY(%(ids)s::bigint[])"
    import json

    params["ids"] = json.dumps(sorted(ids))
    return f"{column} IN (SELECT value FROM json_each(%(ids)s))"  # noqa: S608 - column names, model tables, parameters


def ledger_arrears_ctes(as_of, until=None, scope=None) -> tuple[str, dict]:
    """The WITH clause giving `owed` (per account in debt: cid, debt, fees, in fen), `parts`
    (per bill holding part of the unpaid bill amount: bill_id, cid, due_on, fen) and `accts`
    (per account in debt: debt, fees, overdue, oldest_due, bills, the four aging buckets,
    not_due, allocated). ``as_of``: the day bills are aged on (overdue: due before it);
    ``until``: None reads the cached balances (now), a time reads the ledger and bills recorded
    before it; ``scope``: None (every account), ("range", lo, hi) or ("ids", [customer ids])."""
    account, entry, bill = Account._meta.db_table, LedgerEntry._meta.db_table, Bill._meta.db_table
    params: dict[str, Any] = {
        "as_of": _day(as_of),
        "d30": _day(as_of - timedelta(days=30)),
        "d60": _day(as_of - timedelta(days=60)),
        "d90": _day(as_of - timedelta(days=90)),
        "late_fee": "late_fee",
        # A reversed late fee is no longer owed: fees are counted net of their reversals.
        "reversal": "reversal",
        "issued": BillStatus.ISSUED.value,
    }
    where = ""
    if scope is not None and scope[0] == "range":
        where = " AND a.customer_id BETWEEN %(lo)s AND %(hi)s"
        params.update(lo=scope[1], hi=scope[2])
    elif scope is not None:
        where = " AND " + _ids_clause("a.customer_id", scope[1], params)
    if until is None:
        debt = f"""SELECT a.id AS account_id, a.customer_id AS cid, -{_fen("a.balance")} AS debt
            FROM {account} a WHERE a.balance < 0{where}"""  # noqa: S608 - model tables
        when_e = when_b = ""
    else:
        params["until"] = connection.ops.adapt_datetimefield_value(until)
        debt = f"""SELECT a.id AS account_id, a.customer_id AS cid, CAST(-SUM({_fen("e.amount")}) AS BIGINT) AS debt
            FROM {entry} e JOIN {account} a ON a.id = e.account_id
            WHERE e.created_at < %(until)s{where}
            GROUP BY a.id, a.customer_id HAVING SUM({_fen("e.amount")}) < 0"""  # noqa: S608
        when_e, when_b = " AND e.created_at < %(until)s", " AND b.created_at < %(until)s"
    # A few accounts: their fees through the account index; all of them: one pass (a hash join).
    in_scope = "" if scope is None else " AND e.account_id IN (SELECT account_id FROM debt)"
    overdue = "p.due_on < %(as_of)s"
    sql = f"""WITH debt AS ({debt}),
    fees AS (
        SELECT e.account_id, CAST(-SUM({_fen("e.amount")}) AS BIGINT) AS fees FROM {entry} e
        WHERE (e.kind = %(late_fee)s OR (e.kind = %(reversal)s AND EXISTS (
            SELECT 1 FROM {entry} x WHERE x.id = e.reverses_id AND x.kind = %(late_fee)s))){when_e}{in_scope}
        GROUP BY e.account_id
    ),
    owed AS (
        SELECT d.cid, d.debt, COALESCE(f.fees, 0) AS fees
        FROM debt d LEFT JOIN fees f ON f.account_id = d.account_id
    ),
    alloc AS (
        SELECT b.id AS bill_id, b.customer_id AS cid, b.period, b.due_on, {_fen("b.total")} AS t,
               o.debt - o.fees AS r,
               COALESCE(SUM({_fen("b.total")}) OVER (PARTITION BY b.customer_id ORDER BY b.period DESC
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS newer
        FROM {bill} b JOIN owed o ON o.cid = b.customer_id
        WHERE o.debt > o.fees AND b.status = %(issued)s{when_b}
    ),
    parts AS (
        SELECT bill_id, cid, period, due_on, t, CASE WHEN t < r - newer THEN t ELSE r - newer END AS fen
        FROM (SELECT alloc.*, MAX(newer) OVER (PARTITION BY cid ORDER BY period DESC
                     ROWS UNBOUNDED PRECEDING) AS peak FROM alloc) g
        WHERE r - peak > 0 AND t > 0
    ),
    accts AS (
        SELECT o.cid, o.debt, o.fees,
               COALESCE(SUM(CASE WHEN {overdue} THEN p.fen END), 0) AS overdue,
               MIN(CASE WHEN {overdue} THEN p.due_on END) AS oldest_due,
               COUNT(CASE WHEN {overdue} THEN 1 END) AS bills,
               COALESCE(SUM(CASE WHEN {overdue} AND p.due_on >= %(d30)s THEN p.fen END), 0) AS d0_30,
               COALESCE(SUM(CASE WHEN p.due_on < %(d30)s AND p.due_on >= %(d60)s THEN p.fen END), 0)
                   AS d31_60,
               COALESCE(SUM(CASE WHEN p.due_on < %(d60)s AND p.due_on >= %(d90)s THEN p.fen END), 0)
                   AS d61_90,
               COALESCE(SUM(CASE WHEN p.due_on < %(d90)s THEN p.fen END), 0) AS d90,
               COALESCE(SUM(CASE WHEN p.due_on >= %(as_of)s THEN p.fen END), 0) AS not_due,
               COALESCE(SUM(p.fen), 0) AS allocated
        FROM owed o LEFT JOIN parts p ON p.cid = o.cid
        GROUP BY o.cid, o.debt, o.fees
    )"""  # noqa: S608 - table names from the models, values are parameters
    return sql, params


# Per account, the snapshot's columns from `accts` (fees owed are settled last: min(debt, fees);
# `other` is the unpaid bill amount no bill holds: charges outside bills).
# Every figure a BIGINT, the snapshot's type, so that a UNION of both keeps the snapshot's columns
# bare and its ordered index usable (PostgreSQL's SUM of bigints is numeric).
_ACCOUNT_FIGURES = """cid, CAST(overdue AS BIGINT) AS overdue, oldest_due, CAST(bills AS INTEGER) AS bills,
    CAST(d0_30 AS BIGINT) AS d0_30, CAST(d31_60 AS BIGINT) AS d31_60,
    CAST(d61_90 AS BIGINT) AS d61_90, CAST(d90 AS BIGINT) AS d90, CAST(not_due AS BIGINT) AS not_due,
    CAST(CASE WHEN debt < fees THEN debt ELSE fees END AS BIGINT) AS fees_owed,
    CAST(CASE WHEN debt > fees THEN debt - fees ELSE 0 END - allocated AS BIGINT) AS other"""
SNAPSHOT_COLUMNS = (
    "customer_id, overdue_fen, oldest_due, bills, d0_30_fen, d31_60_fen, d61_90_fen, d90_fen,"
    " not_due_fen, fees_fen, other_fen"
)
FIGURES = ("overdue", "d0_30", "d31_60", "d61_90", "d90", "not_due", "fees", "other")


def _fetch(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def ledger_overdue_bills(as_of, until=None, scope=None) -> list[tuple]:
    """(customer id, bill id, period, due day, outstanding fen, bill total fen) of every overdue
    bill in scope, by customer and newest bill first: what late fees are charged on."""
    ctes, params = ledger_arrears_ctes(as_of, until, scope)
    sql = f"""{ctes} SELECT cid, bill_id, period, due_on, fen, t FROM parts WHERE due_on < %(as_of)s
        ORDER BY cid, period DESC"""  # noqa: S608
    return [
        (cid, bill, period, _as_date(due), fen, t) for cid, bill, period, due, fen, t in _fetch(sql, params)
    ]


def ledger_late_fees_charged(customer_ids, day) -> dict[int, tuple[int, bool]]:
    """{bill id: (late fees charged on it so far in fen, whether one was charged for ``day``)}
    for the customers' bills, from the keys late_fee:<bill>:<day> (one GROUP BY)."""
    entry, account = LedgerEntry._meta.db_table, Account._meta.db_table
    params: dict[str, Any] = {"kind": "late_fee", "prefix": "late_fee:%", "today": f"%:{day.isoformat()}"}
    if connection.vendor == "postgresql":
        bill = "CAST(split_part(e.idempotency_key, ':', 2) AS BIGINT)"
    else:
        bill = "CAST(substr(e.idempotency_key, 10, instr(substr(e.idempotency_key, 10), ':') - 1) AS INTEGER)"
    sql = f"""SELECT {bill}, -SUM({_fen("e.amount")}),
            MAX(CASE WHEN e.idempotency_key LIKE %(today)s THEN 1 ELSE 0 END)
        FROM {entry} e JOIN {account} a ON a.id = e.account_id
        WHERE e.kind = %(kind)s AND e.idempotency_key LIKE %(prefix)s
          AND {_ids_clause("a.customer_id", customer_ids, params)}
        GROUP BY 1"""  # noqa: S608 - table names from the models
    return {bill: (int(fen), bool(today)) for bill, fen, today in _fetch(sql, params)}


def ledger_insert_keyed_entries(rows: list[tuple], kind: str, at) -> None:
    """Insert entries of one kind given as (account pk, amount, balance after, reference, key):
    COPY on PostgreSQL, bulk_create elsewhere."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    account_id=pk,
                    kind=kind,
                    amount=amount,
                    balance_after=after,
                    reference=reference,
                    idempotency_key=key,
                    created_at=at,
                )
                for pk, amount, after, reference, key in rows
            ],
            batch_size=500,
        )
        return
    tail = f"\t{copy_text(at)}\n"
    copy_lines(
        connection,
        LedgerEntry._meta.db_table,
        ENTRY_COLUMNS,
        [
            f"{pk}\t{kind}\t{amount!s}\t{after!s}\t{copy_text(reference)}\t{copy_text(key)}{tail}"
            for pk, amount, after, reference, key in rows
        ],
    )


def _as_date(value):
    from datetime import date

    return date.fromisoformat(value) if isinstance(value, str) else value


def ledger_arrears_accounts(as_of, until=None, scope=None) -> list[tuple]:
    """Per account in debt (scope as ledger_arrears_ctes): the snapshot's columns."""
    ctes, params = ledger_arrears_ctes(as_of, until, scope)
    rows = _fetch(f"{ctes} SELECT {_ACCOUNT_FIGURES} FROM accts ORDER BY cid", params)  # noqa: S608 - column names, model tables, parameters
    return [(r[0], r[1], _as_date(r[2]), *r[3:]) for r in rows]


def ledger_rebuild_arrears_snapshot(as_of, started_at) -> dict[str, int]:
    """Replace the whole snapshot by the arrears as of ``as_of`` (cached balances), in one
    INSERT ... SELECT; returns its totals (fen and accounts)."""
    from gasworks.billing.models import ArrearsRefresh, ArrearsSnapshot

    table = ArrearsSnapshot._meta.db_table
    ctes, params = ledger_arrears_ctes(as_of)
    seen = ""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Taken before the rebuild's own statement: whatever this snapshot sees, the rebuild
            # sees too (a later statement's snapshot only sees more), so ledger_moved_since errs
            # on the safe side.
            cursor.execute("SELECT pg_current_snapshot()::text")
            seen = cursor.fetchone()[0]
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - the model's table
        insert = f"INSERT INTO {table} ({SNAPSHOT_COLUMNS}) {ctes} SELECT {_ACCOUNT_FIGURES} FROM accts"  # noqa: S608
        cursor.execute(insert, params)
        sums = ", ".join(f"COALESCE(SUM({f}_fen), 0)" for f in FIGURES)
        cursor.execute(
            f"SELECT COUNT(CASE WHEN overdue_fen > 0 THEN 1 END), COUNT(*), {sums} FROM {table}"  # noqa: S608
        )
        row = cursor.fetchone()
        # The same per category and district: a filtered page or a report by group corrects
        # these by the accounts read live instead of joining a million rows to their customers.
        customer, premises = Customer._meta.db_table, Customer._meta.get_field("premises").related_model
        cursor.execute(
            f"""SELECT c.category, COALESCE(p.district, ''), COUNT(CASE WHEN s.overdue_fen > 0 THEN 1 END),
                COUNT(*), {sums} FROM {table} s JOIN {customer} c ON c.id = s.customer_id
                JOIN {premises._meta.db_table} p ON p.id = c.premises_id GROUP BY 1, 2"""  # type: ignore[union-attr]  # noqa: S608
        )
        groups = [
            [category, district, *(int(v) for v in rest)] for category, district, *rest in cursor.fetchall()
        ]
    totals = dict(zip(("accounts", "debtors", *FIGURES), (int(v) for v in row), strict=True))
    totals["groups"] = groups  # type: ignore[assignment]
    ArrearsRefresh.objects.all().delete()
    ArrearsRefresh.objects.create(as_of=as_of, started_at=started_at, totals=totals, seen=seen)
    return totals


def ledger_moved_since(since, started, seen: str, limit: int) -> set[int]:
    """Customers with ledger entries the snapshot may not have seen: recorded after the rebuild
    began (``started``), or since ``since`` (the margin before it) and, on PostgreSQL, written by
    a transaction not visible in the snapshot ``seen`` (in flight when the rebuild began). At
    most limit + 1 of them."""
    entry, account = LedgerEntry._meta.db_table, Account._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    params: dict[str, Any] = {"since": adapt(since), "started": adapt(started), "limit": limit + 1}
    unseen = ""
    if connection.vendor == "postgresql" and seen:
        # An entry is visible in a snapshot when its transaction is below the snapshot's xmin, or
        # below its xmax and not in progress then. xmin is a 32-bit xid; the snapshot's are
        # 64-bit (epoch and xid): compared on their low 32 bits (the recorded-time bound above
        # keeps this to minutes, far from a wraparound).
        params["seen"] = seen
        xid = "e.xmin::text::bigint"
        low = "::text::bigint %% 4294967296"
        unseen = f""" AND (e.created_at >= %(started)s OR NOT (
            {xid} < pg_snapshot_xmin(%(seen)s::pg_snapshot){low}
            OR ({xid} < pg_snapshot_xmax(%(seen)s::pg_snapshot){low}
                AND NOT {xid} IN (SELECT x{low} FROM pg_snapshot_xip(%(seen)s::pg_snapshot) AS x))))"""  # noqa: S608 - constants
    sql = f"""SELECT DISTINCT a.customer_id FROM {entry} e JOIN {account} a ON a.id = e.account_id
        WHERE e.created_at >= %(since)s{unseen} LIMIT %(limit)s"""  # noqa: S608 - model tables
    return {cid for (cid,) in _fetch(sql, params)}


_MERGED_COLUMNS = "cid, overdue, oldest_due, bills, d0_30, d31_60, d61_90, d90, not_due, fees_owed, other"


def _merged(as_of, source) -> tuple[str, dict]:
    """A WITH clause ending in `merged` (the columns of _MERGED_COLUMNS, one row per account in
    debt) from one of these sources:
    ("snapshot", touched ids): the snapshot, except the touched accounts, computed live instead;
    ("snapshot_of", ids): the snapshot's rows of these accounts only;
    ("live",): computed now from the cached balances; ("ids_live", ids): the same for these
    accounts only; ("history", until): computed from the
    ledger and bills recorded before ``until``."""
    from gasworks.billing.models import ArrearsSnapshot

    table = ArrearsSnapshot._meta.db_table
    kind = source[0]
    snap = (
        "SELECT customer_id AS cid, overdue_fen AS overdue, oldest_due, bills, d0_30_fen AS d0_30,"  # noqa: S608 - column names, model tables, parameters
        " d31_60_fen AS d31_60, d61_90_fen AS d61_90, d90_fen AS d90, not_due_fen AS not_due,"
        f" fees_fen AS fees_owed, other_fen AS other FROM {table} s"
    )
    if kind == "snapshot_of":
        params: dict[str, Any] = {}
        return f"WITH merged AS ({snap} WHERE {_ids_clause('s.customer_id', source[1], params)})", params
    if kind == "snapshot" and not source[1]:
        return f"WITH merged AS ({snap})", {}
    if kind == "snapshot":
        ctes, params = ledger_arrears_ctes(as_of, None, ("ids", source[1]))
        keep = f"NOT ({_ids_clause('s.customer_id', source[1], params)})"
        return (
            f"{ctes}, merged AS ({snap} WHERE {keep} UNION ALL SELECT {_ACCOUNT_FIGURES} FROM accts)",  # noqa: S608 - column names, model tables, parameters
            params,
        )
    if kind == "ids_live":
        ctes, params = ledger_arrears_ctes(as_of, None, ("ids", source[1]))
    else:
        ctes, params = ledger_arrears_ctes(as_of, source[1] if kind == "history" else None)
    return f"{ctes}, merged AS (SELECT {_ACCOUNT_FIGURES} FROM accts)", params  # noqa: S608 - column names, model tables, parameters


def _filtered(filters: dict, params: dict) -> str:
    customer, premises = Customer._meta.db_table, Customer._meta.get_field("premises").related_model
    joins = f" JOIN {customer} c ON c.id = m.cid JOIN {premises._meta.db_table} p ON p.id = c.premises_id"  # type: ignore[union-attr]
    where = []
    for name, column in (("category", "c.category"), ("district", "p.district")):
        if filters.get(name):
            params[name] = filters[name]
            where.append(f"{column} = %({name})s")
    return joins + (" WHERE " + " AND ".join(where) if where else " WHERE 1 = 1")


def ledger_arrears_rows(as_of, source, filters: dict, order: str, limit: int, offset: int = 0) -> list[tuple]:
    """Accounts with something overdue, one page: (customer id, account no, name, phone,
    overdue fen, oldest due day, overdue bills, category, district). ``order`` "page": the
    longest overdue first, then the largest; "top": the largest first."""
    ctes, params = _merged(as_of, source)
    params.update(limit=limit, offset=offset)
    by = "oldest_due, overdue DESC, cid" if order == "page" else "overdue DESC, cid"
    # The page is chosen first (unfiltered: straight off the snapshot's ordered index, merged
    # with the few accounts read live), then only its rows are joined to their customers.
    if any(filters.values()):
        where = _filtered(filters, params)
        chosen = f"SELECT m.* FROM merged m{where} AND m.overdue > 0"  # noqa: S608 - see _merged
    else:
        chosen = "SELECT * FROM merged WHERE overdue > 0"
    customer, premises = Customer._meta.db_table, Customer._meta.get_field("premises").related_model
    sql = f"""{ctes} SELECT m.cid, c.account_no, c.name, c.phone, m.overdue, m.oldest_due, m.bills,
        c.category, p.district
        FROM ({chosen} ORDER BY {by} LIMIT %(limit)s OFFSET %(offset)s) m
        JOIN {customer} c ON c.id = m.cid JOIN {premises._meta.db_table} p ON p.id = c.premises_id
        ORDER BY {", ".join("m." + k for k in by.split(", "))}"""  # type: ignore[union-attr]  # noqa: S608
    return [(*r[:5], _as_date(r[5]), *r[6:]) for r in _fetch(sql, params)]


def ledger_arrears_totals(as_of, source, filters: dict, group: str = "") -> list[tuple]:
    """(group keys..., accounts with something overdue, accounts in debt, then the fen sums of
    overdue, d0_30, d31_60, d61_90, d90, not_due, fees, other), one row per group ("category",
    "district" or both: "category,district") or one row for all ("")."""
    ctes, params = _merged(as_of, source)
    where = _filtered(filters, params)
    columns = {"category": "c.category", "district": "p.district"}
    keys = [columns[g] for g in group.split(",") if g] or ["''"]
    key = ", ".join(keys)
    sums = ", ".join(f"COALESCE(SUM(m.{f}), 0)" for f in _MERGED_COLUMNS.split(", ")[4:])
    sql = f"""{ctes} SELECT {key}, COUNT(CASE WHEN m.overdue > 0 THEN 1 END), COUNT(*),
        COALESCE(SUM(m.overdue), 0), {sums} FROM merged m{where}{" GROUP BY " + key if group else ""}
        ORDER BY {", ".join(str(i + 1) for i in range(len(keys)))}"""  # noqa: S608
    n = len(keys)
    rows = [(*r[:n], *(int(v) for v in r[n:])) for r in _fetch(sql, params)]
    return rows or ([("", *([0] * 10))] if not group else [])
