"""The ledger as part of the audit log: an entry is already the record of a change to money
(who, when, how much, the balance after, never edited), so payments, refunds, adjustments and
reversals write no second row on the counter's hot path. The charges a billing run or a prepaid
reading posts by themselves are left out: the run and the reading are in the log."""

from django.db.models import Q
from django.urls import reverse

from gasworks.billing.models import EntryKind, LedgerEntry
from gasworks.customers.models import Customer
from gasworks.system import auditlog

MACHINE_KINDS = [EntryKind.CHARGE, EntryKind.PREPAID_CHARGE]
LABEL = LedgerEntry._meta.label


def rows(filters: auditlog.Filters):
    if filters.model and filters.model != LABEL:
        return None
    if filters.action and filters.action not in EntryKind.values:
        return None
    qs = LedgerEntry.objects.exclude(kind__in=MACHINE_KINDS, created_by__isnull=True)
    if filters.action:
        qs = qs.filter(kind=filters.action)
    if filters.actor:
        qs = qs.filter(created_by_id=filters.actor)
    if filters.object_id:
        if not filters.object_id.isdigit():
            return None
        qs = qs.filter(pk=int(filters.object_id))
    if filters.q:
        # The entries of the customers the text matches (name or account number, on the
        # customers' trigram indexes), each read by the (account, time) index. Not the
        # reference: a text match there reads every entry (a year of a million customers is
        # 24,000,000), and the references are a few repeated labels anyway.
        matched = Customer.objects.filter(
            Q(account_no__icontains=filters.q) | Q(name__icontains=filters.q)
        ).values("pk")
        qs = qs.filter(account__customer_id__in=matched)
    since, until = filters.at_range()
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    return auditlog.keyed(qs, "ledger", "created_at")


def load(ids: list[int]) -> dict[int, auditlog.Row]:
    from gasworks.lib.money import format_money

    out = {}
    entries = LedgerEntry.objects.filter(pk__in=ids).select_related("account__customer", "created_by")
    for e in entries:
        customer = e.account.customer
        out[e.pk] = auditlog.Row(
            at=e.created_at,
            actor=e.created_by,
            action=e.get_kind_display(),
            type_label=auditlog.type_label(LABEL),
            object_id=str(e.pk),
            object_repr=str(customer),
            note=e.reference,
            url=reverse("customer-detail", args=[customer.pk]),
            changes=[
                auditlog.Change(auditlog.field_label(LedgerEntry, "amount"), "", format_money(e.amount)),
                auditlog.Change(
                    auditlog.field_label(LedgerEntry, "balance_after"),
                    format_money(e.balance_after - e.amount),
                    format_money(e.balance_after),
                ),
            ],
        )
    return out


def install() -> None:
    auditlog.register(auditlog.Source("ledger", LABEL, rows, load, dict(EntryKind.choices)))
