"""The ledger service: the only way money moves. Every entry is posted in a transaction that
locks the account row, appends the entry and updates the cached balance together.

Three entry points share one validation (_validated: a known kind, rounded to the fen, not
zero) and one account lock (lock_accounts: pk order, one query): post() for one entry,
post_many() for a list of entries (a bank statement chunk), and SetPosting for a set-based job
that writes thousands of entries of one kind in bulk (the billing run). Their SQL fast paths
live in gasworks.billing.store (the ledger_* functions), called from here only."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.billing import store
from gasworks.billing.events import MoneyIn
from gasworks.billing.models import Account, EntryKind, LedgerEntry
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib.events import publish
from gasworks.lib.money import MONEY_PLACES, round_money

_KINDS = frozenset(EntryKind.values)
MONEY0 = Decimal("0.00")


def _checked_kind(kind: str) -> str:
    if kind not in _KINDS:
        raise InvalidInput("invalid_entry_kind", _("Unknown ledger entry kind."))
    return kind


def _checked_amount(amount) -> Decimal:
    # A Decimal (the bulk paths' case) is quantized directly; anything else goes through
    # round_money, which refuses floats and bad text. Same rounding (half up to the fen).
    amount = (
        amount.quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)
        if type(amount) is Decimal
        else round_money(amount)
    )
    if amount == 0:
        raise InvalidInput("zero_amount", _("The amount must not be zero."))
    return amount


def _validated(kind: str, amount) -> Decimal:
    """The rule every entry passes, whatever the entry point: a known kind, an amount rounded
    half up to the fen that is not zero. Returns the rounded amount."""
    _checked_kind(kind)
    return _checked_amount(amount)


class Held(NamedTuple):
    """A locked account, as the ledger needs it."""

    pk: int
    balance: Decimal
    prepaid: bool
    credit_limit: Decimal


def lock_accounts(customer_ids, create: bool = True) -> dict[int, Held]:
    """The one account lock: {customer id: Held} of the customers' accounts, rows locked
    (select_for_update) in pk order in one query, for the rest of the caller's transaction, so
    two writers never lock the same two accounts in opposite orders. With create=True a missing
    account is created first (at 0; a concurrent creator wins harmlessly); with create=False the
    missing ones are left out (SetPosting creates them with their first balance)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    rows = (
        Account.objects.select_for_update()
        .filter(customer_id__gte=ids[0], customer_id__lte=ids[-1])
        .filter(customer_id__any=ids)
        .order_by("pk")
        .values_list("customer_id", "pk", "balance", "prepaid", "credit_limit")
    )
    held = {cid: Held(pk, balance, prepaid, limit) for cid, pk, balance, prepaid, limit in rows}
    missing = [cid for cid in ids if cid not in held] if create else []
    if missing:  # first posting for these customers: rare, so two extra queries are fine
        Account.objects.bulk_create([Account(customer_id=c) for c in missing], ignore_conflicts=True)
        held.update(lock_accounts(missing, create=False))
    return held


def account_for(customer, lock: bool = False) -> Account:
    """The customer's account, created on first use. With lock=True the row is locked
    (lock_accounts) for the rest of the caller's transaction."""
    if lock:
        lock_accounts([customer.pk])
    else:
        account = Account.objects.filter(customer_id=customer.pk).first()
        if account is not None:
            return account
        with transaction.atomic():
            lock_accounts([customer.pk])
    return Account.objects.get(customer_id=customer.pk)


