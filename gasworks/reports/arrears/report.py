"""Arrears (欠费) as of a day: aging buckets per category or district, the 12-month trend
(month ends), the top debtors, and late fees charged and collected.

Figures per group: `accounts` (with something overdue), `days_0_30` … `days_over_90` (overdue
amounts by the age of their bill), `total` (their sum), `not_due` (unpaid bills not yet due),
`late_fees` (late fees still owed: settled last), `other` (owed outside any bill) and `debt`
(what the group's accounts in debt owe: `total + not_due + late_fees + other`, equal to the sum
of their negative ledger balances). Late fees collected in a month are the fees owed at its
start, plus those charged in it, less those owed at its end.
"""

import itertools
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gasworks.billing import arrears, ledger
from gasworks.customers.models import Category
from gasworks.reports import rollups
from gasworks.reports.arrears import store
from gasworks.reports.framework import Chart, Column, Params, Report, Result, month_bounds, shift_period

TOP = 50
ZERO = Decimal("0.00")
BUCKETS = ("days_0_30", "days_31_60", "days_61_90", "days_over_90")
FROM_STORE = dict(zip(BUCKETS, ("d0_30", "d31_60", "d61_90", "d90"), strict=True))


def _figures(found: dict) -> dict:
    row = {"accounts": found["accounts"], **{b: found[FROM_STORE[b]] for b in BUCKETS}}
    row["total"] = found["overdue"]
    row["not_due"], row["late_fees"], row["other"] = found["not_due"], found["fees"], found["other"]
    row["debt"] = row["total"] + row["not_due"] + row["late_fees"] + row["other"]
    return row


def _money(key: str, label) -> Column:
    return Column(key, label, "money")


AGING = [
    Column("accounts", _("Accounts"), "count"),
    _money("days_0_30", _("0–30 days")),
    _money("days_31_60", _("31–60 days")),
    _money("days_61_90", _("61–90 days")),
    _money("days_over_90", _("Over 90 days")),
    _money("total", _("Overdue")),
]
SPLIT = [
    _money("not_due", _("Not yet due")),
    _money("late_fees", _("Late fees owed")),
    _money("other", _("Owed outside bills")),
    _money("debt", _("Debt")),
]


