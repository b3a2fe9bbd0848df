"""Idempotency-Key for API writes. The first request with a key stores its answer in the same
transaction as its effect; a retry with the same body gets that answer and writes nothing; the
same key with another body is a 409. Two requests racing with one key meet at the unique
constraint (user, key): the loser's insert waits for the winner's commit, fails, and replays."""

import hashlib
import json
from collections.abc import Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from gasworks.errors import DomainError, InvalidInput
from gasworks.payments.models import IdempotencyRecord


def request_hash(body) -> str:
    canonical = json.dumps(body, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(record: IdempotencyRecord, digest: str) -> tuple[dict, int]:
    if record.request_hash != digest:
        raise DomainError(
            "idempotency_key_reused",
            _("This Idempotency-Key was already used with a different request."),
        )
    return record.response, record.status_code


def run_once(user, key: str, body, action: Callable[[], tuple[dict, int]]) -> tuple[dict, int]:
    key = (key or "").strip()
    if not key or len(key) > 128:
        raise InvalidInput(
            "idempotency_key_required",
            _("Send an Idempotency-Key header (1 to 128 characters) with this request."),
        )
    digest = request_hash(body)
    # Insert first, look up only when that fails: a fresh key (the usual case) costs no read.
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(user=user, key=key, request_hash=digest)
            response, status = action()
            record.response, record.status_code = response, status
            record.save(update_fields=["response", "status_code"])
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:
            raise DomainError("conflict", _("The request conflicts with another one; try again.")) from None
        return _replay(existing, digest)
    return response, status
