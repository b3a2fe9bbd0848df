"""Business rules of the safety app, one module per subject. Views, the API, commands and tasks
call these; each function runs in one transaction and raises a DomainError when it refuses."""

from django.utils.translation import gettext as _

from gasworks.errors import DomainError


def move(obj, table: dict[str, set[str]], to: str, labels) -> None:
    """Set obj.status to `to` if the transition table allows it, else refuse with a clear message."""
    if to not in table.get(obj.status, set()):
        raise DomainError(
            "invalid_transition",
            _("Cannot go from “%(from)s” to “%(to)s”.")
            % {"from": labels(obj.status).label, "to": labels(to).label},
        )
    obj.status = to