def post(
    customer,
    kind: str,
    amount: Decimal,
    reference: str = "",
    idempotency_key: str | None = None,
    by=None,
    reverses: LedgerEntry | None = None,
    allow_below_limit: bool = True,
    at=None,
) -> LedgerEntry:
    """Append one entry. Positive amounts are money in, negative are charges. With an
    idempotency key, a second post with the same key returns the first entry and changes nothing.
    allow_below_limit=False refuses a charge that would take the balance below the credit limit."""
    amount = _validated(kind, amount)
    with transaction.atomic():
        if idempotency_key:
            existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        account = lock_accounts([customer.pk])[customer.pk]
        # Re-check under the lock: a concurrent post with the same key may have committed.
        if idempotency_key:
            existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        new_balance = account.balance + amount
        if not allow_below_limit and amount < 0 and new_balance < -account.credit_limit:
            raise DomainError(
                "insufficient_balance",
                _("The balance %(balance)s is not enough for %(amount)s.")
                % {"balance": account.balance, "amount": -amount},
            )
        entry = LedgerEntry.objects.create(
            account_id=account.pk,
            kind=kind,
            amount=amount,
            balance_after=new_balance,
            reference=reference[:120],
            idempotency_key=idempotency_key,
            reverses=reverses,
            created_at=at or timezone.now(),
            created_by=by,
        )
        store.ledger_write_balances({account.pk: new_balance})
        if amount > 0:
            _after_money_in({customer.pk}, {customer.pk} if account.prepaid else set())
    return entry


def reverse(entry: LedgerEntry, reason: str, by=None) -> LedgerEntry:
    """Undo an entry with a new, opposite one; an entry can be reversed once."""
    if not reason.strip():
        raise InvalidInput("reason_required", _("Give a reason for the reversal."))
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise DomainError("already_reversed", _("This entry was already reversed."))
    customer = entry.account.customer
    return post(
        customer,
        EntryKind.REVERSAL,
        -entry.amount,
        reference=f"{reason.strip()} (#{entry.pk})",
        idempotency_key=f"reversal:{entry.pk}",
        by=by,
        reverses=entry,
    )


def balance(customer) -> Decimal:
    value = Account.objects.filter(customer_id=customer.pk).values_list("balance", flat=True).first()
    return value if value is not None else Decimal("0.00")


def entries(customer) -> list[dict]:
    rows = LedgerEntry.objects.filter(account__customer_id=customer.pk).order_by("pk")
    return [
        {
            "id": e.pk,
            "kind": e.kind,
            "amount": f"{e.amount:.2f}",
            "created_at": timezone.localtime(e.created_at).isoformat(),
            "reference": e.reference,
        }
        for e in rows
    ]


# --- batch posting ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Posting:
    """One row for post_many: what post() takes, with the customer by id."""

    customer_id: int
    kind: str
    amount: Decimal
    reference: str = ""
    idempotency_key: str | None = None
    by: Any = None  # the user who posts, or None for the system
    at: datetime.datetime | None = None


def post_many(rows: list[Posting], fresh: bool = False) -> list[LedgerEntry]:
    """Append many entries at once (a bank statement chunk, a batch job) with post()'s rules:
    the affected accounts are locked once, in pk order; entries go in row order, each with its
    balance_after; every account's balance is updated once, in the same transaction. A row whose
    idempotency key was already posted (earlier, or earlier in `rows`) gets that entry back and
    changes nothing. There is no credit-limit check (post()'s default): use post() for charges
    that must not go below the limit. Returns one entry per row, in order.

    fresh=True is the caller's word that no key of `rows` can have been posted: each names a row
    the caller's own transaction has just created (payment:<its new pk>). The lookup of posted
    keys is skipped; the unique constraint on the key still refuses a second posting (an
    IntegrityError that rolls the caller back), so money still moves at most once. With one
    account on PostgreSQL, its lock and balance update are then a single UPDATE ... RETURNING."""
    if not rows:
        return []
    amounts = [_validated(row.kind, row.amount) for row in rows]
    now = timezone.now()
    customer_ids = sorted({row.customer_id for row in rows})
    # No savepoint of its own (a round trip less per call): a failure here rolls back the caller.
    with transaction.atomic(savepoint=False):
        if fresh and len(customer_ids) == 1 and store.ledger_adds_in_database():
            return _post_fresh(customer_ids[0], rows, amounts, now)
        accounts = lock_accounts(customer_ids)
        # Under the account locks no concurrent post can slip the same key in between.
        keys = [row.idempotency_key for row in rows if row.idempotency_key and not fresh]
        done = (
            {e.idempotency_key: e for e in LedgerEntry.objects.filter(idempotency_key__in=keys)}
            if keys
            else {}
        )
        balances = {cid: account.balance for cid, account in accounts.items()}
        result, new, changed, credited, funded = [], [], set(), set(), set()
        for row, amount in zip(rows, amounts, strict=True):
            key = row.idempotency_key
            if key and key in done:
                result.append(done[key])
                continue
            cid = row.customer_id
            balances[cid] += amount
            entry = LedgerEntry(
                account_id=accounts[cid].pk,
                kind=row.kind,
                amount=amount,
                balance_after=balances[cid],
                reference=row.reference[:120],
                idempotency_key=key,
                created_at=row.at or now,
                created_by=row.by,
            )
            if key:
                done[key] = entry
            result.append(entry)
            new.append(entry)
            changed.add(cid)
            if amount > 0:
                credited.add(cid)
                if accounts[cid].prepaid:
                    funded.add(cid)
        LedgerEntry.objects.bulk_create(new)
        store.ledger_write_balances({accounts[cid].pk: balances[cid] for cid in changed})
        _after_money_in(credited, funded)
    return result


