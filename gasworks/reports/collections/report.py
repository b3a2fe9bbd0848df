"""Revenue and collections (营收) and the daily collection report (收费日报).

Money in is the ledger's `payment` entries, refunds its `refund` entries (on the day the refund
was paid out) and reversals of either (on the day of the reversal), each joined to its payment
for the channel, method, cashier and shift, on the station's local day of the entry. Billed is
the charges posted (bills, late fees, prepaid charges, LPG sales, less reversals of them). An
IC-card top-up is one payment (channel `ic_card`) and one prepaid charge of the same amount: it
counts as collected and as billed, so it leaves the collection rate as it finds it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gasworks.customers.models import Category
from gasworks.lib.dates import start_of_day
from gasworks.lib.money import format_money
from gasworks.payments import channels
from gasworks.payments.models import COUNTER_METHODS, Method, Payment, PaymentStatus, Shift, ShiftStatus
from gasworks.reports.collections.figures import ZERO, Figures, Query, collect
from gasworks.reports.framework import (
    Chart,
    Column,
    Params,
    Report,
    Result,
    month_bounds,
    pct,
    periods_between,
)
from gasworks.system import parameters

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

ALL = "reports.view_collections_report"
OWN = "reports.view_own_collections"
FIGURES = ("count", "amount", "refunds", "reversals", "net")


def _user_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def cashier_label(value) -> str:
    if value in (None, ""):
        return gettext("Not at a counter")
    user = get_user_model().objects.filter(pk=value).first()
    return _user_name(user) or str(value)


def shift_label(value) -> str:
    if value in (None, ""):
        return gettext("No shift")
    shift = Shift.objects.select_related("cashier").filter(pk=value).first()
    if shift is None:
        return f"#{value}"
    return f"#{shift.pk} {_user_name(shift.cashier)} {timezone.localtime(shift.opened_at):%Y-%m-%d %H:%M}"


class _Names(dict):
    """Labels by id, read in one query; an id without one (no shift, not at a counter) gets
    ``none``. Called with a row's value like a Column's choices callable."""

    def __init__(self, names: dict, none: str):
        super().__init__(names)
        self.none = none

    def __call__(self, value) -> str:
        if value in (None, ""):
            return self.none
        return self.get(value) or self.get(int(value)) or f"#{value}"


def figure_columns(billed: bool) -> list[Column]:
    columns = [
        Column("count", _("Payments"), "count"),
        Column("amount", _("Money in"), "money"),
        Column("refunds", _("Refunds"), "money"),
        Column("reversals", _("Reversals"), "money"),
        Column("net", _("Net"), "money"),
    ]
    if billed:
        columns += [
            Column("billed", _("Billed"), "money"),
            Column("collection_rate", _("Collection rate"), "percent"),
        ]
    return columns


def figure_values(f: Figures, billed: bool) -> dict:
    out = {"count": f.count, "amount": f.amount, "refunds": f.refunds, "reversals": f.reversals, "net": f.net}
    if billed:
        out["billed"] = f.billed
        out["collection_rate"] = pct(f.net, f.billed)
    return out


class CollectionsAccess:
    """Who sees what: the collections permission sees the station; a cashier holding only
    `view_own_collections` sees their own payments, whatever the query asks."""

    permission = ALL

    def allowed(self, user) -> bool:
        return bool(user and user.is_authenticated and (user.has_perm(ALL) or user.has_perm(OWN)))

    def scope(self, user, params: Params) -> Params:
        if user.has_perm(ALL):
            return params
        return params.but(filters={**params.filters, "cashier": str(user.pk)})

    def cashier_choices(self) -> list[tuple[str, str]]:
        ids = Shift.objects.values_list("cashier_id", flat=True).distinct().order_by()
        users = get_user_model().objects.filter(pk__in=ids).order_by("username")
        return [(str(u.pk), _user_name(u)) for u in users]

    @staticmethod
    def cashier_of(params: Params) -> int | None:
        value = params.get("cashier")
        return int(value) if value.isdigit() else None


class CollectionsReport(CollectionsAccess, Report):
    name = "collections"
    title = _("Revenue and collections")
    description = _(
        "Money in by day, month, channel, cashier and shift, with refunds, reversals and the net; "
        "billed against collected (collection rate) by day and month."
    )
    period = "day"
    group_by = ("day", "month", "channel", "cashier", "shift")
    group_labels = {
        "day": _("Day"),
        "month": _("Month"),
        "channel": _("Channel"),
        "cashier": _("Cashier"),
        "shift": _("Shift"),
    }
    filters = ("channel", "cashier", "category", "district")

    def filter_choices(self, name: str) -> list[tuple[str, str]]:
        if name == "channel":
            return channels.choices()
        if name == "cashier":
            return self.cashier_choices()
        if name == "category":
            return [(str(k), str(v)) for k, v in Category.choices]
        return []

    def figures_query(self, params: Params) -> Query:
        assert params.start and params.end
        return Query(
            params.start,
            params.end,
            params.group_by,
            channel=params.get("channel"),
            cashier=self.cashier_of(params),
            category=params.get("category"),
            district=params.get("district"),
        )

    def run(self, params: Params) -> Result:
        query = self.figures_query(params)
        figures = collect(query)
        group, billed = query.group, query.billed_applies
        keys = self._keys(query, figures)
        # Names of the cashiers and shifts on the rows, read once (not a query per row).
        shift_names, cashier_names = self._names(
            keys if group == "shift" else [], keys if group == "cashier" else []
        )
        key_column = {
            "day": Column("day", _("Day"), "day"),
            "month": Column("month", _("Month"), "period"),
            "channel": Column("channel", _("Channel"), "code", channels.label),
            "cashier": Column("cashier", _("Cashier"), "code", cashier_names),
            "shift": Column("shift", _("Shift"), "code", shift_names),
        }[group]
        columns = [key_column]
        if group == "shift":
            columns.append(Column("cashier", _("Cashier"), "code", cashier_names))
        columns += figure_columns(billed)
        cashier_of_shift = (
            dict(Shift.objects.filter(pk__in=[k for k in keys if k]).values_list("pk", "cashier_id"))
            if group == "shift"
            else {}
        )
        rows, total = [], Figures()
        for key in keys:
            f = figures.get(key, Figures())
            total.add(f.count, f.amount, f.refunds, f.reversals, f.billed)
            row = {key_column.key: key.isoformat() if isinstance(key, dt.date) else key}
            if group == "shift":
                row["cashier"] = cashier_of_shift.get(key)
            row.update(figure_values(f, billed))
            rows.append(row)
        chart = {
            "day": Chart("line", "day", ("billed", "net") if billed else ("net",)),
            "month": Chart("line", "month", ("billed", "net") if billed else ("net",)),
            "channel": Chart("pie", "channel", ("amount",)),
            "cashier": Chart("bar", "cashier", ("amount", "refunds")),
            "shift": Chart("bar", "shift", ("net",)),
        }[group]
        notes: list[tuple[StrOrPromise, str]] = [
            (_("Refunds and reversals"), gettext("counted on the day they were paid out or posted")),
        ]
        if not billed and group in ("day", "month"):
            notes.append(
                (_("Billed"), gettext("shown for the whole station only (no channel or cashier filter)"))
            )
        return Result(columns, rows, figure_values(total, billed), chart, notes)

    @staticmethod
    def _names(shift_ids: list, cashier_ids: list) -> tuple[dict, dict]:
        shifts = {
            s.pk: s
            for s in Shift.objects.select_related("cashier").filter(pk__in=[k for k in shift_ids if k])
        }
        users = {u.pk: u for u in get_user_model().objects.filter(pk__in=[k for k in cashier_ids if k])}
        users.update({s.cashier_id: s.cashier for s in shifts.values()})
        shift_names = {
            pk: f"#{pk} {_user_name(s.cashier)} {timezone.localtime(s.opened_at):%Y-%m-%d %H:%M}"
            for pk, s in shifts.items()
        }
        cashier_names = {pk: _user_name(u) for pk, u in users.items()}
        return (
            _Names(shift_names, gettext("No shift")),
            _Names(cashier_names, gettext("Not at a counter")),
        )

    @staticmethod
    def _keys(query: Query, figures: dict) -> list:
        """Every day or month of the range (a continuous axis), else the keys found, in order."""
        if query.group == "day":
            return [query.start + dt.timedelta(days=n) for n in range((query.end - query.start).days + 1)]
        if query.group == "month":
            return periods_between(f"{query.start:%Y-%m}", f"{query.end:%Y-%m}")
        found = list(figures)
        return sorted(found, key=lambda k: (k is None, str(k) if k is not None else ""))

    def drill(self, params: Params, row: dict) -> str:
        """The payments behind a row: the payment list, filtered to the row's days and keys."""
        assert params.start and params.end
        start, end = params.start, params.end
        query: dict[str, str] = {k: v for k, v in params.filters.items() if v}
        if "day" in row:
            start = end = dt.date.fromisoformat(row["day"])
        elif "month" in row:
            first, last = month_bounds(row["month"])
            start, end = max(start, first), min(end, last)
        elif "channel" in row:
            query["channel"] = row["channel"]
        if "shift" in row:
            query["shift"] = str(row["shift"]) if row["shift"] is not None else "none"
        elif "cashier" in row:
            query["cashier"] = str(row["cashier"]) if row["cashier"] is not None else "none"
        query.update({"from": start.isoformat(), "to": end.isoformat()})
        return f"{reverse('payments:list')}?{urlencode(query)}"


