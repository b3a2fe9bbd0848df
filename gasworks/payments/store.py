"""The payments app's SQL: the receipt book (one counter row per station and year, moved by
UPDATE ... RETURNING) and bulk receipt numbers. Nothing else in payments opens a cursor or asks
which database it is on."""

from typing import Any

from django.db import connection

from gasworks.lib.db import copy_line, copy_lines, next_ids
from gasworks.payments.models import Payment, ReceiptCounter


def receipt_prefix(year: int) -> str:
    return f"R{year}-"


def receipt_no(year: int, number: int) -> str:
    """R2026-000042: the year's receipt book and the number in it, at least 6 digits (_NUMBER_SQL
    writes the same)."""
    return f"{receipt_prefix(year)}{number:06d}"


def take_numbers(station: str, year: int, count: int) -> list[str]:
    """`count` consecutive receipt numbers of the station's book for `year`, in one UPDATE ...
    RETURNING that locks the counter row until the caller's transaction ends (the year's first
    receipt opens the book first)."""
    table, col = connection.ops.quote_name(ReceiptCounter._meta.db_table), connection.ops.quote_name("last")
    sql = f"UPDATE {table} SET {col} = {col} + %s WHERE station = %s AND year = %s RETURNING {col}"  # noqa: S608 (model names)
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, station, year])
        row = cursor.fetchone()
        if row is None:  # the year's first receipt; a concurrent creator makes this a no-op
            _open_book(station, year)
            cursor.execute(sql, [count, station, year])
            row = cursor.fetchone()
    last = row[0]
    return [receipt_no(year, n) for n in range(last - count + 1, last + 1)]


def _open_book(station: str, year: int) -> None:
    ReceiptCounter.objects.bulk_create([ReceiptCounter(station=station, year=year)], ignore_conflicts=True)


# PostgreSQL: take the next number and write it onto the payment in one statement, so the counter
# row (every cashier's queue) is held for one round trip less. Formats like receipt_no().
_NUMBER_SQL = """
WITH book AS (
    UPDATE {counter} SET {last} = {last} + 1 WHERE station = %s AND year = %s RETURNING {last}
)
UPDATE {payment} SET receipt_no = %s || lpad(book.{last}::text, greatest(6, length(book.{last}::text)), '0')
FROM book WHERE {payment}.id = %s RETURNING receipt_no
"""


def number_payment(payment: Payment, station: str, year: int) -> str:
    """Take the book's next number and write it onto the payment; returns it."""
    if connection.vendor != "postgresql":
        (number,) = take_numbers(station, year, 1)
        Payment.objects.filter(pk=payment.pk).update(receipt_no=number)
        return number
    qn = connection.ops.quote_name
    sql = _NUMBER_SQL.format(
        counter=qn(ReceiptCounter._meta.db_table), last=qn("last"), payment=qn(Payment._meta.db_table)
    )
    params: list[Any] = [station, year, receipt_prefix(year), payment.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:  # the year's first receipt
            _open_book(station, year)
            cursor.execute(sql, params)
            row = cursor.fetchone()
    return row[0]


def set_receipt_numbers(payments: list[Payment], numbers: list[str]) -> None:
    """Write the numbers onto the payments (and the objects), in one statement on PostgreSQL."""
    for payment, number in zip(payments, numbers, strict=True):
        payment.receipt_no = number
    if connection.vendor == "postgresql":  # one statement, whatever the chunk size
        table = connection.ops.quote_name(Payment._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS p SET receipt_no = v.receipt_no "  # noqa: S608 (table name from the model)
                "FROM unnest(%s::bigint[], %s::varchar[]) AS v(id, receipt_no) WHERE p.id = v.id",
                [[p.pk for p in payments], numbers],
            )
    else:
        Payment.objects.bulk_update(payments, ["receipt_no"], batch_size=200)


def next_payment_ids(count: int) -> list[int]:
    """`count` fresh payment ids from the table's sequence (PostgreSQL), or past the largest id
    (elsewhere: the generated data is written by one process)."""
    if connection.vendor == "postgresql":
        return next_ids(Payment._meta.db_table, count)
    last = Payment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return list(range(last + 1, last + 1 + count))


def write_generated(rows: list[dict]) -> None:
    """Benchmark payments (payments.generate), given as dicts of column values with their ids:
    COPY on PostgreSQL, bulk_create elsewhere."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        columns = list(rows[0])
        copy_lines(connection, Payment._meta.db_table, columns, [copy_line(row.values()) for row in rows])
        return
    Payment.objects.bulk_create([Payment(**row) for row in rows], batch_size=500)