def _post_fresh(customer_id: int, rows: list[Posting], amounts: list[Decimal], now) -> list[LedgerEntry]:
    """post_many(fresh=True) for one account on PostgreSQL: the account row is locked and its
    balance moved by one UPDATE ... RETURNING (numeric arithmetic in the database is exact; on
    SQLite it would not be, so SQLite takes the general path), then the entries are inserted with
    their running balance_after. Lock order is unchanged: the account before the receipt counter."""
    total = sum(amounts, Decimal(0))
    account = store.ledger_add_to_balance(customer_id, total)
    if account is None:  # the customer's first posting: make the account, then move it
        Account.objects.bulk_create([Account(customer_id=customer_id)], ignore_conflicts=True)
        account = store.ledger_add_to_balance(customer_id, total)
    assert account is not None  # it exists now
    running = account.balance - total
    entries = []
    for row, amount in zip(rows, amounts, strict=True):
        running += amount
        entries.append(
            LedgerEntry(
                account=account,
                kind=row.kind,
                amount=amount,
                balance_after=running,
                reference=row.reference[:120],
                idempotency_key=row.idempotency_key,
                created_at=row.at or now,
                created_by=row.by,
            )
        )
    LedgerEntry.objects.bulk_create(entries)
    if any(amount > 0 for amount in amounts):
        _after_money_in({customer_id}, {customer_id} if account.prepaid else set())
    return entries


