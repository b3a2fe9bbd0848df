"""Pages: the dashboard (landing page) and the reports, each with its filters, table with totals,
chart, drill-down links, Excel/CSV export and a print layout."""

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode

from gasworks.accounts.access import is_customer
from gasworks.reports.api import report_response
from gasworks.reports.dashboard import tiles_for
from gasworks.reports.framework import FILTERS, REPORTS, Column, parse_params, reports_for
from gasworks.web.views import staff_required


@login_required
def dashboard(request):
    """The landing page: customers go to their portal, staff see the figures of their role."""
    if is_customer(request.user):
        return redirect("portal")
    return render(request, "web/home.html", {"sections": tiles_for(request.user)})


@staff_required
def report_index(request):
    reports = reports_for(request.user)
    if not reports:
        raise PermissionDenied
    return render(request, "reports/index.html", {"reports": reports})


def _cells(columns: list[Column], row: dict) -> list[dict]:
    return [{"column": c, "value": row.get(c.key), "label": c.label_of(row.get(c.key))} for c in columns]


def chart_data(result) -> dict | None:
    """The chart's data for static/reports/report_chart.js: labels already translated."""
    chart = result.chart
    if chart is None or not result.rows:
        return None
    x_col = result.column(chart.x)
    if chart.split_by:
        split_col = result.column(chart.split_by)
        xs = list(dict.fromkeys(r.get(chart.x) for r in result.rows))
        splits = list(dict.fromkeys(r.get(chart.split_by) for r in result.rows))
        values = {(r.get(chart.x), r.get(chart.split_by)): r.get(chart.series[0]) for r in result.rows}
        series = [
            {
                "name": split_col.label_of(s),
                "data": [float(values.get((x, s)) or 0) for x in xs],
            }
            for s in splits
        ]
    else:
        xs = [r.get(chart.x) for r in result.rows]
        series = [
            {"name": str(result.column(key).label), "data": [float(r.get(key) or 0) for r in result.rows]}
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
    result = report.run(params)
    fmt = request.GET.get("format", "")
    if fmt in ("xlsx", "csv") and not errors:
        return report_response(report, params, result, fmt)
    query = params.query(report)
    filters = [
        {"name": f, "label": FILTERS[f], "value": params.get(f), "choices": report.filter_choices(f)}
        for f in report.filters
    ]
    rows = [{"cells": _cells(result.columns, row), "drill": report.drill(params, row)} for row in result.rows]
    context = {
        "report": report,
        "reports": reports_for(request.user),
        "params": params,
        "errors": errors,
        "filters": filters,
        "columns": result.columns,
        "rows": rows,
        "total": _cells(result.columns, result.total) if result.total else None,
        "notes": result.notes,
        "signatures": result.signatures,
        "chart": json.dumps(data) if (data := chart_data(result)) else "",
        "query": urlencode(query),
        "group_choices": [(k, report.group_labels.get(k, k)) for k in report.group_by],
        "printed_at": timezone.localtime(),
    }
    return render(request, template, context)


@staff_required
def report_page(request, name: str):
    return _render(request, name, "reports/report.html")


@staff_required
def report_print(request, name: str):
    return _render(request, name, "reports/print.html")