class ArrearsReport(Report):
    name = "arrears"
    title = _("Arrears")
    description = _(
        "Overdue amounts by the age of their bill as of a day (payments settle the oldest bills "
        "first, late fees last); the trend at each month end; the largest debtors."
    )
    permission = "reports.view_arrears_report"
    period = "as_of"
    group_by = ("district", "category", "month", "account")
    group_labels = {
        "district": _("District"),
        "category": _("Category"),
        "month": _("Month (trend)"),
        "account": _("Top debtors"),
    }
    filters = ("category", "district")

    def filter_choices(self, name: str) -> list[tuple[str, str]]:
        return [(code, str(label)) for code, label in Category.choices] if name == "category" else []

    def run(self, params: Params) -> Result:
        as_of = params.as_of or timezone.localdate()
        if params.group_by == "month":
            return self._trend(as_of, dict(params.filters))
        if params.group_by == "account":
            return self._top(as_of, dict(params.filters))
        return self._aging(as_of, dict(params.filters), params.group_by)

    # --- aging per category or district --------------------------------------------------------

    def _aging(self, as_of: date, filters: dict, group: str) -> Result:
        key = (
            Column("category", _("Category"), "code", dict(Category.choices))
            if group == "category"
            else Column("district", _("District"), "text")
        )
        live = rollups.keys_to_read_live(store.ROLLUP)
        rows = []
        for found in self._totals(as_of, filters, group, live):
            rows.append({group: found["key"], **_figures(found)})
        rows.sort(key=lambda r: (-r["total"], str(r[group])))
        total = {
            c.key: sum((r[c.key] for r in rows), 0 if c.kind == "count" else ZERO) for c in AGING + SPLIT
        }
        first, _last = month_bounds(store.period_of(as_of))
        charged = self._charged(first, as_of, filters, live)
        before = self._point(shift_period(store.period_of(first), -1), as_of, filters, live)["fees"]
        collected = before + charged - self._totals(as_of, filters, "", live)[0]["fees"]
        notes: list[tuple[Any, str]] = [
            (_("Late fees charged this month"), f"{charged:,.2f}"),
            (_("Late fees collected this month"), f"{collected:,.2f}"),
        ]
        return Result([key, *AGING, *SPLIT], rows, total, Chart("stacked", group, BUCKETS), notes)

    @staticmethod
    def _totals(day: date, filters: dict, group: str, live: set | None) -> list[dict]:
        """Arrears at the end of ``day``: from the day rollup when it holds that day (a past
        day), else computed from the ledger (today; a day the rollup does not hold)."""
        if store.stored({day}, live):
            return store.day_totals(day, filters, group)
        return store.live_totals(day, filters, group)

    @staticmethod
    def _charged(first: date, last: date, filters: dict, live: set | None) -> Decimal:
        """Late fees charged on days first..last of one month: the rollup's month to date at
        ``last`` (or at yesterday, and today's from the ledger), else from the ledger."""
        if store.stored({last}, live):
            return store.day_fees_month(last, filters)
        yesterday = timezone.localdate() - timedelta(days=1)
        if first <= yesterday < last and store.stored({yesterday}, live):
            today = sum(store.fees_charged(yesterday + timedelta(days=1), last, filters).values(), ZERO)
            return store.day_fees_month(yesterday, filters) + today
        return sum(store.fees_charged(first, last, filters).values(), ZERO)

    def drill(self, params: Params, row: dict) -> str:
        if params.group_by == "account":
            return reverse("customer-detail", args=[row["customer"]])
        if params.group_by == "month":
            _first, last = month_bounds(row["period"])
            as_of = min(last, params.as_of or timezone.localdate())
            query = {"as_of": as_of.isoformat(), "group_by": "district", **params.filters}
            return reverse("reports:report", args=[self.name]) + "?" + urlencode(query)
        query = {**params.filters, params.group_by: row[params.group_by]}
        return reverse("billing:overdue-list") + "?" + urlencode({k: v for k, v in query.items() if v})

    # --- the trend: arrears at each month end -------------------------------------------------

    def _point(self, period: str, as_of: date, filters: dict, live: set | None) -> dict:
        """Arrears at the month's end (or at ``as_of`` within it) and the late fees charged in
        the month up to then."""
        first, last = month_bounds(period)
        day = min(last, as_of)
        found = self._totals(day, filters, "", live)[0]
        return {**found, "fees_charged": self._charged(first, day, filters, live)}

    def _trend(self, as_of: date, filters: dict) -> Result:
        live = rollups.keys_to_read_live(store.ROLLUP)
        this = store.period_of(as_of)
        periods = [shift_period(this, -i) for i in range(12, -1, -1)]
        points = {p: self._point(p, as_of, filters, live) for p in periods}
        rows = []
        for before, period in itertools.pairwise(periods):
            found = points[period]
            collected = points[before]["fees"] + found["fees_charged"] - found["fees"]
            row = {"period": period, **_figures(found)}
            row.update(late_fees_charged=found["fees_charged"], late_fees_collected=collected)
            rows.append(row)
        columns = [
            Column("period", _("Month"), "period"),
            *AGING,
            _money("late_fees", _("Late fees owed")),
            _money("late_fees_charged", _("Late fees charged")),
            _money("late_fees_collected", _("Late fees collected")),
            _money("debt", _("Debt")),
        ]
        total = {
            "late_fees_charged": sum((r["late_fees_charged"] for r in rows), ZERO),
            "late_fees_collected": sum((r["late_fees_collected"] for r in rows), ZERO),
        }
        return Result(columns, rows, total, Chart("line", "period", ("total", "days_over_90", "late_fees")))

    # --- top debtors --------------------------------------------------------------------------

    def _top(self, as_of: date, filters: dict) -> Result:
        source = ledger.arrears_source(as_of, history=True)
        found = arrears.overdue_accounts(as_of, filters, limit=TOP, order="top", source=source)
        rows = [
            {
                "customer": r["customer_id"],
                "account_no": r["account_no"],
                "name": r["name"],
                "category": r["category"],
                "district": r["district"],
                "total": r["overdue"],
                "days": r["days"],
                "bucket": r["bucket"],
            }
            for r in found
        ]
        columns = [
            Column("account_no", _("Account"), "code"),
            Column("name", _("Name"), "text"),
            Column("category", _("Category"), "code", dict(Category.choices)),
            Column("district", _("District"), "text"),
            _money("total", _("Overdue")),
            Column("days", _("Days overdue"), "count"),
            Column("bucket", _("Bucket"), "code"),
        ]
        total = {"total": sum((r["total"] for r in rows), ZERO)}
        return Result(columns, rows, total, Chart("bar", "account_no", ("total",)))
