"""What each event says, in Chinese and English: the built-in wording (translated through the
catalogue) and the variables each may name. Admins may override a wording per channel and
language (models.Template); a wording naming a variable its event does not have is refused.

Variables are written `{name}`. SMS providers send only pre-approved templates with the
company's signature (【公司名】): an SMS's length counts the signature too, 70 characters for one
message and 67 a segment beyond that, Chinese or not (Aliyun and Tencent Cloud count alike)."""

from __future__ import annotations

import math
import string
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext_lazy as _

COMMON = ("name", "account_no", "company")


@dataclass(frozen=True)
class Kind:
    code: str
    label: object
    variables: tuple[str, ...]
    text: object
    subject: object = ""
    safety: bool = False


KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        Kind(
            "bill_issued",
            _("Bill issued"),
            ("period", "amount", "due_on", "link"),
            _(
                "Your gas bill for {period} is {amount} yuan, due by {due_on}. Account {account_no}. Pay: {link}"
            ),
            _("Your gas bill for {period}"),
        ),
        Kind(
            "payment_received",
            _("Payment received"),
            ("amount", "receipt_no", "paid_at"),
            _(
                "We received {amount} yuan for account {account_no} on {paid_at}, receipt {receipt_no}. Thank you."
            ),
            _("Payment received, receipt {receipt_no}"),
        ),
        Kind(
            "low_balance",
            _("Low prepaid balance"),
            ("balance",),
            _("The prepaid balance of account {account_no} is down to {balance} yuan. Please top up."),
            _("Low prepaid balance"),
        ),
        Kind(
            "valve_closed",
            _("Valve closed"),
            ("reason",),
            _("The gas valve of account {account_no} was closed: {reason}. Top up or call us to reopen it."),
            _("Your gas valve was closed"),
        ),
        Kind(
            "valve_opened",
            _("Valve reopened"),
            (),
            _("The gas valve of account {account_no} is open again."),
            _("Your gas valve is open again"),
        ),
        Kind(
            "overdue_reminder",
            _("Overdue reminder"),
            ("amount", "due_on"),
            _("Account {account_no} has {amount} yuan overdue since {due_on}. Please pay soon."),
            _("Payment overdue"),
        ),
        Kind(
            "final_notice",
            _("Final notice"),
            ("amount", "due_on", "cut_on"),
            _(
                "Final notice: {amount} yuan overdue on account {account_no}. Supply may be stopped from {cut_on}."
            ),
            _("Final notice"),
        ),
        Kind(
            "disconnection_notice",
            _("Disconnection notice"),
            ("amount", "cut_on"),
            _("Gas supply to account {account_no} will be stopped on {cut_on} for {amount} yuan unpaid."),
            _("Gas supply will be stopped"),
        ),
        Kind(
            "inspection_appointment",
            _("Inspection appointment"),
            ("starts_at", "ends_at"),
            _(
                "Our safety inspector will visit account {account_no} on {starts_at}–{ends_at}. Please be at home."
            ),
            _("Safety inspection appointment"),
        ),
        Kind(
            "inspection_reminder",
            _("Inspection reminder"),
            ("starts_at", "ends_at"),
            _("Reminder: safety inspection tomorrow, {starts_at}–{ends_at}, account {account_no}."),
            _("Safety inspection tomorrow"),
        ),
        Kind(
            "nobody_home",
            _("Nobody home"),
            ("visited_at",),
            _("Our inspector called on {visited_at} and found nobody home. Please book a new visit."),
            _("We missed you"),
        ),
        Kind(
            "hazard_deadline",
            _("Hazard deadline near"),
            ("deadline", "days_left"),
            _(
                "Safety: the hazard at account {account_no} must be fixed by {deadline} ({days_left} days left)."
            ),
            _("Hazard deadline near"),
            safety=True,
        ),
        Kind(
            "hazard_deadline_passed",
            _("Hazard deadline passed"),
            ("deadline",),
            _("Safety: the hazard at account {account_no} was due to be fixed by {deadline}. Call us today."),
            _("Hazard deadline passed"),
            safety=True,
        ),
        Kind(
            "emergency_received",
            _("Emergency received"),
            ("address",),
            _("We received your gas emergency report for {address}. Open windows, no flames or switches."),
            _("Emergency report received"),
            safety=True,
        ),
        Kind(
            "emergency_dispatched",
            _("Crew dispatched"),
            ("address",),
            _("Our emergency crew is on its way to {address}."),
            _("Crew on its way"),
            safety=True,
        ),
        Kind(
            "supply_interruption",
            _("Planned supply interruption"),
            ("starts_at", "ends_at", "reason", "area"),
            _(
                "Planned gas interruption in {area}: {starts_at} to {ends_at} ({reason}). Close your gas valves."
            ),
            _("Planned gas interruption"),
            safety=True,
        ),
        Kind(
            "supply_interruption_changed",
            _("Supply interruption changed"),
            ("starts_at", "ends_at", "reason", "area"),
            _("Changed: the gas interruption in {area} is now {starts_at} to {ends_at} ({reason})."),
            _("Gas interruption changed"),
            safety=True,
        ),
        Kind(
            "supply_interruption_cancelled",
            _("Supply interruption cancelled"),
            ("starts_at", "area"),
            _("Cancelled: the gas interruption planned in {area} from {starts_at} will not take place."),
            _("Gas interruption cancelled"),
            safety=True,
        ),
        Kind(
            "supply_restored",
            _("Supply restored"),
            ("area",),
            _(
                "Gas supply in {area} is back. Open your valves one at a time and check the flame; call us if it smells."
            ),
            _("Gas supply restored"),
            safety=True,
        ),
        Kind(
            "service_request_opened",
            _("Service request opened"),
            ("request_no", "due_by"),
            _(
                "We received your service request {request_no} for account {account_no}. We aim to finish by {due_by}."
            ),
            _("Service request {request_no} received"),
        ),
        Kind(
            "service_request_done",
            _("Service request completed"),
            ("request_no",),
            _("Your service request {request_no} for account {account_no} is completed. Thank you."),
            _("Service request {request_no} completed"),
        ),
        Kind(
            "instalment_due",
            _("Instalment due"),
            ("amount", "due_on"),
            _(
                "Account {account_no}: your instalment of {amount} yuan is due on {due_on}. Please pay on time."
            ),
            _("Instalment due"),
        ),
        Kind(
            "arrangement_ended",
            _("Payment arrangement ended"),
            ("amount",),
            _(
                "The payment arrangement of account {account_no} has ended; {amount} yuan is owed now under the usual terms."
            ),
            _("Payment arrangement ended"),
        ),
        Kind(
            "lpg_delivery",
            _("LPG order on its way"),
            ("order_no", "amount"),
            _("Your LPG order {order_no} ({amount} yuan) is on its way."),
            _("LPG order on its way"),
        ),
    )
}


