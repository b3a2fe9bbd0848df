"""Idempotency-Key for POST /api/v1/emergencies/. A caller on a bad line retries; the retry must
not send a second crew. The first request with a key stores its answer in the same transaction as
the report; a retry with the same body gets that answer and writes nothing; the same key with
another body is a 409. Parallel requests with one key meet at the unique (user, key) index: the
loser's insert waits for the winner's commit, fails, and replays the winner's answer."""

import hashlib
import json
from collections.abc import Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from gasworks.errors import DomainError, InvalidInput
from gasworks.safety.models import EmergencyRequest

MAX_KEY = 128


def body_hash(body) -> str:
    if hasattr(body, "lists"):  # a QueryDict (form-encoded body): keep every value
        body = dict(body.lists())
    canonical = json.dumps(body, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY:
        raise InvalidInput(
            "invalid_idempotency_key",
            _("The Idempotency-Key header must be 1 to %(n)s characters.") % {"n": MAX_KEY},
            {"Idempotency-Key": [_("1 to %(n)s characters.") % {"n": MAX_KEY}]},
        )
    return key


def _replay(record: EmergencyRequest, digest: str) -> tuple[dict, int, bool]:
    if record.request_hash != digest:
        raise DomainError(
            "idempotency_key_reused",
            _("This Idempotency-Key was already used with a different report."),
        )
    return record.response, record.status_code, True


def run_once(user, key: str, body, act: Callable[[], tuple[object, dict, int]]) -> tuple[dict, int, bool]:
    """act() -> (emergency, response body, status). Returns (body, status, replayed)."""
    key = check_key(key)
    digest = body_hash(body)
    existing = EmergencyRequest.objects.filter(user=user, key=key).first()
    if existing is not None:
        return _replay(existing, digest)
    try:
        with transaction.atomic():
            record = EmergencyRequest.objects.create(user=user, key=key, request_hash=digest)
            emergency, response, status = act()
            record.emergency, record.response, record.status_code = emergency, response, status
            record.save(update_fields=["emergency", "response", "status_code"])
    except IntegrityError:
        existing = EmergencyRequest.objects.filter(user=user, key=key).first()
        if existing is None:
            raise DomainError("conflict", _("The request met another one; send it again.")) from None
        return _replay(existing, digest)
    return response, status, False
