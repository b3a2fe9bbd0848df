"""Service desk parameters: the deadline of each kind of request, in hours from opening."""

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from gasworks.service.desk.kinds import RULES
from gasworks.service.desk.models import RequestKind
from gasworks.system.parameters import GROUP_LABELS, Spec, register

GROUP_LABELS.setdefault("service", _("Service and collections"))

LABELS: dict[str, Any] = {
    RequestKind.NEW_CONNECTION: _("Deadline, new connection and first ignition (hours)"),
    RequestKind.METER_CHANGE: _("Deadline, meter change (hours)"),
    RequestKind.METER_CHECK: _("Deadline, meter check (hours)"),
    RequestKind.REPAIR: _("Deadline, repair (hours)"),
    RequestKind.COMPLAINT: _("Deadline, complaint (hours)"),
    RequestKind.BILL_QUERY: _("Deadline, bill query (hours)"),
    RequestKind.TRANSFER: _("Deadline, name transfer (hours)"),
    RequestKind.MOVE_OUT: _("Deadline, move-out (hours)"),
    RequestKind.DISCONNECTION: _("Deadline, disconnection order (hours)"),
    RequestKind.RECONNECTION: _("Deadline, reconnection order (hours)"),
}

register(
    *(
        Spec(f"service_deadline_{kind}_hours", int, rule.default_hours, LABELS[kind], "service", Decimal("1"))
        for kind, rule in RULES.items()
    )
)