class UnknownVariable(ValueError):
    pass


def names_in(text: str) -> set[str]:
    """The variables a wording names; a malformed brace is an error."""
    try:
        return {
            field.split(".")[0].split("[")[0]
            for _lit, field, _spec, _conv in string.Formatter().parse(text)
            if field is not None
        }
    except ValueError as exc:
        raise UnknownVariable(str(exc)) from exc


def check(kind: str, text: str) -> None:
    """Refuse a wording that names a variable its event does not give."""
    allowed = set(KINDS[kind].variables) | set(COMMON)
    unknown = sorted(names_in(text) - allowed)
    if "" in names_in(text):
        raise UnknownVariable("{}")
    if unknown:
        raise UnknownVariable(", ".join(unknown))


class _Blank(dict):
    def __missing__(self, key):
        return ""


def render(text: str, variables: dict) -> str:
    return str(text).format_map(_Blank(variables))


def built_in(kind: str, language: str) -> tuple[str, str]:
    """The built-in (subject, text) of a kind in a language."""
    item = KINDS[kind]
    with translation.override(language):
        return str(item.subject), str(item.text)


def sms_length(text: str, signature: str) -> tuple[int, int]:
    """(characters, segments) as the providers count them: the signature counts; 70 for one
    message, 67 a segment beyond."""
    n = len(signature) + len(text)
    return n, (1 if n <= 70 else math.ceil(n / 67))