class SetPosting:
    """Set-based posting: many entries of one kind at once, one per customer, written in bulk
    (the billing run: a charge per bill of a chunk of 10,000 accounts). Three steps inside the
    caller's transaction::

        batch = ledger.SetPosting(EntryKind.CHARGE, reference, at=now)
        held = batch.lock(customer_ids)   # lock_accounts, without creating accounts
        before = batch.settle(amounts)    # {customer id: amount} -> {customer id: balance before}
        ...                               # the caller writes what the entries name (the bills)
        batch.post("bill:", ids)          # keys "bill:<id>" from {customer id: id}: entries, balances

    settle() validates every amount as post() does (_validated: kind, rounding, zero; a zero
    amount is allowed only here and means "no entry this time", the account is still opened)
    and creates a missing account directly with its balance after the entry, one insert instead
    of an insert and an update; an account a concurrent transaction created meanwhile is locked
    and charged like the others. post() inserts the entries (COPY on PostgreSQL) with
    balance_after continuing each account's chain, and moves every changed cached balance in
    one statement. The keys are unique in the database: a second posting of a key fails the
    caller's transaction, so a caller that may repeat (a resumed run) leaves out what it did."""

    def __init__(self, kind: str, reference: str, at=None):
        self.kind = _checked_kind(kind)
        self.reference = reference[:120]
        self.at = at or timezone.now()
        self.held: dict[int, Held] = {}
        # {customer id: (account pk, amount, balance before, balance after, account existed)}
        self.settled: dict[int, tuple] = {}

    def lock(self, customer_ids) -> dict[int, Held]:
        self.held = lock_accounts(customer_ids, create=False)
        return self.held

    def settle(self, amounts: dict[int, Decimal]) -> dict[int, Decimal]:
        settled, missing = self.settled, []
        for cid, amount in amounts.items():
            amount = _checked_amount(amount) if amount else MONEY0
            found = self.held.get(cid)
            if found is None:
                missing.append((cid, amount))
            else:
                settled[cid] = (found.pk, amount, found.balance, found.balance + amount, True)
        if missing:
            created = store.ledger_insert_accounts(missing, self.at)
            late = [cid for cid, _amount in missing if cid not in created]
            if late:  # created by someone else meanwhile: lock and charge it like any other
                self.held.update(lock_accounts(late, create=False))
            for cid, amount in missing:
                if cid in created:
                    settled[cid] = (created[cid], amount, MONEY0, amount, False)
                else:
                    found = self.held[cid]
                    settled[cid] = (found.pk, amount, found.balance, found.balance + amount, True)
        return {cid: row[2] for cid, row in settled.items()}

    def post(
        self, key_prefix: str, ids: dict[int, int], times: dict[int, datetime.datetime] | None = None
    ) -> None:
        """The entries of the settled customers in ``ids``, each with the idempotency key
        key_prefix + its id (the cause's row: "bill:" and the bill's id). ``times``, when given,
        holds each customer's own entry time ({customer id: when}; the batch's ``at`` for the
        others): payments that arrived at different times, written as one set (generate_data)."""
        rows, balances, credited, funded = [], {}, set(), set()
        settled = self.settled
        for cid, key in ids.items():
            pk, amount, _before, after, existed = settled[cid]
            if not amount:
                continue
            rows.append(
                (pk, amount, after, key) if times is None else (pk, amount, after, key, times.get(cid))
            )
            if amount > 0:
                credited.add(cid)
            if existed:
                balances[pk] = after
                if amount > 0 and self.held[cid].prepaid:
                    funded.add(cid)
        store.ledger_insert_entries(rows, self.kind, self.reference, self.at, key_prefix)
        store.ledger_write_balances(balances)
        _after_money_in(credited, funded)


class EntrySet:
    """Set-based posting of many entries of one kind with their own keys and references, any
    number per account (late fees: one per overdue bill). Inside the caller's transaction::

        batch = ledger.EntrySet(EntryKind.LATE_FEE, at=now)
        batch.lock(customer_ids)          # lock_accounts: pk order, one query
        ...                               # read what the amounts depend on, under the locks
        batch.post(rows)                  # [(customer id, amount, key, reference)]

    post() validates every amount as post() does, leaves out a row whose key was posted before
    (so a rerun charges nothing twice; the unique key still refuses a concurrent duplicate),
    chains balance_after per account in row order, inserts the entries in bulk (COPY on
    PostgreSQL) and moves every changed cached balance in one statement."""

    def __init__(self, kind: str, at=None):
        self.kind = _checked_kind(kind)
        self.at = at or timezone.now()
        self.held: dict[int, Held] = {}

    def lock(self, customer_ids) -> dict[int, Held]:
        self.held = lock_accounts(customer_ids)
        return self.held

    def post(self, rows: list[tuple[int, Decimal, str, str]]) -> int:
        """Returns how many entries were written."""
        keys = [key for _cid, _amount, key, _ref in rows]
        done = set(
            LedgerEntry.objects.filter(idempotency_key__any=keys).values_list("idempotency_key", flat=True)
        )
        balances = {cid: held.balance for cid, held in self.held.items()}
        out, credited, funded = [], set(), set()
        for cid, amount, key, reference in rows:
            if key in done:
                continue
            done.add(key)
            amount = _validated(self.kind, amount)
            balances[cid] += amount
            out.append((self.held[cid].pk, amount, balances[cid], reference[:120], key))
            if amount > 0:
                credited.add(cid)
                if self.held[cid].prepaid:
                    funded.add(cid)
        store.ledger_insert_keyed_entries(out, self.kind, self.at)
        changed = {row[0] for row in out}
        store.ledger_write_balances(
            {held.pk: balances[cid] for cid, held in self.held.items() if held.pk in changed}
        )
        _after_money_in(credited, funded)
        return len(out)


