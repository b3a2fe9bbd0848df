"""The channel a payment came in by, as the collections report and the payment list name it.

A payment's method says how money was handed over (cash, card, bank, online); the channel says
where it came in: the counter's cash, card and bank, a bank-statement import (method bank,
gateway "bank"), an IC-card top-up (purpose "ic_card", whatever the method), and each online
gateway by its own code. The same rule is written once more in SQL, in
gasworks/reports/collections/store.py (CHANNEL_SQL): change both together."""

import datetime as dt

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gasworks.customers.models import Category
from gasworks.lib.dates import start_of_day
from gasworks.payments.gateways.base import gateway_classes
from gasworks.payments.models import Method

BANK_STATEMENT = "bank_statement"
IC_CARD = "ic_card"
BANK_GATEWAY = "bank"  # services.BANK_GATEWAY: the bank statement's pseudo-gateway

FIXED = {
    Method.CASH: _("Cash"),
    Method.CARD: _("Bank card"),
    Method.BANK: _("Bank transfer"),
    BANK_STATEMENT: _("Bank statement"),
    IC_CARD: _("IC card top-up"),
}


def choices() -> list[tuple[str, str]]:
    """Every channel code with its label: the fixed ones, then each online gateway."""
    fixed = [(str(code), str(label)) for code, label in FIXED.items()]
    return fixed + [(cls.code, str(cls.label)) for cls in gateway_classes()]


def label(code) -> str:
    return dict(choices()).get(code, code or "")


def channel_of(payment) -> str:
    if payment.purpose == IC_CARD:
        return IC_CARD
    if payment.method == Method.ONLINE:
        return payment.gateway
    if payment.gateway == BANK_GATEWAY:
        return BANK_STATEMENT
    return payment.method


def channel_q(code: str, prefix: str = "") -> Q:
    """The payments of one channel, as a filter (``prefix`` for a related lookup, "payment__")."""

    def q(**kw) -> Q:
        return Q(**{prefix + k: v for k, v in kw.items()})

    if code == IC_CARD:
        return q(purpose=IC_CARD)
    not_card = ~q(purpose=IC_CARD)
    if code == BANK_STATEMENT:
        return not_card & q(method=Method.BANK, gateway=BANK_GATEWAY)
    if code in (Method.CASH, Method.CARD, Method.BANK):
        return not_card & q(method=code) & ~q(gateway=BANK_GATEWAY)
    return not_card & q(method=Method.ONLINE, gateway=code)


def _local_day(raw: str):
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


def narrow(payments, query) -> tuple:
    """The payment list narrowed as a report's drill-down asks (paid on local days ``from`` to
    ``to``, ``channel``, ``cashier`` and ``shift`` by id or ``none``, ``category``, ``district``);
    values that do not parse are ignored. Returns the queryset and the (label, value) pairs
    applied, to show above the list."""
    applied: list[tuple[str, str]] = []
    first, last = _local_day(query.get("from", "")), _local_day(query.get("to", ""))
    if first:
        payments = payments.filter(paid_at__gte=start_of_day(first))
        applied.append((str(_("From")), first.isoformat()))
    if last:
        payments = payments.filter(paid_at__lt=start_of_day(last + dt.timedelta(days=1)))
        applied.append((str(_("To")), last.isoformat()))
    code = query.get("channel", "")
    if code in dict(choices()):
        payments = payments.filter(channel_q(code))
        applied.append((str(_("Channel")), label(code)))
    for name, lookup, title in (
        ("cashier", "shift__cashier_id", _("Cashier")),
        ("shift", "shift_id", _("Shift")),
    ):
        value = query.get(name, "")
        if value == "none":
            payments = payments.filter(shift__isnull=True)
            applied.append((str(title), str(_("None"))))
        elif value.isdigit() and len(value) < 12:
            payments = payments.filter(**{lookup: int(value)})
            applied.append((str(title), value))
    category = query.get("category", "")
    if category in Category.values:
        payments = payments.filter(customer__category=category)
        applied.append((str(_("Category")), str(Category(category).label)))
    district = query.get("district", "").strip()[:64]
    if district:
        payments = payments.filter(customer__premises__district=district)
        applied.append((str(_("District")), district))
    return payments, applied
