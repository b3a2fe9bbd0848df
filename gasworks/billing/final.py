"""The final bill of an account that moves out or passes to a new holder (gasworks.service.moveout
calls it inside its one transaction).

It bills what no bill has billed yet: the account's billable readings from the end of its last
issued bill up to and including the final reading, priced exactly like a run's bill (tiers on
the tariff year's prior use, split by days where a price version or a new tariff year starts),
over the days [start, day after the final reading). It is the bill of the final reading's month
(the unique customer + period), and the account is closed in the same transaction, so the
monthly run, which bills active accounts only, never bills it again; the new holder's readings
are measured from the final reading (a reading's consumption is against the meter's previous
billable one), so its first bill starts there. Readings a prepaid meter already charged one by
one are left out, as the run leaves them out."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.billing import ledger, store
from gasworks.billing.events import BillsIssued
from gasworks.billing.models import Bill, BillingRun, BillLine, BillStatus, EntryKind, RunStatus
from gasworks.billing.periods import Period
from gasworks.billing.tariffs import Pricer, load_specs
from gasworks.errors import DomainError
from gasworks.lib import events
from gasworks.lib.dates import start_of_day
from gasworks.lib.tiers import TariffError
from gasworks.metering import billable
from gasworks.metering.models import Reading
from gasworks.system import parameters

ZERO = Decimal("0.000")


@dataclass(frozen=True)
class FinalBill:
    """A final bill priced but not written: what the page previews and issue() writes."""

    customer_id: int
    period: str
    start: date
    end: date  # exclusive: the day after the final reading
    volume: Decimal
    reading_from: Decimal | None
    reading_to: Decimal | None
    tariff_id: int
    minimum_top_up: Decimal
    meter_rent: Decimal
    total: Decimal
    # (tier, volume, unit price, amount, price from, tariff year), as BillLine's columns
    lines: tuple[tuple, ...]


def _last_billed_day(customer) -> date | None:
    """The end (exclusive) of the account's last issued bill, or None before its first bill."""
    return Bill.objects.filter(customer_id=customer.pk, status=BillStatus.ISSUED).aggregate(
        end=Max("period_end")
    )["end"]


def price_final_bill(customer, final_at: datetime) -> FinalBill | None:
    """The final bill to the reading at ``final_at``, priced; None when nothing is left to bill
    (a prepaid account whose readings were all charged as they came)."""
    last_end = _last_billed_day(customer)
    unbilled = Reading.objects.filter(
        customer_id=customer.pk,
        status__in=billable.STATUSES,
        taken_at__lte=final_at,
        prepaid_charge__isnull=True,
    )
    if last_end is not None:
        unbilled = unbilled.filter(taken_at__gte=start_of_day(last_end))
    rows = list(
        unbilled.order_by("taken_at").values_list("taken_at", "value", "consumption", "corrected_consumption")
    )
    if not rows:
        return None
    # Before the first bill: from the opening day (or the first reading's, if earlier).
    start = last_end or min(customer.opened_on, timezone.localdate(rows[0][0]))
    day = timezone.localdate(final_at)
    end = day + timedelta(days=1)
    volume = sum((billable.volume(c, cc) for _at, _v, c, cc in rows), ZERO)
    first = rows[0]
    reading_from = first[1] - first[2] if first[2] is not None else first[1]
    period = Period(f"{day:%Y-%m}", start, end)
    pricer = Pricer(load_specs(), start, end)
    spec, factor = pricer.tariff_of(customer.category, customer.gas_use, customer.household_size)
    if spec is None:
        raise DomainError(
            "no_tariff", _("No tariff applies to this customer: the final bill cannot be priced.")
        )
    prior = dict(store._prior_use(customer.pk, customer.pk, period).get(customer.pk, {}))
    try:
        priced, total, lines = pricer.price(spec, factor, volume, prior)
    except TariffError as exc:
        raise DomainError(exc.code, exc.message) from None
    return FinalBill(
        customer.pk,
        period.key,
        start,
        end,
        volume,
        reading_from,
        rows[-1][1],
        spec.tariff_id,
        priced.minimum_top_up,
        priced.meter_rent,
        total,
        lines,
    )


def _refuse_overlap(final: FinalBill) -> None:
    if Bill.objects.filter(customer_id=final.customer_id, period=final.period).exists():
        raise DomainError(
            "already_billed",
            _("The account already has a bill for %(period)s: its final bill cannot be issued.")
            % {"period": final.period},
        )
    # A run of a period the final bill covers could have read the account as active before this
    # transaction closes it, and bill the same readings again: wait for it to finish.
    running = BillingRun.objects.filter(
        status=RunStatus.RUNNING, period__gte=f"{final.start:%Y-%m}", period__lte=final.period
    ).first()
    if running is not None:
        raise DomainError(
            "billing_run_in_progress",
            _("The billing run of %(period)s is in progress: try again when it has finished.")
            % {"period": running.period},
        )


def issue_final_bill(customer, final_at: datetime, by=None) -> Bill | None:
    """Write the final bill and post its charge through the ledger, in the caller's transaction
    (the account locked first). None when nothing is left to bill."""
    ledger.lock_accounts([customer.pk])
    final = price_final_bill(customer, final_at)
    if final is None:
        return None
    _refuse_overlap(final)
    now = timezone.now()
    today = timezone.localdate(now)
    bill = Bill.objects.create(
        customer_id=customer.pk,
        period=final.period,
        period_start=final.start,
        period_end=final.end,
        volume=final.volume,
        total=final.total,
        minimum_top_up=final.minimum_top_up,
        meter_rent=final.meter_rent,
        previous_balance=ledger.balance(customer),
        reading_from=final.reading_from,
        reading_to=final.reading_to,
        tariff_id=final.tariff_id,
        issued_on=today,
        due_on=today + timedelta(days=int(parameters.get("bill_due_days"))),
        created_at=now,
    )
    BillLine.objects.bulk_create(
        BillLine(bill=bill, **dict(zip(store.LINE_COLUMNS[1:], line, strict=True))) for line in final.lines
    )
    if final.total:
        ledger.post(
            customer,
            EntryKind.CHARGE,
            -final.total,
            reference=_("Final gas bill %(period)s") % {"period": final.period},
            idempotency_key=f"bill:{bill.pk}",
            by=by,
            at=now,
        )
    events.publish(BillsIssued(final.period, (bill.pk,), None))
    return bill