# --- what accounts owe, set-based (gasworks.billing.arrears states the rule) -----------------

# Ledger entries recorded this long before a snapshot rebuild began may have committed after it
# read them (transactions here last seconds): their accounts are read live, unless (PostgreSQL)
# the rebuild's transaction snapshot shows it saw them (store.ledger_moved_since).
ARREARS_MARGIN = datetime.timedelta(minutes=10)
# Beyond this many accounts moved since the snapshot (a billing run's day), reading them all
# live is as quick as the lookup: the whole page is computed live.
ARREARS_LIVE_LIMIT = 20_000


def arrears_source(as_of: datetime.date, history: bool = False) -> tuple:
    """Where the arrears aged on a day are read from. With ``history`` a past day is read as it
    stood then: from the ledger and bills recorded before its end (the report's as_of).
    Otherwise today's balances are aged on the day: from the snapshot when it is of that day and
    today, with the accounts whose ledger moved since read live, else all live."""
    from gasworks.billing.models import ArrearsRefresh
    from gasworks.lib.dates import start_of_day

    today = timezone.localdate()
    if history and as_of < today:
        return ("history", start_of_day(as_of + datetime.timedelta(days=1)))
    state = ArrearsRefresh.objects.first()
    if as_of != today or state is None or state.as_of != today:
        return ("live",)
    since = state.started_at - ARREARS_MARGIN
    touched = store.ledger_moved_since(since, state.started_at, state.seen, ARREARS_LIVE_LIMIT)
    if len(touched) > ARREARS_LIVE_LIMIT:
        return ("live",)
    return ("snapshot", touched)


def refresh_arrears(as_of: datetime.date | None = None) -> dict[str, int]:
    """Rebuild the arrears snapshot as of today (the daily job), in one transaction."""
    as_of = as_of or timezone.localdate()
    started = timezone.now()
    with transaction.atomic():
        return store.ledger_rebuild_arrears_snapshot(as_of, started)


def overdue_bills(as_of: datetime.date, scope=None, until=None) -> list[tuple]:
    """(customer id, bill id, period, due day, outstanding fen, bill total fen) per overdue
    bill; ``scope`` None, ("range", lo, hi) or ("ids", [customer ids])."""
    return store.ledger_overdue_bills(as_of, until, scope)


def arrears_accounts(as_of: datetime.date, scope=None, until=None) -> list[tuple]:
    return store.ledger_arrears_accounts(as_of, until, scope)


def arrears_ctes(as_of: datetime.date, scope=None) -> tuple[str, dict]:
    """The arrears as of ``as_of`` from the cached balances, as a WITH clause and its parameters
    (store.ledger_arrears_ctes: `owed`, `parts`, `accts`), for another app's store to build a
    set-based read on (the collections ladder); read only. ``scope`` as overdue_bills."""
    return store.ledger_arrears_ctes(as_of, None, scope)


def arrears_merged(as_of: datetime.date, source) -> tuple[str, dict]:
    """The arrears of every account in debt as a WITH clause ending in `merged` (cid, overdue,
    oldest_due, ... in fen) read from ``source`` (arrears_source: today's snapshot beside the
    accounts moved since, or live), for another app's store to build a set-based read on."""
    return store._merged(as_of, source)


def late_fees_charged(customer_ids, day: datetime.date) -> dict[int, tuple[int, bool]]:
    return store.ledger_late_fees_charged(customer_ids, day) if customer_ids else {}


