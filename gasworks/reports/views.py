"""Pages: the dashboard (landing page) and the reports, each with its filters, table with totals,
chart, drill-down links, Excel/CSV export and a print layout."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gasworks.accounts.access import is_customer
from gasworks.lib import media
from gasworks.lib.replicas import reads_from_replica
from gasworks.reports import background
from gasworks.reports.api import report_response
from gasworks.reports.dashboard import tiles_for
from gasworks.reports.framework import FILTERS, REPORTS, Column, parse_params, reports_for
from gasworks.reports.models import Export
from gasworks.reports.number_cells import count_cells, decimal_cells
from gasworks.reports.trends import charts_for, trends_for
from gasworks.web.templatetags.display import money
from gasworks.web.views import staff_required


@login_required
def dashboard(request):
    """The landing page: customers go to their portal, staff see the figures of their role."""
    if is_customer(request.user):
        return redirect("portal")
    # The trend charts come after load (reports:trends, htmx): the tiles show at once.
    return render(
        request,
        "web/home.html",
        {
            "sections": tiles_for(request.user),
            "trends": settings.DASHBOARD_TRENDS and bool(trends_for(request.user)),
        },
    )


@staff_required
@reads_from_replica
def trends_fragment(request):
    """The landing page's 12-month trend charts (fetched by htmx after the page has loaded)."""
    charts = [
        {
            "label": c["trend"].label,
            "key": c["trend"].key,
            "chart": json.dumps(c["data"]),
            "report": c["report"],
        }
        for c in charts_for(request.user)
    ]
    return render(request, "reports/_trends.html", {"charts": charts})


@staff_required
def report_index(request):
    reports = reports_for(request.user)
    if not reports:
        raise PermissionDenied
    return render(request, "reports/index.html", {"reports": reports})


def _shown(column: Column):
    """(css class, value → text) of a column's cells, as the template used to write them
    per cell through an include: a year of days by channel is thousands of cells, and an
    include per cell was most of the page's time."""
    kind = column.kind
    if kind == "money":
        return "text-end", money
    if kind in ("volume", "kg"):
        return "text-end", decimal_cells(3, grouped=True)
    if kind == "number":
        return "text-end", decimal_cells(2, grouped=True)
    if kind == "percent":
        percent = decimal_cells(2, grouped=False)
        return "text-end", lambda v: f"{percent(v)} %"
    if kind == "count":
        return "text-end", count_cells()
    choices = column.choices
    if choices is not None and not callable(choices):
        labels = dict(choices)  # once per page, not per cell
        label = lambda v: str(labels.get(v, v))  # noqa: E731
    else:
        label = column.label_of
    return ("text-nowrap" if kind in ("day", "period") else ""), label


def _cells(columns: list[Column], row: dict, shown: list | None = None) -> list[dict]:
    out = []
    for column, (css, text) in zip(columns, shown or [_shown(c) for c in columns], strict=True):
        value = row.get(column.key)
        out.append({"value": value, "css": css, "text": "" if value is None else text(value)})
    return out


def _cells_html(cells: list[dict]) -> str:
    """A row's cells as HTML, escaped here: the template writes a row at once (a loop over
    cells in the template cost a few hundred ms on a year of days)."""
    return mark_safe(  # noqa: S308 - every text is escaped by conditional_escape
        "".join(
            f'<td class="{c["css"]}">{conditional_escape(c["text"])}</td>'
            if c["css"]
            else f"<td>{conditional_escape(c['text'])}</td>"
            for c in cells
        )
    )


def chart_data(result) -> dict | None:
    """The chart's data for static/reports/report_chart.js: labels already translated."""
    chart = result.chart
    if chart is None or not result.rows:
        return None
    x_col = result.column(chart.x)
    rows = result.rows
    if x_col.kind in ("period", "day"):
        # A time axis runs in time order, whatever order the table ranks its rows in.
        rows = sorted(rows, key=lambda r: str(r.get(chart.x) or ""))
    if chart.split_by:
        split_col = result.column(chart.split_by)
        xs = list(dict.fromkeys(r.get(chart.x) for r in rows))
        splits = list(
            dict.fromkeys(
                r.get(chart.split_by)
                for r in sorted(result.rows, key=lambda r: str(r.get(chart.split_by) or ""))
            )
        )
        values = {(r.get(chart.x), r.get(chart.split_by)): r.get(chart.series[0]) for r in rows}
        series = [
            {
                "name": split_col.label_of(s),
                # No figure is a gap in the line, not a zero (a month without a measurement).
                "data": [None if (v := values.get((x, s))) is None else float(v) for x in xs],
            }
            for s in splits
        ]
    else:
        xs = [r.get(chart.x) for r in rows]
        series = [
            {"name": str(result.column(key).label), "data": [float(r.get(key) or 0) for r in rows]}
            for key in chart.series
        ]
    return {"kind": chart.kind, "x": [x_col.label_of(x) for x in xs], "series": series}


