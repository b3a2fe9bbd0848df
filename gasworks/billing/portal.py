"""What the customer's portal shows of billing: gas used by month beside the same month a year
before, where the account stands in its tariff year (阶梯), and each bill's payment status with
what is owed. Read-only figures; the panels that show them are in billing/portal_panels.py."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gasworks.billing import due, tariffs
from gasworks.billing.models import Account, Bill, BillLine, BillStatus, PrepaidCharge
from gasworks.lib.db import DecimalSum
from gasworks.metering.services import billable_volume

ZERO_M3 = Decimal("0.000")
ZERO = Decimal("0.00")


# ---------------------------------------------------------------- usage by month


def month_key(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months_back(day: dt.date, count: int) -> list[dt.date]:
    """The first days of the ``count`` months ending with ``day``'s, oldest first."""
    index = day.year * 12 + day.month - 1
    return [dt.date((i // 12), i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def _local_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


@dataclass(frozen=True)
class MonthUsage:
    period: str
    volume: Decimal
    last_year: Decimal | None  # None: nothing billed that month a year before
    open: bool  # the month is not billed yet: its volume is from the readings so far


def usage_by_month(customer, today: dt.date | None = None, count: int = 12) -> list[MonthUsage]:
    """The last ``count`` months' volumes (billed, prepaid-charged, or for the month not billed
    yet the billable readings so far) beside the same months a year before."""
    today = today or timezone.localdate()
    firsts = months_back(today, count + 12)
    keys = [month_key(d) for d in firsts]
    volumes: dict[str, Decimal] = {}
    for period, volume in Bill.objects.filter(
        customer_id=customer.pk, status=BillStatus.ISSUED, period__in=keys
    ).values_list("period", "volume"):
        volumes[period] = volumes.get(period, ZERO_M3) + volume
    charged = (
        PrepaidCharge.objects.filter(customer_id=customer.pk, reading__taken_at__gte=_local_start(firsts[0]))
        .annotate(month=TruncMonth("reading__taken_at"))
        .values_list("month")
        .annotate(v=DecimalSum("volume"))
    )
    this_month = keys[-1]
    for month, volume in charged:
        key = month_key(timezone.localtime(month) if isinstance(month, dt.datetime) else month)
        if key != this_month:  # the open month is read from its readings below
            volumes[key] = volumes.get(key, ZERO_M3) + volume
    is_open = this_month not in volumes
    if is_open:
        volumes[this_month] = billable_volume(customer, _local_start(firsts[-1]), timezone.now())
    out = []
    for n, key in enumerate(keys[12:]):
        out.append(
            MonthUsage(key, volumes.get(key, ZERO_M3), volumes.get(keys[n]), is_open and key == this_month)
        )
    return out


def chart_data(usage: list[MonthUsage]) -> dict:
    """The usage chart's data (strings: the browser never does sums on gas volumes)."""
    return {
        "months": [u.period for u in usage],
        "volumes": [str(u.volume) for u in usage],
        "last_year": [None if u.last_year is None else str(u.last_year) for u in usage],
        "names": [str(_("This year")), str(_("Same month last year"))],
        "open": [u.open for u in usage],
    }


# ---------------------------------------------------------------- the tariff year


@dataclass(frozen=True)
class TierStanding:
    number: int
    lower: Decimal
    up_to: Decimal | None
    price: Decimal
    used: Decimal  # this year's use that falls inside the tier

    @property
    def span(self) -> Decimal | None:
        return None if self.up_to is None else self.up_to - self.lower


@dataclass(frozen=True)
class Standing:
    year_start: dt.date
    year_end: dt.date  # the tariff year's last day
    used: Decimal
    tier: int  # the tier the next m³ falls in
    left_in_tier: Decimal | None  # None: the last tier has no end
    price: Decimal
    next_price: Decimal | None
    tiers: tuple[TierStanding, ...]


def _used_this_year(customer, year_start: dt.date, prepaid: bool) -> Decimal:
    """Billed and prepaid-charged volume of the tariff year, plus (postpaid) the billable
    readings since the last bill: what the next bill will stack on."""
    billed = BillLine.objects.filter(
        bill__customer_id=customer.pk, bill__status=BillStatus.ISSUED, tariff_year=year_start
    ).aggregate(v=DecimalSum("volume"))["v"]
    charged = PrepaidCharge.objects.filter(customer_id=customer.pk, tariff_year=year_start).aggregate(
        v=DecimalSum("volume")
    )["v"]
    used = (billed or ZERO_M3) + (charged or ZERO_M3)
    if not prepaid:
        last_end = (
            Bill.objects.filter(customer_id=customer.pk, status=BillStatus.ISSUED)
            .order_by("-period_end")
            .values_list("period_end", flat=True)
            .first()
        )
        since = max(filter(None, (last_end, year_start)))
        used += billable_volume(customer, _local_start(since), timezone.now())
    return used


def tariff_standing(customer, today: dt.date | None = None) -> Standing | None:
    """Where the account stands in its tariff year, or None without a tariff or prices."""
    today = today or timezone.localdate()
    spec = tariffs.spec_for(tariffs.load_specs(), customer.category, customer.gas_use)
    if spec is None:
        return None
    base, ratio = tariffs.household_rule()
    factor = tariffs.household_factor(customer.category, customer.household_size, base, ratio)
    version = next((v for v in reversed(spec.versions_for(factor)) if v.effective_from <= today), None)
    if version is None:
        return None
    year_start = spec.year_of(today)
    next_year = year_start.replace(year=year_start.year + 1)  # a year start is never 29 February
    prepaid = Account.objects.filter(customer_id=customer.pk, prepaid=True).exists()
    used = _used_this_year(customer, year_start, prepaid)
    rows, lower = [], ZERO_M3
    for number, tier in enumerate(version.tiers, start=1):
        top = used if tier.up_to is None else min(used, tier.up_to)
        rows.append(TierStanding(number, lower, tier.up_to, tier.price, max(top - lower, ZERO_M3)))
        lower = tier.up_to if tier.up_to is not None else lower
    current = next(r for r in rows if r.up_to is None or used < r.up_to)
    after = rows[current.number] if current.number < len(rows) else None
    return Standing(
        year_start=year_start,
        year_end=next_year - dt.timedelta(days=1),
        used=used,
        tier=current.number,
        left_in_tier=None if current.up_to is None else current.up_to - used,
        price=current.price,
        next_price=after.price if after else None,
        tiers=tuple(rows),
    )


# ---------------------------------------------------------------- bills and what is owed


PAY_STATES = {
    "paid": _("Paid"),
    "part_paid": _("Part-paid"),
    "unpaid": _("Unpaid"),
    "void": _("Void"),
}


@dataclass(frozen=True)
class BillState:
    bill: Bill
    owed: Decimal
    state: str  # a key of PAY_STATES
    overdue: bool

    @property
    def label(self) -> str:
        return str(PAY_STATES[self.state])


def bill_states(customer, today: dt.date | None = None, limit: int = 12) -> tuple[list[BillState], Decimal]:
    """The newest bills with what is still owed on each (payments settle the oldest bills
    first, late fees last: billing.due), and the total owed (bills, late fees, other charges)."""
    today = today or timezone.localdate()
    lines = due.due_lines(customer)
    owed_on = {line["bill_id"]: line["amount"] for line in lines if line["bill_id"] is not None}
    states = []
    for bill in Bill.objects.filter(customer_id=customer.pk).order_by("-period")[:limit]:
        owed = owed_on.get(bill.pk, ZERO)
        if bill.status == BillStatus.VOID:
            state = "void"
        elif owed <= 0:
            state = "paid"
        else:
            state = "unpaid" if owed >= bill.total else "part_paid"
        states.append(BillState(bill, owed, state, owed > 0 and bill.due_on < today))
    return states, sum((line["amount"] for line in lines), ZERO)
