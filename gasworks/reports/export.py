"""A report's rows as a file: Excel (.xlsx, with number formats and a header naming the report,
its range and filters in the user's language) and CSV (codes and plain decimals, for machines).

Both stream: XlsxWriter's constant-memory mode writes each row to disk as it comes, so a list
of a million rows costs flat memory; CSV is written row by row to the response."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.reports.framework import FILTERS, PLACES, Column, Params, Report

FORMATS = {
    "money": "#,##0.00",
    "volume": "#,##0.000",
    "kg": "#,##0.00",
    "count": "#,##0",
    "percent": "0.00",
    "number": "#,##0.00",
}


def header_lines(report: Report, params: Params) -> list[str]:
    """What the file's first lines say: the report, its range, grouping and filters."""
    lines = [str(report.title)]
    if report.period == "month":
        lines.append(
            _("Period: %(start)s to %(end)s") % {"start": params.period_from, "end": params.period_to}
        )
    elif report.period == "day" and report.single_day and params.start:
        lines.append(_("Day: %(day)s") % {"day": params.start})
    elif report.period == "day" and params.start and params.end:
        lines.append(_("Days: %(start)s to %(end)s") % {"start": params.start, "end": params.end})
    elif params.as_of:
        lines.append(_("As of %(day)s") % {"day": params.as_of})
    if params.group_by:
        lines.append(
            _("Grouped by: %(key)s") % {"key": report.group_labels.get(params.group_by, params.group_by)}
        )
    for name, value in params.filters.items():
        shown = dict(report.filter_choices(name)).get(value, value)
        lines.append(f"{FILTERS.get(name, name)}: {shown}")
    lines.append(_("Printed %(at)s") % {"at": timezone.localtime().strftime("%Y-%m-%d %H:%M")})
    return lines


def _places(column: Column, value) -> str:
    places = PLACES[column.kind]
    return str(int(value)) if places == 0 else str(Decimal(value).quantize(Decimal(1).scaleb(-places)))


def _cell(column: Column, value, human: bool):
    if value is None:
        return ""
    if column.numeric:
        return float(value) if human else _places(column, value)
    if human and column.kind == "code":
        return column.label_of(value)
    return str(value)


def write_xlsx(
    report: Report,
    params: Params,
    columns: list[Column],
    rows: Iterable[dict],
    total: dict | None,
    path: str,
    progress=None,
) -> int:
    """Write an .xlsx to `path`; returns the number of rows. `progress(n)` is called every
    10,000 rows (the background export's progress bar)."""
    book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet(str(report.title)[:31])
    bold = book.add_format({"bold": True})
    title = book.add_format({"bold": True, "font_size": 14})
    number_formats = {kind: book.add_format({"num_format": f}) for kind, f in FORMATS.items()}
    bold_numbers = {kind: book.add_format({"num_format": f, "bold": True}) for kind, f in FORMATS.items()}
    row_no = 0
    for i, line in enumerate(header_lines(report, params)):
        sheet.write_string(row_no, 0, line, title if i == 0 else None)
        row_no += 1
    row_no += 1
    for col_no, column in enumerate(columns):
        sheet.write_string(row_no, col_no, str(column.label), bold)
        sheet.set_column(col_no, col_no, 14 if column.numeric else 18)
    row_no += 1
    count = 0
    for row in rows:
        for col_no, column in enumerate(columns):
            value = row.get(column.key)
            if value is None:
                continue
            if column.numeric:
                sheet.write_number(row_no, col_no, float(value), number_formats[column.kind])
            else:
                sheet.write_string(row_no, col_no, _cell(column, value, True))
        row_no += 1
        count += 1
        if progress and count % 10_000 == 0:
            progress(count)
    if total:
        for col_no, column in enumerate(columns):
            value = total.get(column.key)
            if col_no == 0 and value is None:
                sheet.write_string(row_no, 0, _("Total"), bold)
            elif value is not None and column.numeric:
                sheet.write_number(row_no, col_no, float(value), bold_numbers[column.kind])
    book.close()
    return count


def xlsx_bytes(report: Report, params: Params, columns, rows, total) -> bytes:
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
        write_xlsx(report, params, columns, rows, total, handle.name)
        handle.seek(0)
        return handle.read()


class _Echo:
    def write(self, value):
        return value


def csv_lines(columns: list[Column], rows: Iterable[dict], total: dict | None) -> Iterator[str]:
    """CSV for machines: a header of column keys, codes and plain decimal strings, the total row
    last with `total` in the first column."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([c.key for c in columns])
    for row in rows:
        yield writer.writerow([_cell(c, row.get(c.key), False) for c in columns])
    if total:
        first = columns[0].key
        yield writer.writerow(
            [
                "total" if c.key == first and total.get(first) is None else _cell(c, total.get(c.key), False)
                for c in columns
            ]
        )


def csv_text(columns, rows, total) -> str:
    out = io.StringIO()
    for line in csv_lines(columns, rows, total):
        out.write(line)
    return out.getvalue()


def as_decimal_strings(columns: list[Column], row: dict) -> dict:
    """A row for JSON: codes as they are, figures as decimal strings with the column's places."""
    out = {}
    for column in columns:
        value = row.get(column.key)
        if value is None or not column.numeric:
            out[column.key] = value if value is None or isinstance(value, (str, int)) else str(value)
            continue
        out[column.key] = int(value) if PLACES[column.kind] == 0 else _places(column, value)
    return out
