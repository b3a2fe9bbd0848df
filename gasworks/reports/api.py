"""`GET /api/v1/reports/{name}/`: a report's rows and totals as JSON (or xlsx / csv with
`format=`). Group keys are codes; money and volumes are decimal strings.

An xlsx of more rows than `export_background_rows` is not written in the request (a workbook is
built whole before its first byte goes out): it is handed to the background like the page's
exports (reports/background.py) and answered 202 with where to poll
(`/api/v1/reports/exports/{id}/`) and, once done, fetch it (`.../file/`). A csv streams."""

from django.core.exceptions import ValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gasworks.accounts.access import is_customer
from gasworks.errors import DomainError
from gasworks.lib import media
from gasworks.lib.replicas import reads_from_replica
from gasworks.reports import background, export
from gasworks.reports.framework import REPORTS, parse_params
from gasworks.reports.models import Export, ExportStatus

QUERY = [
    OpenApiParameter("from", OpenApiTypes.STR, description="YYYY-MM (sales, supply-balance) or YYYY-MM-DD"),
    OpenApiParameter("to", OpenApiTypes.STR, description="YYYY-MM (sales, supply-balance) or YYYY-MM-DD"),
    OpenApiParameter("as_of", OpenApiTypes.DATE, description="arrears: the day the debts are aged on"),
    OpenApiParameter("group_by", OpenApiTypes.STR, description="one of the report's keys"),
    OpenApiParameter("category", OpenApiTypes.STR),
    OpenApiParameter("district", OpenApiTypes.STR),
    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "xlsx", "csv"]),
]


RESULT = inline_serializer(
    "ReportResult",
    {
        "rows": serializers.ListField(child=serializers.DictField()),
        "total": serializers.DictField(),
    },
)
EXPORT_STATUS = inline_serializer(
    "ReportExportStatus",
    {
        "id": serializers.IntegerField(),
        "report": serializers.CharField(),
        "format": serializers.ChoiceField(["xlsx", "csv"]),
        "status": serializers.ChoiceField(ExportStatus.values),
        "rows_total": serializers.IntegerField(),
        "rows_done": serializers.IntegerField(),
        "percent": serializers.IntegerField(),
        "created_at": serializers.DateTimeField(),
        "finished_at": serializers.DateTimeField(allow_null=True),
        "error": serializers.CharField(allow_blank=True),
        "poll": serializers.CharField(),
        "file": serializers.CharField(allow_null=True),
    },
)


def _poll_url(job: Export) -> str:
    return reverse("api-report-export", args=[job.pk])


def export_status(job: Export) -> dict:
    done = job.status == ExportStatus.DONE
    return {
        "id": job.pk,
        "report": job.report,
        "format": job.format,
        "status": job.status,
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "percent": job.percent,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "error": _("The export failed; start it again.") if job.status == ExportStatus.FAILED else "",
        "poll": _poll_url(job),
        "file": reverse("api-report-export-file", args=[job.pk]) if done else None,
    }


def _own_export(request, pk: int) -> Export:
    """The caller's export of a report they may still run; anyone else's is a 404 (its
    existence is not shown)."""
    job = Export.objects.filter(pk=pk, user=request.user).first()
    report = REPORTS.get(job.report) if job else None
    if job is None or report is None or is_customer(request.user) or not report.allowed(request.user):
        raise NotFound()
    return job


class ExportStatusView(APIView):
    permission_classes = [IsAuthenticated]
    api_errors = (404,)

    @extend_schema(responses=EXPORT_STATUS, operation_id="reports_exports_retrieve")
    def get(self, request, pk: int):
        background.resume_stalled_here()  # its thread may have died with its web process
        return Response(export_status(_own_export(request, pk)))


class ExportFileView(APIView):
    permission_classes = [IsAuthenticated]
    api_errors = (404, 409)

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        description="The export's file; where the files are in object storage, a 302 to a link "
        "presigned for a few minutes (follow it without the Authorization header).",
        operation_id="reports_exports_file",
    )
    def get(self, request, pk: int):
        job = _own_export(request, pk)
        name = background.stored_name(job)
        if name is None:
            if job.status == ExportStatus.FAILED:
                raise DomainError("export_failed", _("The export failed; start it again."))
            if job.status == ExportStatus.DONE:  # its file was deleted (kept export_keep_days)
                raise NotFound()
            raise DomainError("export_not_ready", _("The export is not finished yet: poll its status."))
        # The bytes, or with object storage a redirect to a presigned link of the file.
        return media.serve(name, filename=background.download_name(job), attachment=True)


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
        responses={200: RESULT, 202: EXPORT_STATUS},
        operation_id="reports_retrieve",
        description="JSON, or an xlsx/csv file with `format=`; an xlsx of more rows than the "
        "`export_background_rows` parameter is written in the background: 202 with its status "
        "(poll `poll`, then fetch `file`).",
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
        if fmt == "xlsx" and background.needs_background(report, params):
            job = background.start_export(request.user, report, params, fmt)
            return Response(export_status(job), status=202, headers={"Location": _poll_url(job)})
        result = report.run(params)
        if fmt != "json":
            return report_response(report, params, result, fmt)
        return Response(
            {
                "rows": [export.as_decimal_strings(result.columns, row) for row in result.rows],
                "total": export.as_decimal_strings(result.columns, result.total),
            }
        )
