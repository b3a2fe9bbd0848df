"""Accounts a billing run held back, and why: a run that says "0 bills" must say whom it did not
bill. Computed when a run finishes (runs.finish stores it on the run) from what the run left
unbilled: active accounts with no bill for the period, sorted into one reason each.

- ``parked``: the run parked the bill for review (far above the account's history, no tariff);
  the detail is the review's reason code.
- ``in_review``: the period's readings wait in the metering review queue (flagged by VEE);
  the detail is the rule codes they were flagged with.
- ``no_reading``: a metered post-paid account with no usable reading in the period.

Prepaid accounts are charged reading by reading, not billed, so they are never held back.
Counts are exact; each reason lists at most LIST_LIMIT accounts (a station of a million
accounts must not store a million rows on its run)."""

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from gasworks.billing.models import Account, Bill, BillReview, ReviewStatus
from gasworks.billing.periods import Period
from gasworks.customers.models import Customer
from gasworks.customers.models import Status as CustomerStatus
from gasworks.metering.models import BILLABLE_STATUSES, Meter, Reading, ReadingStatus

LIST_LIMIT = 100

REASONS = {
    "parked": _("Bill parked for review"),
    "in_review": _("Readings awaiting review"),
    "no_reading": _("No reading in the period"),
}


def report(period: Period, limit: int = LIST_LIMIT) -> dict:
    """{"counts": {reason: n}, "accounts": [{customer, account_no, name, reason, detail}]}."""
    unbilled = (
        Customer.objects.filter(status=CustomerStatus.ACTIVE)
        .exclude(Exists(Bill.objects.filter(customer_id=OuterRef("pk"), period=period.key)))
        .exclude(Exists(Account.objects.filter(customer_id=OuterRef("pk"), prepaid=True)))
    )
    in_period = Reading.objects.filter(
        customer_id=OuterRef("pk"), taken_at__gte=period.start_at, taken_at__lt=period.end_at
    )
    parked = Exists(
        BillReview.objects.filter(customer_id=OuterRef("pk"), period=period.key, status=ReviewStatus.OPEN)
    )
    flagged = Exists(in_period.filter(status=ReadingStatus.FLAGGED))
    metered = Exists(
        Meter.objects.filter(premises_id=OuterRef("premises_id"), installed_on__lt=period.end).filter(
            Q(removed_on__isnull=True) | Q(removed_on__gte=period.start)
        )
    )
    groups = {
        "parked": unbilled.filter(parked),
        "in_review": unbilled.exclude(parked).filter(flagged),
        "no_reading": unbilled.exclude(parked)
        .exclude(flagged)
        .filter(metered)
        .exclude(Exists(in_period.filter(status__in=BILLABLE_STATUSES))),
    }
    counts: dict[str, int] = {}
    accounts: list[dict] = []
    for reason, customers in groups.items():
        counts[reason] = customers.count()
        listed = list(customers.order_by("pk").values("pk", "account_no", "name")[:limit])
        details = _details(reason, [row["pk"] for row in listed], period)
        accounts.extend(
            {
                "customer": row["pk"],
                "account_no": row["account_no"],
                "name": row["name"],
                "reason": reason,
                "detail": details.get(row["pk"], ""),
            }
            for row in listed
        )
    return {"counts": counts, "accounts": accounts}


def _details(reason: str, customer_ids: list[int], period: Period) -> dict[int, str]:
    if reason == "parked":
        rows = BillReview.objects.filter(customer_id__in=customer_ids, period=period.key)
        return dict(rows.values_list("customer_id", "reason"))
    if reason == "in_review":
        flags: dict[int, set] = {}
        flagged = Reading.objects.filter(
            customer_id__in=customer_ids,
            taken_at__gte=period.start_at,
            taken_at__lt=period.end_at,
            status=ReadingStatus.FLAGGED,
        ).values_list("customer_id", "flags")
        for customer_id, codes in flagged:
            flags.setdefault(customer_id, set()).update(codes or [])
        return {pk: ", ".join(sorted(codes)) for pk, codes in flags.items()}
    return {}


# Why the run parked a bill (BillReview.reason), as the run page says it.
PARKED_WHY = {
    "implausible": _("far above the account's usual bills"),
    "no_tariff": _("no tariff for the account's category"),
}


def groups(held: dict) -> list[dict]:
    """The stored report as the run page shows it: one group per reason with accounts held."""
    held = held or {}
    counts, accounts = held.get("counts", {}), held.get("accounts", [])
    return [
        {
            "reason": reason,
            "label": label,
            "count": counts[reason],
            "accounts": [
                {
                    **a,
                    "detail": PARKED_WHY.get(a["detail"], a["detail"]) if reason == "parked" else a["detail"],
                }
                for a in accounts
                if a["reason"] == reason
            ],
        }
        for reason, label in REASONS.items()
        if counts.get(reason)
    ]
