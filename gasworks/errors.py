"""Domain errors: services raise these; views and the API turn them into clear messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class DomainError(Exception):
    """A refused business action. `code` is snake_case for the API, `message` is for people,
    `status` is the HTTP status the API answers with (409 conflict / wrong state by default)."""

    status = 409

    def __init__(
        self,
        code: str,
        message: StrOrPromise,
        fields: Mapping[str, Sequence[StrOrPromise]] | None = None,
        status=None,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
        if status is not None:
            self.status = status


class InvalidInput(DomainError):
    status = 400


class NotAllowed(DomainError):
    status = 403
