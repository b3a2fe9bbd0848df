"""Arrears: what is overdue, aging buckets, and the daily late fee.

Allocation rule: payments settle the oldest bills first, and late fees are settled last, so
an account's unpaid bill amount is its debt minus the late fees charged, and that amount sits
on its newest bills. A bill past its due date with an unpaid part is overdue by that part.

The rule is computed set-based in SQL (gasworks.billing.store, read through the ledger): a
running sum of bill totals newest first per account against the unpaid bill amount. One
computation serves the arrears page, the arrears report, late fees and the collections ladder;
the page and the report read a daily snapshot of it beside a live computation of the accounts
whose ledger moved since (ledger.arrears_source), so they are exact between rebuilds too.

Every account in debt splits its debt exactly as: overdue (the four aging buckets) + unpaid
parts of bills not yet due + late fees still owed (min(debt, late fees charged)) + the unpaid
amount no bill holds (charges outside bills: LPG, adjustments). Tests hold the totals to that.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from gasworks.billing import ledger
from gasworks.billing.events import LateFeeHolds
from gasworks.billing.models import Account, EntryKind
from gasworks.lib.events import ask
from gasworks.lib.money import round_money
from gasworks.system import parameters

BUCKETS = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))
ZERO = Decimal("0.00")
# Accounts per late-fee chunk: one transaction each, so memory stays flat whatever the size.
LATE_FEE_CHUNK = 5_000
# The figures of a totals row after its key, in order (fen from the store).
FIGURES = ("accounts", "debtors", "overdue", "d0_30", "d31_60", "d61_90", "d90", "not_due", "fees", "other")


def yuan(fen: int) -> Decimal:
    return Decimal(int(fen)).scaleb(-2)


@dataclass(frozen=True)
class OverdueBill:
    customer_id: int
    bill_id: int
    period: str
    due_on: date
    outstanding: Decimal
    days: int


def bucket_of(days: int) -> str:
    for name, low, high in BUCKETS:
        if days >= low and (high is None or days <= high):
            return name
    return BUCKETS[0][0]


def overdue_bills(today: date | None = None, customer_ids=None) -> list[OverdueBill]:
    """The overdue bills (of these customers, or all): for a handful of accounts; a city's
    worth goes through the aggregates below."""
    today = today or timezone.localdate()
    scope = None if customer_ids is None else ("ids", list(customer_ids))
    return [
        OverdueBill(cid, bill, period, due, yuan(fen), (today - due).days)
        for cid, bill, period, due, fen, _total in ledger.overdue_bills(today, scope)
    ]


def totals(
    today: date | None = None, filters: dict | None = None, group: str = "", source=None
) -> list[dict]:
    """Per group ("category", "district", "category,district": the key a tuple) or for all
    (""): accounts with something overdue,
    accounts in debt, and the amounts (Decimal): overdue, the four buckets, not_due, fees (late
    fees still owed), other."""
    today = today or timezone.localdate()
    width = max(1, len([g for g in group.split(",") if g]))
    out = []
    for found in ledger.arrears_totals(today, filters or {}, group, source):
        keys, figures = found[:width], found[width:]
        row: dict = {"key": keys[0] if width == 1 else tuple(keys)}
        for name, value in zip(FIGURES, figures, strict=True):
            row[name] = int(value) if name in ("accounts", "debtors") else yuan(value)
        row["debt"] = row["overdue"] + row["not_due"] + row["fees"] + row["other"]
        out.append(row)
    return out


def aging(today: date | None = None, filters: dict | None = None) -> dict[str, Decimal]:
    row = totals(today, filters)[0]
    return dict(
        zip(
            (name for name, _low, _high in BUCKETS),
            (row["d0_30"], row["d31_60"], row["d61_90"], row["d90"]),
            strict=True,
        )
    )


def overdue_accounts(
    today: date | None = None,
    filters: dict | None = None,
    limit: int = 50,
    offset: int = 0,
    order: str = "page",
    source=None,
) -> list[dict]:
    """One page of the accounts in arrears, the longest overdue first (then the largest), or
    the largest first with order="top": the list to work through."""
    today = today or timezone.localdate()
    rows = ledger.arrears_rows(today, filters or {}, order, limit, offset, source)
    out = []
    for cid, account_no, name, phone, fen, oldest, bills, category, district in rows:
        days = (today - oldest).days
        out.append(
            {
                "customer_id": cid,
                "account_no": account_no,
                "name": name,
                "phone": phone,
                "overdue": yuan(fen),
                "days": days,
                "bills": bills,
                "bucket": bucket_of(days),
                "category": category,
                "district": district,
            }
        )
    return out


class OverduePage:
    """The arrears list as Django's Paginator wants it: a count and slices, each slice one
    LIMIT/OFFSET query."""

    def __init__(self, today: date, filters: dict, count: int, source=None):
        self.today, self.filters, self._count = today, filters, count
        self.source = source or ledger.arrears_source(today)

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, part: slice) -> list[dict]:
        start, stop = part.start or 0, part.stop or self._count
        return overdue_accounts(self.today, self.filters, stop - start, start, source=self.source)


def refresh(today: date | None = None) -> dict[str, int]:
    """Rebuild the arrears snapshot (the daily job, after the late fees)."""
    return ledger.refresh_arrears(today or timezone.localdate())


def apply_late_fees(today: date | None = None, chunk: int = LATE_FEE_CHUNK) -> int:
    """Charge one day's late fee on every overdue bill; idempotent per bill per day (the
    ledger key late_fee:<bill>:<day>), capped at late_fee_cap_ratio × the bill's total.
    Set-based, in chunks of accounts in debt, each chunk one transaction (charge_late_fees).
    Accounts held on the day (LateFeeHolds: a payment arrangement) are left out."""
    today = today or timezone.localdate()
    terms = late_fee_terms()
    at = timezone.now()
    held: set[int] = set().union(*ask(LateFeeHolds(today)))
    posted, last = 0, 0
    while True:
        ids = list(
            Account.objects.filter(balance__lt=0, customer_id__gt=last)
            .order_by("customer_id")
            .values_list("customer_id", flat=True)[:chunk]
        )
        if not ids:
            return posted
        last = ids[-1]
        ids = [cid for cid in ids if cid not in held]
        if ids:
            posted += len(charge_late_fees(ids, today, at, terms))


def late_fee_terms() -> tuple[Decimal, Decimal]:
    """(rate per day, cap ratio): the parameters, read once per job."""
    return Decimal(parameters.get("late_fee_rate_per_day")), Decimal(parameters.get("late_fee_cap_ratio"))


def charge_late_fees(
    ids: list[int], today: date, at, terms: tuple[Decimal, Decimal] | None = None
) -> dict[int, Decimal]:
    """One chunk of apply_late_fees (also generate_data's history, as of a past day): in one
    transaction, the accounts of customers ``ids`` locked, their overdue bills and fees so far
    read under the locks, ``today``'s fees posted in bulk at ``at``. Returns {bill id: fee
    posted} (a fee already charged today is not posted again)."""
    rate, cap_ratio = terms or late_fee_terms()
    day = today.isoformat()
    with transaction.atomic():
        batch = ledger.EntrySet(EntryKind.LATE_FEE, at=at)
        batch.lock(ids)
        items = ledger.overdue_bills(today, ("ids", ids))
        charged = ledger.late_fees_charged(sorted({item[0] for item in items}), today)
        rows, fees = [], {}
        for cid, bill, period, _due, fen, total_fen in items:
            so_far, done_today = charged.get(bill, (0, False))
            if done_today:
                continue
            room = round_money(yuan(total_fen) * cap_ratio) - yuan(so_far)
            fee = min(round_money(yuan(fen) * rate), room)
            if fee > 0:
                rows.append((cid, -fee, f"late_fee:{bill}:{day}", f"Late fee {period} ({day})"))
                fees[bill] = fee
        batch.post(rows)
        return fees