class DailyCollectionsReport(CollectionsAccess, Report):
    """收费日报: one day, one cashier or the whole counter, as the shift closes hand it over."""

    name = "daily-collections"
    title = _("Daily collection report")
    description = _(
        "One day's counter takings by payment method, for one cashier or the whole station, with "
        "the receipt numbers, refunds, the cash handed over and the lines to sign; it agrees with "
        "that day's shift closes."
    )
    period = "day"
    single_day = True
    filters = ("cashier",)

    def filter_choices(self, name: str) -> list[tuple[str, str]]:
        return self.cashier_choices() if name == "cashier" else []

    def run(self, params: Params) -> Result:
        assert params.start
        day, cashier = params.start, self.cashier_of(params)
        figures = collect(Query(day, day, "method", cashier=cashier, counter_only=True))
        methods = [str(m) for m in COUNTER_METHODS] + sorted(
            str(k) for k in figures if k not in COUNTER_METHODS
        )
        columns = [
            Column("method", _("Payment method"), "code", dict(Method.choices)),
            *figure_columns(False),
        ]
        rows, total = [], Figures()
        for method in methods:
            f = figures.get(method, Figures())
            total.add(f.count, f.amount, f.refunds, f.reversals)
            total.shifts |= f.shifts
            rows.append({"method": method, **figure_values(f, False)})
        cash = figures.get(str(Method.CASH), Figures())
        notes = self._notes(day, cashier, total, cash.amount - cash.refunds)
        signatures: list[StrOrPromise] = [
            _("Received by"),
            _("Checked by"),
            _("Finance"),
        ]
        return Result(columns, rows, figure_values(total, False), None, notes, signatures=signatures)

    def _notes(
        self, day: dt.date, cashier: int | None, total: Figures, cash_expected: Decimal
    ) -> list[tuple[StrOrPromise, str]]:
        start, end = start_of_day(day), start_of_day(day + dt.timedelta(days=1))
        paid = Payment.objects.filter(paid_at__gte=start, paid_at__lt=end, shift__isnull=False)
        shifts = Shift.objects.filter(pk__in=total.shifts) | Shift.objects.filter(
            closed_at__gte=start, closed_at__lt=end
        )
        if cashier is not None:
            paid = paid.filter(shift__cashier_id=cashier)
            shifts = shifts.filter(cashier_id=cashier)
        numbers = sorted(n for n in paid.values_list("receipt_no", flat=True) if n)
        voided = sorted(
            n for n in paid.filter(status=PaymentStatus.REFUNDED).values_list("receipt_no", flat=True) if n
        )
        notes: list[tuple[StrOrPromise, str]] = [
            (_("Station"), f"{parameters.get('station_name')} ({_station_code()})"),
            (_("Date"), day.isoformat()),
            (_("Cashier"), cashier_label(cashier) if cashier is not None else gettext("All cashiers")),
            (_("Receipts"), f"{numbers[0]} – {numbers[-1]} ({len(numbers)})" if numbers else "—"),
            (_("Voided (fully refunded) receipts"), ", ".join(voided) or "—"),
        ]
        covered = list(shifts.distinct().order_by("opened_at", "pk"))
        notes.append((_("Shifts"), ", ".join(shift_label(s.pk) for s in covered) or "—"))
        notes += self._handover(covered, total, cash_expected)
        return notes

    @staticmethod
    def _handover(shifts: list[Shift], total: Figures, cash_expected: Decimal) -> list:
        """Cash expected in the drawer (cash taken less cash refunds paid from it), handed over
        and the difference, from the shift closes, and whether the day's figures agree with
        what those closes froze."""
        open_ = [s for s in shifts if s.status == ShiftStatus.OPEN]
        closed = [s for s in shifts if s.status == ShiftStatus.CLOSED]
        counted = sum((s.cash_counted or ZERO for s in closed), ZERO)
        difference = sum((Decimal(s.totals.get("cash_difference", "0")) for s in closed), ZERO)
        frozen_cash = sum((_cash_expected(s.totals) for s in closed), ZERO)
        frozen = sum((Decimal(s.totals.get("total", "0")) for s in closed), ZERO)
        frozen_refunds = sum((Decimal(s.totals.get("refunded", "0")) for s in closed), ZERO)
        frozen_count = sum(
            (int(m.get("count", 0)) for s in closed for m in s.totals.get("methods", {}).values()), 0
        )
        handed = ", ".join(sorted({s.handed_to for s in closed if s.handed_to}))
        notes = [
            (_("Cash expected in the drawer"), format_money(cash_expected)),
            (_("Cash handed over"), format_money(counted) + (f" ({handed})" if handed else "")),
            (_("Difference"), format_money(difference)),
        ]
        if open_:
            check = gettext("Shift %(shifts)s is still open: close it to hand over.") % {
                "shifts": ", ".join(f"#{s.pk}" for s in open_)
            }
        elif (frozen, frozen_refunds, frozen_count, frozen_cash) == (
            total.amount,
            total.refunds,
            total.count,
            cash_expected,
        ):
            check = gettext("Agrees with the shift closes.")
        else:
            check = gettext(
                "Differs from the shift closes (%(closes)s, refunds %(refunds)s): a shift spans "
                "midnight or a refund of an earlier day was paid out."
            ) % {"closes": format_money(frozen), "refunds": format_money(frozen_refunds)}
        notes.append((_("Shift closes"), check))
        return notes


def _cash_expected(totals: dict) -> Decimal:
    """The cash a shift close expected in the drawer (closes frozen before it was recorded:
    their cash taken less their cash refunds)."""
    if "cash_expected" in totals:
        return Decimal(totals["cash_expected"])
    cash = totals.get("methods", {}).get(str(Method.CASH), {})
    return Decimal(cash.get("total", "0")) - Decimal(cash.get("refunded", "0"))


def _station_code() -> str:
    from django.conf import settings

    return settings.STATION_CODE
