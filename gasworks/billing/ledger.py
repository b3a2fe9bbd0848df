"""The ledger service: the only way money moves. Every entry is posted in a transaction that
locks the account row, appends the entry and updates the cached balance together."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.billing.models import Account, EntryKind, LedgerEntry
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib.money import round_money


def account_for(customer, lock: bool = False) -> Account:
    """The customer's account, created on first use. With lock=True the row is locked
    (select_for_update) for the rest of the caller's transaction."""
    account = Account.objects.filter(customer_id=customer.pk).first()
    if account is None:
        try:
            with transaction.atomic():
                account = Account.objects.create(customer_id=customer.pk)
        except IntegrityError:
            pass  # another transaction created it first
    queryset = Account.objects.select_for_update() if lock else Account.objects
    return queryset.get(customer_id=customer.pk)


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
    if kind not in EntryKind.values:
        raise InvalidInput("invalid_entry_kind", _("Unknown ledger entry kind."))
    amount = round_money(amount)
    if amount == 0:
        raise InvalidInput("zero_amount", _("The amount must not be zero."))
    with transaction.atomic():
        if idempotency_key:
            existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        account = account_for(customer, lock=True)
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
            account=account,
            kind=kind,
            amount=amount,
            balance_after=new_balance,
            reference=reference[:120],
            idempotency_key=idempotency_key,
            reverses=reverses,
            created_at=at or timezone.now(),
            created_by=by,
        )
        Account.objects.filter(pk=account.pk).update(balance=new_balance)
        if amount > 0 and account.prepaid:
            _after_money_in({account.customer_id})
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
    by: object = None
    at: object = None


def _lock_accounts(customer_ids: list[int]) -> dict[int, Account]:
    """Lock the customers' accounts in pk order (one query), creating the missing ones."""
    locked = Account.objects.select_for_update().order_by("pk")
    accounts = {a.customer_id: a for a in locked.filter(customer_id__any=customer_ids)}
    missing = [c for c in customer_ids if c not in accounts]
    if missing:  # first posting for these customers: rare, so two extra queries are fine
        Account.objects.bulk_create([Account(customer_id=c) for c in missing], ignore_conflicts=True)
        accounts.update({a.customer_id: a for a in locked.filter(customer_id__any=missing)})
    return accounts


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
    amounts = []
    for row in rows:
        if row.kind not in EntryKind.values:
            raise InvalidInput("invalid_entry_kind", _("Unknown ledger entry kind."))
        amount = round_money(row.amount)
        if amount == 0:
            raise InvalidInput("zero_amount", _("The amount must not be zero."))
        amounts.append(amount)
    now = timezone.now()
    customer_ids = sorted({row.customer_id for row in rows})
    # No savepoint of its own (a round trip less per call): a failure here rolls back the caller.
    with transaction.atomic(savepoint=False):
        if fresh and len(customer_ids) == 1 and connection.vendor == "postgresql":
            return _post_fresh(customer_ids[0], rows, amounts, now)
        accounts = _lock_accounts(customer_ids)
        # Under the account locks no concurrent post can slip the same key in between.
        keys = [row.idempotency_key for row in rows if row.idempotency_key and not fresh]
        done = (
            {e.idempotency_key: e for e in LedgerEntry.objects.filter(idempotency_key__in=keys)}
            if keys
            else {}
        )
        balances = {cid: account.balance for cid, account in accounts.items()}
        result, new = [], []
        for row, amount in zip(rows, amounts, strict=True):
            key = row.idempotency_key
            if key and key in done:
                result.append(done[key])
                continue
            balances[row.customer_id] += amount
            entry = LedgerEntry(
                account=accounts[row.customer_id],
                kind=row.kind,
                amount=amount,
                balance_after=balances[row.customer_id],
                reference=row.reference[:120],
                idempotency_key=key,
                created_at=row.at or now,
                created_by=row.by,
            )
            if key:
                done[key] = entry
            result.append(entry)
            new.append(entry)
        LedgerEntry.objects.bulk_create(new)
        changed = {entry.account.customer_id for entry in new}
        for cid in changed:
            accounts[cid].balance = balances[cid]
        if len(changed) == 1:
            account = accounts[changed.pop()]
            Account.objects.filter(pk=account.pk).update(balance=account.balance)
        elif changed:
            Account.objects.bulk_update([accounts[cid] for cid in changed], ["balance"])
        _after_money_in({e.account.customer_id for e in new if e.amount > 0 and e.account.prepaid})
    return result


def _post_fresh(customer_id: int, rows: list[Posting], amounts: list[Decimal], now) -> list[LedgerEntry]:
    """post_many(fresh=True) for one account on PostgreSQL: the account row is locked and its
    balance moved by one UPDATE ... RETURNING (numeric arithmetic in the database is exact; on
    SQLite it would not be, so SQLite takes the general path), then the entries are inserted with
    their running balance_after. Lock order is unchanged: the account before the receipt counter."""
    account = _add_to_balance(customer_id, sum(amounts))
    if account is None:  # the customer's first posting: make the account, then move it
        Account.objects.bulk_create([Account(customer_id=customer_id)], ignore_conflicts=True)
        account = _add_to_balance(customer_id, sum(amounts))
    running = account.balance - sum(amounts)
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
    if account.prepaid and any(amount > 0 for amount in amounts):
        _after_money_in({customer_id})
    return entries


def _add_to_balance(customer_id: int, delta: Decimal) -> Account | None:
    """PostgreSQL: lock the customer's account and add delta to its balance in one statement;
    the account as it is afterwards, or None when the customer has no account yet."""
    qn = connection.ops.quote_name
    fields = Account._meta.concrete_fields
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qn(Account._meta.db_table)} SET balance = balance + %s WHERE customer_id = %s "  # noqa: S608 (model's table)
            f"RETURNING {', '.join(qn(f.column) for f in fields)}",
            [delta, customer_id],
        )
        row = cursor.fetchone()
    return None if row is None else Account.from_db(connection.alias, [f.attname for f in fields], row)


def _after_money_in(customer_ids) -> None:
    """Money reached prepaid accounts: once committed, a valve closed for an empty balance may
    open again (gasworks.billing.prepaid). Every way money comes in passes here."""
    if not customer_ids:
        return

    def reopen():
        from gasworks.billing import prepaid
        from gasworks.customers.models import Customer

        for customer in Customer.objects.filter(pk__in=sorted(customer_ids)):
            prepaid.reopen_if_funded(customer)

    transaction.on_commit(reopen)
