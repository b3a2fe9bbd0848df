"""Status machines: one helper for every "may this move from A to B?" rule.

Each status type keeps its table where its model lives, as ``Transitions(table, code=...,
message=...)``: a dict of status -> allowed next statuses (so ``TABLE[status]`` still reads as
before) that also knows how to refuse. ``message`` is a lazily translated text with
``%(from)s`` and ``%(to)s`` (the statuses' labels when ``labels`` is given, else their values) and
any extra names the caller passes, so each app keeps its own wording and API error code.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from gasworks.errors import DomainError


class Transitions(dict[str, set[str]]):
    def __init__(
        self,
        table: Mapping[str, Iterable[str]],
        *,
        code: str,
        message: Any,
        labels: Any = None,
    ) -> None:
        super().__init__({status: set(targets) for status, targets in table.items()})
        self.code = code
        self.message = message
        self.labels = labels

    def allows(self, current: str, to: str) -> bool:
        return to in self.get(current, ())

    def _label(self, status: str) -> str:
        return str(self.labels(status).label) if self.labels is not None else str(status)

    def check(self, current: str, to: str, **extra: Any) -> None:
        """Refuse (DomainError with this table's code, 409) a move the table does not allow."""
        if not self.allows(current, to):
            raise DomainError(
                self.code, self.message % {"from": self._label(current), "to": self._label(to), **extra}
            )

    def move(self, obj: Any, to: str, *, field: str = "status", **extra: Any) -> None:
        """Check, then set ``obj.<field>`` to ``to`` (the caller saves)."""
        self.check(getattr(obj, field), to, **extra)
        setattr(obj, field, to)
