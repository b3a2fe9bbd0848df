"""Every 4xx answer of the API has one shape: {"error": {"code", "message", "fields"}}."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from gasworks.errors import DomainError

_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "throttled",
}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail) -> dict[str, list[str]]:
    """DRF's nested validation detail to {"field": ["message", ...]}, nested keys dotted."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list):
            if all(not isinstance(v, dict | list) for v in value):
                out.setdefault(prefix or "non_field_errors", []).extend(str(v) for v in value)
            else:
                for index, inner in enumerate(value):
                    walk(f"{prefix}.{index}", inner)
        else:
            out.setdefault(prefix or "non_field_errors", []).append(str(value))

    walk("", detail)
    return out


def request_refusal(exc) -> tuple[int, dict] | None:
    """Django's refusals of an oversized request (a body above DATA_UPLOAD_MAX_MEMORY_SIZE, too
    many form fields or files) as (status, envelope); None for any other exception."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = _("The request body is too large: at most %(n)s bytes.") % {"n": limit}
        return 413, error_body("too_large", message)
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return 400, error_body("too_many_fields", _("The request has too many fields or files."))
    return None


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status)
    refusal = request_refusal(exc)
    if refusal is not None:
        return Response(refusal[1], status=refusal[0])
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = _CODES.get(response.status_code, "error")
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = _("Invalid input.")
        if list(fields) == ["non_field_errors"]:
            message = fields["non_field_errors"][0]
        response.data = error_body("invalid", message, fields)
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    if isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else code
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        response.data = error_body(code, str(detail))
    return response


# Django's own error pages (handler400 / handler404 in the root URLconf): under /api/ they answer in
# the envelope too, e.g. a body too large refused before any API view ran, or an unknown route.
def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    if not _is_api(request):
        return defaults.bad_request(request, exception, template_name)
    status_code, body = request_refusal(exception) or (400, error_body("invalid", _("Bad request.")))
    return JsonResponse(body, status=status_code)


def page_not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    if not _is_api(request):
        return defaults.page_not_found(request, exception, template_name)
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)
