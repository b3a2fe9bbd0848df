"""The suspect meters page: /reports/supply-balance/suspects/?district=&from=&to= (the
drill-down of a supply–sales balance row), under the report's own permission."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode

from gasworks.reports.framework import REPORTS, parse_params
from gasworks.reports.supply_balance import suspects
from gasworks.reports.supply_balance.report import balance_rows
from gasworks.web.views import staff_required


@staff_required
def suspect_meters(request):
    report = REPORTS["supply-balance"]
    if not report.allowed(request.user):
        raise PermissionDenied
    errors: dict = {}
    try:
        params = parse_params(report, request.GET)
    except ValidationError as exc:
        errors = exc.message_dict
        params = report.default_params(timezone.localdate())
    district = params.get("district")
    found = suspects.find(district, params.period_from, params.period_to) if district else []
    balance = balance_rows(params.period_from, params.period_to, district) if district else []
    context = {
        "report": report,
        "params": params,
        "errors": errors,
        "district": district,
        "districts": report.filter_choices("district"),
        "suspects": found,
        "balance": sorted(balance, key=lambda r: r["period"]),
        "back": urlencode({k: v for k, v in params.query(report).items() if k != "district"}),
    }
    return render(request, "reports/supply_suspects.html", context)
