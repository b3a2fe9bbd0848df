"""What payment arrangements answer and hear from the other apps (wired in
gasworks/subscriptions.py): the late-fee hold, the counter's due line, payments counted."""

from django.utils.translation import gettext as _

from gasworks.service.arrangements import services
from gasworks.service.arrangements.services import count_payment

__all__ = ["count_payment", "instalment_due_lines", "ladder_holds", "late_fee_holds"]


def late_fee_holds(question) -> set[int]:
    """billing asks which accounts to charge no late fee (LateFeeHolds)."""
    return services.held_customer_ids(question.as_of)


def ladder_holds(question) -> set[int]:
    """the collections ladder asks whose steps pause (LadderHolds): an arrangement that holds."""
    return services.held_customer_ids(question.as_of)


def instalment_due_lines(question) -> list[dict]:
    """payments asks what is due (DueLines): the next instalment of an active arrangement, shown
    beside billing's lines (it is part of the same debt, not more of it: ``instalment`` says so)."""
    arrangement = services.active_for(question.customer.pk)
    found = services.next_due(arrangement) if arrangement else None
    if found is None:
        return []
    part, owed = found
    return [
        {
            "label": _("Due under the arrangement: %(part)s") % {"part": services.part_label(part)},
            "amount": owed,
            "due_on": part.due_on,
            "bill_id": None,
            "instalment": True,
        }
    ]