def arrears_rows(as_of, filters: dict, order: str = "page", limit: int = 50, offset: int = 0, source=None):
    return store.ledger_arrears_rows(as_of, source or arrears_source(as_of), filters, order, limit, offset)


def arrears_totals(as_of, filters: dict, group: str = "", source=None) -> list[tuple]:
    """store.ledger_arrears_totals; today's snapshot totals (all, or per category and district
    for a filter or a grouping) are its stored totals corrected by the accounts read live (no
    sum over every account per request)."""
    from gasworks.billing.models import ArrearsRefresh

    source = source or arrears_source(as_of)
    if source[0] != "snapshot":
        return store.ledger_arrears_totals(as_of, source, filters, group)
    state = ArrearsRefresh.objects.get()
    if group or any(filters.values()):
        if "groups" not in state.totals:  # a snapshot taken before groups were stored
            return store.ledger_arrears_totals(as_of, source, filters, group)
        return _group_totals(as_of, state.totals["groups"], source[1], filters, group)
    base = [state.totals.get(k, 0) for k in ("accounts", "debtors", *store.FIGURES)]
    if source[1]:
        old = store.ledger_arrears_totals(as_of, ("snapshot_of", source[1]), {})[0][1:]
        new = store.ledger_arrears_totals(as_of, ("ids_live", source[1]), {})[0][1:]
        base = [b - o + n for b, o, n in zip(base, old, new, strict=True)]
    return [("", *base)]


def _group_totals(as_of, stored: list, touched, filters: dict, group: str) -> list[tuple]:
    """The snapshot's stored (category, district) totals, less the touched accounts' snapshot
    rows and plus the same accounts computed live, kept by the filters and summed per group."""
    by_pair: dict[tuple, list[int]] = {(c, d): list(rest) for c, d, *rest in stored}
    if touched:
        for source, sign in ((("snapshot_of", touched), -1), (("ids_live", touched), 1)):
            for category, district, *figures in store.ledger_arrears_totals(
                as_of, source, {}, "category,district"
            ):
                pair = by_pair.setdefault((category, district or ""), [0] * len(figures))
                pair[:] = [a + sign * b for a, b in zip(pair, figures, strict=True)]
    keys = [g for g in group.split(",") if g]
    out: dict[tuple, list[int]] = {}
    for (category, district), figures in by_pair.items():
        values = {"category": category, "district": district}
        if figures[1] <= 0 or any(v and values[k] != v for k, v in filters.items()):
            continue  # no account in debt there (any more), or filtered out
        key = tuple(values[k] for k in keys) or ("",)
        sums = out.setdefault(key, [0] * len(figures))
        sums[:] = [a + b for a, b in zip(sums, figures, strict=True)]
    if not keys:
        return [("", *out.get(("",), [0] * 10))]
    return [(*key, *figures) for key, figures in sorted(out.items())]


def analyze_month(day: datetime.date) -> None:
    """Fresh planner statistics for the entries' partition of ``day``'s month (PostgreSQL): for
    a bulk load that goes on reading the month it is filling (generate_data's history)."""
    from gasworks.lib import partitions

    partitions.analyze_month(LedgerEntry._meta.db_table, day)


def _after_money_in(credited: set[int], funded: set[int]) -> None:
    """Money reached the accounts of the customers ``credited`` (every way money comes in passes
    here): MoneyIn tells the other apps, still under the accounts' locks (the collections ladder
    ends where nothing is overdue any more, whatever brought the money). For the prepaid ones
    among them (``funded``), once committed, a valve closed for an empty balance may open again
    (gasworks.billing.prepaid)."""
    if not credited:
        return
    publish(MoneyIn(tuple(sorted(credited))))
    if not funded:
        return

    def reopen():
        from gasworks.billing import prepaid
        from gasworks.customers.models import Customer

        for customer in Customer.objects.filter(pk__in=sorted(funded)):
            prepaid.reopen_if_funded(customer)

    transaction.on_commit(reopen)
