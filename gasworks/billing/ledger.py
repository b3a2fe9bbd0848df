"""The ledger service: the only way money moves. Every entry is posted in a transaction that
locks the account row, appends the entry and updates the cached balance together."""

from decimal import Decimal

from django.db import IntegrityError, transaction
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
