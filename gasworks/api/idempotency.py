"""Idempotency-Key for API writes (payments, emergency reports). The first request with a key
stores its answer in the same transaction as its effect; a retry with the same body gets that
answer and writes nothing; the same key with another body is a 409. Requests racing with one key
meet at the unique (user, scope, key): the loser's insert waits for the winner's commit, fails,
and replays the winner's answer. A fresh key (the usual case) costs no read."""

import hashlib
import json
from collections.abc import Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from gasworks.errors import DomainError, InvalidInput
from gasworks.system.models import IdempotentRequest

MAX_KEY = 128
HEADER = "Idempotency-Key"

# The schema's word for an endpoint where the key may be left out (a retry-prone caller sends one,
# a form need not): service requests, emergencies, arrangements.
OPTIONAL_KEY = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Optional. A retry with the same key and body gets the first answer and "
    "writes nothing; the same key with another body is a 409.",
)


def request_hash(body) -> str:
    if hasattr(body, "lists"):  # a QueryDict (form-encoded body): keep every value
        body = dict(body.lists())
    canonical = json.dumps(body, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str | None) -> str:
    key = (key or "").strip()
    if not key:
        raise InvalidInput(
            "idempotency_key_required",
            _("Send an Idempotency-Key header (1 to %(n)s characters) with this request.") % {"n": MAX_KEY},
            {HEADER: [_("Required.")]},
        )
    if len(key) > MAX_KEY:
        raise InvalidInput(
            "invalid_idempotency_key",
            _("The Idempotency-Key header must be 1 to %(n)s characters.") % {"n": MAX_KEY},
            {HEADER: [_("1 to %(n)s characters.") % {"n": MAX_KEY}]},
        )
    return key


def _replay(record: IdempotentRequest, digest: str) -> tuple[dict, int, bool]:
    if record.request_hash != digest:
        raise DomainError(
            "idempotency_key_reused",
            _("This Idempotency-Key was already used with a different request."),
        )
    return record.response, record.status_code, True


def run_once(
    scope: str, user, key: str | None, body, action: Callable[[], tuple[dict, int]]
) -> tuple[dict, int, bool]:
    """action() -> (response body, status), run at most once per (user, scope, key).
    Returns (body, status, replayed)."""
    key = check_key(key)
    digest = request_hash(body)
    try:
        with transaction.atomic():
            record = IdempotentRequest.objects.create(user=user, scope=scope, key=key, request_hash=digest)
            response, status = action()
            record.response, record.status_code = response, status
            record.save(update_fields=["response", "status_code"])
    except IntegrityError:
        existing = IdempotentRequest.objects.filter(user=user, scope=scope, key=key).first()
        if existing is None:
            raise DomainError("conflict", _("The request met another one; send it again.")) from None
        return _replay(existing, digest)
    return response, status, False


def idempotent_response(body: dict, status: int, replayed: bool) -> Response:
    """The API answer; a replay says so in a header (the body is the first answer's)."""
    response = Response(body, status=status)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def run_maybe_once(scope: str, request, action: Callable[[], tuple[dict, int]]) -> Response:
    """The answer to a write whose Idempotency-Key is optional (OPTIONAL_KEY): without the header
    action() simply runs and nothing is stored; with it, run_once per (user, scope, key)."""
    key = request.headers.get(HEADER)
    if key is None:
        body, status = action()
        return Response(body, status=status)
    return idempotent_response(*run_once(scope, request.user, key, request.data, action))
