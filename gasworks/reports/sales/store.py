"""The sales report's SQL: one SELECT … GROUP BY that sums issued bills and their lines per
(period, category, district, tariff, tier), used twice: INSERT … SELECT into the rollup (a
period's rebuild) and as the live read of periods the rollup may not hold yet. The same
statement on PostgreSQL and SQLite; only the sum differs (SQLite's SUM adds binary floats, so
there it is gasworks.lib.db's exact DECIMAL_SUM)."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection, connections, transaction
from django.db.models import Max, Min

from gasworks.billing.models import Bill, BillLine, BillStatus, Tariff
from gasworks.customers.models import Customer, Premises
from gasworks.lib import replicas
from gasworks.reports.sales.models import SalesRollup

FIELDS = (
    "period",
    "category",
    "district",
    "tariff_id",
    "tier",
    "bills",
    "tier_bills",
    "volume",
    "amount",
    "minimum_top_up",
    "meter_rent",
)
MONEY = Decimal("0.01")
VOLUME = Decimal("0.001")


def _select(periods: list[str], filters: dict[str, str]) -> tuple[str, list]:
    """The grouped SELECT of FIELDS for `periods`, narrowed by category / district / tariff.

    Two branches, UNION ALL: the bill lines by tier (tier 1, 2, …; a bill split over two prices
    in one tier counts once: DISTINCT), and the bills themselves as
    tier 0, which carries what a bill charges beside its lines (minimum-charge top-up, meter
    rent) and the count of bills, once per bill. The category is the one the bill was priced in
    (its tariff's), so a later change of the customer's category, or a name transfer to a holder
    of another category, leaves past sales where they were; a bill without a tariff falls back to
    the customer's category. The district is the premises' (a place does not move)."""
    qn = connection.ops.quote_name
    total = "DECIMAL_SUM" if connection.vendor == "sqlite" else "SUM"
    t = {m.__name__: qn(m._meta.db_table) for m in (Bill, BillLine, Customer, Premises, Tariff)}
    where = [f"b.period IN ({', '.join(['%s'] * len(periods))})", "b.status = %s"]
    params: list = [*periods, BillStatus.ISSUED.value]
    # The lines of the periods' bills lie in the bills' id range (a run writes a period's bills
    # and lines together): bounding the lines by it lets the line index narrow the scan to
    # them instead of reading every line of every year. The join still decides.
    low, high = _bill_ids(periods)
    if filters.get("category"):
        where.append("COALESCE(t.category, c.category) = %s")
        params.append(filters["category"])
    if filters.get("district"):
        where.append("p.district = %s")
        params.append(filters["district"])
    if filters.get("tariff"):
        where.append("b.tariff_id = %s")
        params.append(int(filters["tariff"]))
    joins = (
        f"JOIN {t['Customer']} c ON c.id = b.customer_id "
        f"JOIN {t['Premises']} p ON p.id = c.premises_id "
        f"LEFT JOIN {t['Tariff']} t ON t.id = b.tariff_id"
    )
    condition = " AND ".join(where)
    sql = f"""
        SELECT b.period, COALESCE(t.category, c.category), p.district, b.tariff_id, l.tier,
               0, COUNT(DISTINCT l.bill_id), {total}(l.volume), {total}(l.amount), 0, 0
        FROM {t["BillLine"]} l JOIN {t["Bill"]} b ON b.id = l.bill_id {joins}
        WHERE {condition} AND l.bill_id BETWEEN %s AND %s
        GROUP BY b.period, COALESCE(t.category, c.category), p.district, b.tariff_id, l.tier
        UNION ALL
        SELECT b.period, COALESCE(t.category, c.category), p.district, b.tariff_id, 0,
               COUNT(*), SUM(CASE WHEN b.minimum_top_up <> 0 OR b.meter_rent <> 0 THEN 1 ELSE 0 END),
               0, {total}(b.minimum_top_up) + {total}(b.meter_rent),
               {total}(b.minimum_top_up), {total}(b.meter_rent)
        FROM {t["Bill"]} b {joins}
        WHERE {condition}
        GROUP BY b.period, COALESCE(t.category, c.category), p.district, b.tariff_id
    """  # noqa: S608 - table names come from the models, values are parameters
    return sql, [*params, low, high, *params]


def _bill_ids(periods: list[str]) -> tuple[int, int]:
    """The lowest and highest bill id of the periods (served by the period index)."""
    found = Bill.objects.filter(period__in=periods).aggregate(low=Min("id"), high=Max("id"))
    return found["low"] or 0, found["high"] or 0


def _tuned(cursor) -> None:
    """PostgreSQL, inside the statement's transaction: the grouped sort of a period's lines in
    memory rather than on disk, and no JIT (it costs more to compile than this query runs)."""
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute("SET LOCAL jit = off")


def _exact(value, step: Decimal) -> Decimal:
    """A sum as the Decimal it is: SQLite hands the exact DECIMAL_SUM back as one float, whose
    shortest repr is that decimal (2 or 3 places, far below float's 15 digits)."""
    if value is None:
        return Decimal(0).quantize(step)
    return Decimal(repr(value) if isinstance(value, float) else str(value)).quantize(step)


def aggregate(periods: list[str], filters: dict[str, str] | None = None) -> list[dict]:
    """The rollup's rows for `periods` computed now from the bills (the live read)."""
    if not periods:
        return []
    sql, params = _select(periods, filters or {})
    alias = replicas.read_alias()  # a report's read (the rollup's rebuild below stays on the primary)
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        _tuned(cursor)
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    out = []
    for row in rows:
        item = dict(zip(FIELDS, row, strict=True))
        item["bills"], item["tier_bills"] = int(item["bills"] or 0), int(item["tier_bills"] or 0)
        item["volume"] = _exact(item["volume"], VOLUME)
        for key in ("amount", "minimum_top_up", "meter_rent"):
            item[key] = _exact(item[key], MONEY)
        out.append(item)
    return out


def rebuild(periods: list[str]) -> None:
    """Replace the rollup rows of `periods` by one INSERT … SELECT … GROUP BY (in the caller's
    transaction: readers see the old rows or the new ones, never a gap)."""
    if not periods:
        return
    SalesRollup.objects.filter(period__in=list(periods)).delete()
    sql, params = _select(list(periods), {})
    table = connection.ops.quote_name(SalesRollup._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f) for f in FIELDS)
    with transaction.atomic(), connection.cursor() as cursor:
        _tuned(cursor)
        cursor.execute(f"INSERT INTO {table} ({columns}) {sql}", params)
