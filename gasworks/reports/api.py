"""`GET /api/v1/reports/{name}/`: a report's rows and totals as JSON (or xlsx / csv with
`format=`). Group keys are codes; money and volumes are decimal strings."""

from django.core.exceptions import ValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gasworks.accounts.access import is_customer
from gasworks.lib.replicas import reads_from_replica
from gasworks.reports import export
from gasworks.reports.framework import REPORTS, parse_params

QUERY = [
    OpenApiParameter("from", OpenApiTypes.STR, description="YYYY-MM (sales, supply-balance) or YYYY-MM-DD"),
    OpenApiParameter("to", OpenApiTypes.STR, description="YYYY-MM (sales, supply-balance) or YYYY-MM-DD"),
    OpenApiParameter("as_of", OpenApiTypes.DATE, description="arrears: the day the debts are aged on"),
    OpenApiParameter("group_by", OpenApiTypes.STR, description="one of the report's keys"),
    OpenApiParameter("category", OpenApiTypes.STR),
    OpenApiParameter("district", OpenApiTypes.STR),
    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "xlsx", "csv"]),
]


def report_response(report, params, result, fmt: str):
    """The xlsx or csv download of a result (shared by the API and the page)."""
    stamp = params.query(report)
    name = f"{report.name}-{stamp.get('from') or stamp.get('as_of') or ''}-{stamp.get('to') or ''}".rstrip(
        "-"
    )
    # A list-like report streams every row (its `run` holds one page of them).
    listing = report.count(params) is not None
    rows = report.rows(params) if listing else result.rows
    if fmt == "xlsx":
        body = export.xlsx_bytes(report, params, result.columns, rows, result.total)
        book = HttpResponse(
            body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        book["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return book
    lines = export.csv_lines(result.columns, rows, result.total)
    response: HttpResponse | StreamingHttpResponse = (
        StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        if listing
        else HttpResponse("".join(lines), content_type="text/csv; charset=utf-8")
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


class ReportView(APIView):
    permission_classes = [IsAuthenticated]
    api_errors = (400, 403, 404)

    def perform_content_negotiation(self, request, force=False):
        # `format=xlsx|csv` is ours, not DRF's renderer override: answer JSON unless we stream a file.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        parameters=QUERY,
        responses=inline_serializer(
            "ReportResult",
            {
                "rows": serializers.ListField(child=serializers.DictField()),
                "total": serializers.DictField(),
            },
        ),
        operation_id="reports_retrieve",
    )
    @method_decorator(reads_from_replica)
    def get(self, request, name: str):
        report = REPORTS.get(name)
        if report is None:
            raise NotFound()
        if is_customer(request.user) or not report.allowed(request.user):
            raise PermissionDenied()
        fmt = request.query_params.get("format", "json") or "json"
        if fmt not in ("json", "xlsx", "csv"):
            raise DRFValidationError({"format": ["Choose json, xlsx or csv."]})
        try:
            params = parse_params(report, request.query_params)
        except ValidationError as exc:
            raise DRFValidationError(exc.message_dict) from exc
        params = report.scope(request.user, params)
        result = report.run(params)
        if fmt != "json":
            return report_response(report, params, result, fmt)
        return Response(
            {
                "rows": [export.as_decimal_strings(result.columns, row) for row in result.rows],
                "total": export.as_decimal_strings(result.columns, result.total),
            }
        )
