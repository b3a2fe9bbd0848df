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
from gasworks.lib.db import DecimalSum, array_literal, copy_lines, copy_text
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
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Bill._meta.db_table, len(bills)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
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
            formatted = texts[id(lines)] = [
                "\t" + "\t".join(copy_text(v) for v in line) + "\n" for line in lines
            ]
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
    if len(rows[0]) == 5:
        _insert_timed_entries(rows, kind, reference, at, key_prefix)
        return
    if connection.vendor != "postgresql":
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    account_id=account_pk,
                    kind=kind,
                    amount=amount,
                    balance_after=after,
                    reference=reference,
                    idempotency_key=f"{key_prefix}{key}",
                    created_at=at,
                )
                for account_pk, amount, after, key in rows
            ],
            batch_size=500,
        )
        return
    head = f"\t{kind}\t"
    middle = f"\t{copy_text(reference)}\t{copy_text(key_prefix)}"
    tail = f"\t{copy_text(at)}\n"
    copy_lines(
        connection,
        LedgerEntry._meta.db_table,
        ENTRY_COLUMNS,
        [
            f"{account_pk}{head}{amount!s}\t{after!s}{middle}{key}{tail}"
            for account_pk, amount, after, key in rows
        ],
    )


def _insert_timed_entries(rows: list[tuple], kind: str, reference: str, at, key_prefix: str) -> None:
    """ledger_insert_entries for rows that each carry their own time."""
    if connection.vendor != "postgresql":
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    account_id=account_pk,
                    kind=kind,
                    amount=amount,
                    balance_after=after,
                    reference=reference,
                    idempotency_key=f"{key_prefix}{key}",
                    created_at=when or at,
                )
                for account_pk, amount, after, key, when in rows
            ],
            batch_size=500,
        )
        return
    head = f"\t{kind}\t"
    middle = f"\t{copy_text(reference)}\t{copy_text(key_prefix)}"
    default = copy_text(at)
    copy_lines(
        connection,
        LedgerEntry._meta.db_table,
        ENTRY_COLUMNS,
        [
            f"{account_pk}{head}{amount!s}\t{after!s}{middle}{key}\t{copy_text(when) if when else default}\n"
            for account_pk, amount, after, key, when in rows
        ],
    )


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