def _render(request, name: str, template: str):
    report = REPORTS.get(name)
    if report is None:
        raise Http404
    if not report.allowed(request.user):
        raise PermissionDenied
    errors: dict = {}
    try:
        params = parse_params(report, request.GET)
    except ValidationError as exc:
        errors = exc.message_dict
        params = report.default_params(timezone.localdate())
    params = report.scope(request.user, params)
    fmt = request.GET.get("format", "")
    large = background.needs_background(report, params)
    if fmt in ("xlsx", "csv") and not errors and large:
        # Too many rows to write while the user waits: the page offers the background export.
        messages.info(request, _("This export is long: start it in the background."))
        return redirect(f"{request.path}?{urlencode(params.query(report))}")
    result = report.run(params)
    if fmt in ("xlsx", "csv") and not errors:
        return report_response(report, params, result, fmt)
    query = params.query(report)
    filters = [
        {"name": f, "label": FILTERS[f], "value": params.get(f), "choices": report.filter_choices(f)}
        for f in report.filters
    ]
    shown = [_shown(c) for c in result.columns]
    rows = [
        {"html": _cells_html(_cells(result.columns, row, shown)), "drill": report.drill(params, row)}
        for row in result.rows
    ]
    context = {
        "report": report,
        "reports": reports_for(request.user),
        "params": params,
        "errors": errors,
        "filters": filters,
        "columns": result.columns,
        "rows": rows,
        "total": _cells(result.columns, result.total, shown) if result.total else None,
        "notes": result.notes,
        "signatures": result.signatures,
        "chart": json.dumps(data) if (data := chart_data(result)) else "",
        "query": urlencode(query),
        "group_choices": [(k, report.group_labels.get(k, k)) for k in report.group_by],
        "printed_at": timezone.localtime(),
        "background": large,
    }
    return render(request, template, context)


@staff_required
@reads_from_replica
def report_page(request, name: str):
    return _render(request, name, "reports/report.html")


@staff_required
@reads_from_replica
def report_print(request, name: str):
    return _render(request, name, "reports/print.html")


def _allowed_report(request, name: str):
    report = REPORTS.get(name)
    if report is None:
        raise Http404
    if not report.allowed(request.user):
        raise PermissionDenied
    return report


@staff_required
@require_POST
def export_start(request, name: str):
    """Start a background export of the report as filtered (the query string) and show its
    progress. A short export is simply downloaded."""
    report = _allowed_report(request, name)
    fmt = request.POST.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        fmt = "xlsx"
    try:
        params = report.scope(request.user, parse_params(report, request.GET))
    except ValidationError:
        return redirect("reports:report", name=name)
    query = urlencode(params.query(report))
    if not background.needs_background(report, params):
        return redirect(f"{reverse('reports:report', args=[name])}?{query}&format={fmt}")
    export = background.start_export(request.user, report, params, fmt)
    return redirect("reports:export", pk=export.pk)


def _own_export(request, pk: int) -> Export:
    # Another user's export is a 404: not even its existence is shown.
    return get_object_or_404(Export, pk=pk, user=request.user)


def _export_context(export: Export) -> dict:
    report = REPORTS.get(export.report)
    return {"export": export, "report": report, "title": report.title if report else export.report}


@staff_required
def export_page(request, pk: int):
    background.resume_stalled_here()  # its thread may have died with its web process
    export = _own_export(request, pk)
    return render(request, "reports/export.html", _export_context(export))


@staff_required
def export_progress(request, pk: int):
    """The progress bar alone (htmx polls it every second until the export is finished)."""
    export = _own_export(request, pk)
    return render(request, "reports/_export_progress.html", _export_context(export))


@staff_required
def export_download(request, pk: int):
    export = _own_export(request, pk)
    name = background.stored_name(export)
    if name is None:
        raise Http404
    return media.serve(name, filename=background.download_name(export), attachment=True)


@staff_required
def export_list(request):
    background.resume_stalled_here()
    exports = Export.objects.filter(user=request.user).order_by("-created_at", "-pk")[:50]
    rows = [_export_context(e) for e in exports]
    return render(request, "reports/export_list.html", {"rows": rows})
