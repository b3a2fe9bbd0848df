"""A report's rows as a file: Excel (.xlsx, with number formats and a header naming the report,
its range and filters in the user's language) and CSV (codes and plain decimals, for machines).

Both stream: XlsxWriter's constant-memory mode writes each row to disk as it comes, so a list
of a million rows costs flat memory; CSV is written row by row to the response."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext as _
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.xmlwriter import XMLwriter

from gasworks.reports.framework import FILTERS, PLACES, Column, Params, Report

FORMATS = {
    "money": "#,##0.00",
    "volume": "#,##0.000",
    "kg": "#,##0.000",
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
    count = _data_rows(sheet, columns, rows, row_no, number_formats, progress)
    row_no += count
    if total:
        for col_no, column in enumerate(columns):
            value = total.get(column.key)
            if col_no == 0 and value is None:
                sheet.write_string(row_no, 0, _("Total"), bold)
            elif value is not None and column.numeric:
                sheet.write_number(row_no, col_no, float(value), bold_numbers[column.kind])
    book.close()
    return count


# The most rows a sheet holds (Excel's limit).
SHEET_ROWS = 1_048_576
# Text that needs more than the plain form: XML's special characters, control characters (Excel
# writes them as _xHHHH_, and escapes a literal _xHHHH_), the two non-characters, edge spaces.
_SPECIAL = re.compile("[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\\s|\\s$")


def _text_cell(ref: str, text: str) -> str:
    text = text[:32767]  # Excel's longest cell
    if not _SPECIAL.search(text):
        return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'
    text = XMLwriter._escape_control_characters(text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


_SPECIAL_CHARS = re.compile("[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]")


def _needs_escaping(texts: list[str]) -> bool:
    """Whether any text needs more than the plain form (one character-class scan of them all,
    which is what a row of plain names and numbers costs)."""
    joined = "\n".join(texts)
    if _SPECIAL_CHARS.search(joined) or "_x" in joined:
        return True
    return any(t[:1].isspace() or t[-1:].isspace() for t in texts)


def _escaped_cells(plan, row: dict, r: int) -> list[str]:
    cells = []
    for key, letter, style, labels, column in plan:
        value = row.get(key)
        if value is None:
            continue
        if style is not None:
            cells.append(f'<c r="{letter}{r}" s="{style}"><v>{float(value):.16G}</v></c>')
        else:
            if labels is not None:
                text = labels.get(value) or str(value)
            else:
                text = column.label_of(value) if column.kind == "code" else str(value)
            cells.append(_text_cell(f"{letter}{r}", text))
    return cells


def _data_rows(
    sheet, columns: list[Column], rows: Iterable[dict], first: int, number_formats, progress
) -> int:
    """Write the rows' cells straight into the sheet's row stream, as XlsxWriter's
    constant-memory mode writes them (inline strings, numbers with their format's style), one
    string per row: XlsxWriter's per-cell path (argument checks, a cell object, a dict per row,
    attribute lists) costs 3-4 times more, which a million-row list cannot afford. The cells are
    the same; tests/reports/test_exports.py compares the file with one written cell by cell."""
    sheet._write_single_row(first)  # flush the header rows XlsxWriter still holds
    plan = []
    for col_no, column in enumerate(columns):
        labels = None
        if column.kind == "code" and column.choices is not None and not callable(column.choices):
            labels = {code: str(label) for code, label in dict(column.choices).items()}
        style = number_formats[column.kind]._get_xf_index() if column.numeric else None
        plan.append((column.key, xl_col_to_name(col_no), style, labels, column))
    write = sheet.fh.write
    count, row_no, buffer = 0, first, []
    for row in rows:
        if row_no >= SHEET_ROWS:
            raise ValueError("more rows than an Excel sheet holds")
        r = row_no + 1
        parts, texts = [f'<row r="{r}">'], []
        for key, letter, style, labels, column in plan:
            value = row.get(key)
            if value is None:
                continue
            if style is not None:
                parts.append(f'<c r="{letter}{r}" s="{style}"><v>{float(value):.16G}</v></c>')
                continue
            if labels is not None:
                text = labels.get(value) or str(value)
            else:
                text = column.label_of(value) if column.kind == "code" else str(value)
            if len(text) > 32767:  # Excel's longest cell
                text = text[:32767]
            texts.append(text)
            parts.append(f'<c r="{letter}{r}" t="inlineStr"><is><t>{text}</t></is></c>')
        # The plain form is right unless a text holds something special; then the row is
        # written again cell by cell, escaped.
        if texts and _needs_escaping(texts):
            parts = [f'<row r="{r}">', *_escaped_cells(plan, row, r)]
        parts.append("</row>")
        buffer.append("".join(parts))
        row_no += 1
        count += 1
        if count % 1000 == 0:
            write("".join(buffer))
            buffer.clear()
            if progress and count % 10_000 == 0:
                progress(count)
    write("".join(buffer))
    if count:
        sheet._check_dimensions(row_no - 1, len(columns) - 1)
    sheet.previous_row = row_no
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
