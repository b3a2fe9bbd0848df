"""What each kind of request means: who owns it (sees and works it), whether a customer may open
it from the portal, whether a crew goes out (a work order), and its deadline, in hours from
opening (a parameter per kind, service_deadline_<kind>_hours). Hours, not working days: a repair
or a reconnection runs through weekends, and a station that counts days sets 72 or 120."""

from dataclasses import dataclass
from typing import Any

from gasworks.accounts.roles import Role
from gasworks.service.desk.models import RequestKind
from gasworks.system import parameters


@dataclass(frozen=True)
class KindRule:
    owner: str  # the role that sees and works it
    portal: bool  # a customer may open it from the portal
    work_order: bool  # a crew goes out
    default_hours: int


RULES: dict[str, KindRule] = {
    RequestKind.NEW_CONNECTION: KindRule(Role.INSPECTOR, True, True, 72),
    RequestKind.METER_CHANGE: KindRule(Role.METER_READER, False, True, 120),
    RequestKind.METER_CHECK: KindRule(Role.METER_READER, True, True, 72),
    RequestKind.REPAIR: KindRule(Role.DISPATCHER, True, True, 24),
    RequestKind.COMPLAINT: KindRule(Role.MANAGER, True, False, 72),
    RequestKind.BILL_QUERY: KindRule(Role.CASHIER, True, False, 48),
    RequestKind.TRANSFER: KindRule(Role.CASHIER, True, False, 120),
    RequestKind.MOVE_OUT: KindRule(Role.CASHIER, True, True, 72),
    RequestKind.DISCONNECTION: KindRule(Role.DISPATCHER, False, True, 48),
    RequestKind.RECONNECTION: KindRule(Role.DISPATCHER, False, True, 24),
}

# Completed by the move-out flow (service.moveout), which takes the final reading and bill.
LINKED_KINDS = (RequestKind.TRANSFER, RequestKind.MOVE_OUT)

# Roles that see and work every kind.
OVERSEERS = (Role.ADMIN, Role.MANAGER)


def rule(kind: str) -> KindRule:
    return RULES[kind]


def deadline_hours(kind: str) -> int:
    return int(parameters.get(f"service_deadline_{kind}_hours"))


def portal_kinds() -> list[tuple[str, Any]]:
    return [(k.value, k.label) for k in RequestKind if RULES[k].portal]


def kinds_owned_by(role: str) -> list[str]:
    if role in OVERSEERS:
        return list(RequestKind.values)
    return [k for k, r in RULES.items() if r.owner == role]
