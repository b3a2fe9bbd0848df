"""Billing runs: one bill per active account with billable readings in a period.

A run is cut into chunks of customer-id ranges. Each chunk is one transaction that reads its
readings, prior use and history set-based, prices every account in Python, and writes bills,
lines, ledger entries and the cached balances in bulk. A crash rolls back only the chunk in
flight; a rerun of the period skips accounts that already have a bill (and the unique
constraint on customer + period stops a duplicate even from a concurrent process), so it
continues where it stopped. Accounts whose bill looks implausible are parked for review.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Avg, Count, F, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.billing.models import (
    RUN_TRANSITIONS,
    Account,
    Bill,
    BillingRun,
    BillLine,
    BillReview,
    BillStatus,
    EntryKind,
    LedgerEntry,
    PrepaidCharge,
    ReviewStatus,
    RunStatus,
)
from gasworks.billing.periods import Period, parse_period
from gasworks.billing.tariffs import household_factor, household_rule, load_specs, price_period, spec_for
from gasworks.customers.models import Customer
from gasworks.customers.models import Status as CustomerStatus
from gasworks.errors import DomainError
from gasworks.lib.db import DecimalSum
from gasworks.lib.tiers import TariffError
from gasworks.metering.models import BILLABLE_STATUSES, Reading
from gasworks.system import parameters

CHUNK_SPAN = 5000  # customer ids per chunk
ZERO = Decimal("0")
MONEY0 = Decimal("0.00")


def stage(name: str) -> None:
    """A named point inside a chunk's transaction; tests make it raise to simulate a crash."""


def set_status(run: BillingRun, to: str, **fields) -> None:
    """Move a run along its transition table (an illegal move raises), saving ``fields`` too."""
    current = BillingRun.objects.values_list("status", flat=True).get(pk=run.pk)
    if to not in RUN_TRANSITIONS[current]:
        raise DomainError(
            "illegal_run_transition",
            _("A %(a)s run cannot become %(b)s.") % {"a": current, "b": to},
        )
    run.status = to
    for key, value in fields.items():
        setattr(run, key, value)
    BillingRun.objects.filter(pk=run.pk).update(status=to, **fields)


def start_run(period_text, by=None) -> BillingRun:
    """The period's unfinished run (to continue it), or a new one. Bad periods are a 400."""
    period = parse_period(period_text)
    with transaction.atomic():
        run = (
            BillingRun.objects.select_for_update()
            .filter(period=period.key, status__in=[RunStatus.PENDING, RunStatus.RUNNING, RunStatus.FAILED])
            .order_by("pk")
            .first()
        )
        if run is None:
            run = BillingRun.objects.create(period=period.key, created_by=by)
    return run


def cancel_run(run: BillingRun) -> None:
    """Stop after the chunk in flight; bills already written stay (they are correct)."""
    set_status(run, RunStatus.CANCELLED, finished_at=timezone.now())


def _candidates(period: Period):
    return Reading.objects.filter(
        taken_at__gte=period.start_at,
        taken_at__lt=period.end_at,
        status__in=BILLABLE_STATUSES,
        customer__status=CustomerStatus.ACTIVE,
        prepaid_charge__isnull=True,
    )


def plan(run: BillingRun) -> list[tuple[int, int]]:
    """Chunks still to do (from the checkpoint on) and mark the run running."""
    period = parse_period(run.period)
    agg = _candidates(period).aggregate(
        lo=Min("customer_id"), hi=Max("customer_id"), n=Count("customer_id", distinct=True)
    )
    chunks: list[tuple[int, int]] = []
    if agg["lo"] is not None:
        lo = max(agg["lo"], run.last_customer_id + 1)
        while lo <= agg["hi"]:
            chunks.append((lo, min(lo + CHUNK_SPAN - 1, agg["hi"])))
            lo += CHUNK_SPAN
    set_status(
        run,
        RunStatus.RUNNING,
        accounts_total=agg["n"],
        chunks_total=run.chunks_done + len(chunks),
        started_at=run.started_at or timezone.now(),
        error="",
    )
    return chunks


def execute(run: BillingRun, on_chunk=None) -> BillingRun:
    """Run (or continue) ``run``: on Celery workers when REDIS_URL is set, else here, chunk by
    chunk, checking for cancellation between chunks. Returns the refreshed run."""
    chunks = plan(run)
    if settings.REDIS_URL and not settings.CELERY_TASK_ALWAYS_EAGER:
        from gasworks.billing import tasks

        if not chunks:
            finish(run.pk)
        for lo, hi in chunks:
            tasks.bill_chunk_task.delay(run.pk, lo, hi)
        run.refresh_from_db()
        return run
    for lo, hi in chunks:
        if BillingRun.objects.values_list("status", flat=True).get(pk=run.pk) == RunStatus.CANCELLED:
            break
        try:
            bill_chunk(run.pk, lo, hi)
        except Exception as exc:
            set_status(run, RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
            raise
        if on_chunk:
            on_chunk(lo, hi)
    else:
        finish(run.pk)
    run.refresh_from_db()
    return run


def finish(run_id: int) -> None:
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run_id)
        if run.status == RunStatus.RUNNING and run.chunks_done >= run.chunks_total:
            set_status(run, RunStatus.DONE, finished_at=timezone.now())


@dataclass
class _Usage:
    volume: Decimal = ZERO
    reading_from: Decimal | None = None
    reading_to: Decimal | None = None


def _usage(rows) -> dict[int, _Usage]:
    usage: dict[int, _Usage] = {}
    for customer_id, value, consumption, corrected in rows:
        used = corrected if corrected is not None else consumption
        item = usage.get(customer_id)
        if item is None:
            item = usage[customer_id] = _Usage()
            item.reading_from = value - consumption if consumption is not None else value
        item.volume += used or ZERO
        item.reading_to = value
    return usage


def _prior_use(lo: int, hi: int, period: Period) -> dict[int, dict]:
    """Volume already billed (or prepaid-charged) per customer and tariff year before the period."""
    since = period.start - timedelta(days=366)
    prior: dict[int, dict] = defaultdict(lambda: defaultdict(lambda: ZERO))
    lines = (
        BillLine.objects.filter(
            bill__customer_id__gte=lo,
            bill__customer_id__lte=hi,
            bill__status=BillStatus.ISSUED,
            bill__period__lt=period.key,
            tariff_year__gte=since,
        )
        .values_list("bill__customer_id", "tariff_year")
        .annotate(v=DecimalSum("volume"))
    )
    charges = (
        PrepaidCharge.objects.filter(
            customer_id__gte=lo,
            customer_id__lte=hi,
            reading__taken_at__lt=period.start_at,
            tariff_year__gte=since,
        )
        .values_list("customer_id", "tariff_year")
        .annotate(v=DecimalSum("volume"))
    )
    for customer_id, year, volume in [*lines, *charges]:
        prior[customer_id][year] += volume
    return prior


def bill_chunk(
    run_id: int | None, lo: int, hi: int, period_key: str | None = None, force: bool = False
) -> int:
    """Bill every unbilled candidate with lo <= customer id <= hi; returns bills written.
    ``force`` skips the plausibility check (a person approved the bill)."""
    run = BillingRun.objects.get(pk=run_id) if run_id else None
    period = parse_period(run.period if run else period_key)
    now = timezone.now()
    today = timezone.localdate(now)
    due_on = today + timedelta(days=int(parameters.get("bill_due_days")))
    review_factor = Decimal(parameters.get("bill_review_factor"))
    review_min_bills = int(parameters.get("bill_review_min_bills"))
    base, ratio = household_rule()
    specs = load_specs()
    with transaction.atomic():
        rows = (
            _candidates(period)
            .filter(customer_id__gte=lo, customer_id__lte=hi)
            .order_by("customer_id", "taken_at")
            .values_list("customer_id", "value", "consumption", "corrected_consumption")
        )
        usage = _usage(rows.iterator(chunk_size=5000))
        done = set(
            Bill.objects.filter(period=period.key, customer_id__gte=lo, customer_id__lte=hi).values_list(
                "customer_id", flat=True
            )
        )
        parked_before = BillReview.objects.filter(period=period.key, customer_id__gte=lo, customer_id__lte=hi)
        if not force:
            done |= set(parked_before.values_list("customer_id", flat=True))
        todo = sorted(set(usage) - done)
        if not todo:
            _count(run, 0, 0, hi)
            return 0
        customers = {
            pk: (category, gas_use, size)
            for pk, category, gas_use, size in Customer.objects.filter(pk__gte=lo, pk__lte=hi).values_list(
                "pk", "category", "gas_use", "household_size"
            )
        }
        prior = _prior_use(lo, hi, period)
        history = {
            row["customer_id"]: row
            for row in Bill.objects.filter(
                customer_id__gte=lo, customer_id__lte=hi, status=BillStatus.ISSUED, period__lt=period.key
            )
            .values("customer_id")
            .annotate(avg=Avg("volume"), n=Count("pk"))
        }
        accounts = _lock_accounts(todo, lo, hi)
        bills: list[Bill] = []
        priced_of: list = []
        reviews: list[BillReview] = []
        for customer_id in todo:
            category, gas_use, size = customers[customer_id]
            use = usage[customer_id]
            spec = spec_for(specs, category, gas_use)
            try:
                if spec is None:
                    raise TariffError("no_tariff", "no tariff for the customer's category")
                factor = (
                    household_factor(category, size, base, ratio) if spec.household_scaling else Decimal(1)
                )
                priced = price_period(spec, factor, period.start, period.end, use.volume, prior[customer_id])
            except TariffError as exc:
                reviews.append(_review(run, customer_id, period, use.volume, MONEY0, ZERO, exc.code, now))
                continue
            past = history.get(customer_id)
            if (
                not force
                and past
                and past["n"] >= review_min_bills
                and past["avg"]
                and use.volume > past["avg"] * review_factor
            ):
                reviews.append(
                    _review(
                        run, customer_id, period, use.volume, priced.total, past["avg"], "implausible", now
                    )
                )
                continue
            balance = accounts[customer_id][1]
            bills.append(
                Bill(
                    customer_id=customer_id,
                    period=period.key,
                    period_start=period.start,
                    period_end=period.end,
                    volume=use.volume,
                    total=priced.total,
                    minimum_top_up=priced.minimum_top_up,
                    meter_rent=priced.meter_rent,
                    previous_balance=balance,
                    reading_from=use.reading_from,
                    reading_to=use.reading_to,
                    tariff_id=spec.tariff_id,
                    run_id=run_id,
                    issued_on=today,
                    due_on=due_on,
                    created_at=now,
                )
            )
            priced_of.append(priced)
        _insert(Bill, None, bills, with_ids=True)
        stage("bills")
        _insert(
            BillLine,
            LINE_COLUMNS,
            [
                (
                    bill.pk,
                    line.tier,
                    line.volume,
                    line.unit_price,
                    line.amount,
                    line.effective_from,
                    line.tariff_year,
                )
                for bill, priced in zip(bills, priced_of, strict=True)
                for line in priced.lines
            ],
        )
        stage("lines")
        new_balances = _post_charges(bills, accounts, now, period)
        stage("ledger")
        _write_balances(new_balances)
        if reviews:
            BillReview.objects.filter(
                period=period.key, customer_id__in=[r.customer_id for r in reviews], status=ReviewStatus.OPEN
            ).delete()
            BillReview.objects.bulk_create(reviews, ignore_conflicts=True)
        if force:
            parked_before.filter(customer_id__in=[b.customer_id for b in bills]).update(
                status=ReviewStatus.BILLED
            )
        _count(run, len(bills), len(reviews), hi)
        stage("chunk_done")
        prepaid_ids = [cid for cid, (_pk, _bal, prepaid) in accounts.items() if prepaid]
        if prepaid_ids:
            from gasworks.billing import prepaid

            transaction.on_commit(lambda: prepaid.after_charge(prepaid_ids))
    return len(bills)


def _review(run, customer_id, period, volume, amount, average, reason, now) -> BillReview:
    return BillReview(
        customer_id=customer_id,
        period=period.key,
        run=run,
        volume=volume,
        amount=amount,
        average_volume=Decimal(average).quantize(Decimal("0.001")),
        reason=reason,
        created_at=now,
    )


def _count(run, bills: int, parked: int, hi: int) -> None:
    if run is None:
        return
    BillingRun.objects.filter(pk=run.pk).update(
        bills_created=F("bills_created") + bills,
        parked=F("parked") + parked,
        chunks_done=F("chunks_done") + 1,
        last_customer_id=hi,
    )


def _lock_accounts(customer_ids: list[int], lo: int, hi: int) -> dict[int, tuple]:
    """{customer_id: (account pk, balance, prepaid)} for the chunk, rows locked in pk order;
    missing accounts are created first."""
    existing = set(
        Account.objects.filter(customer_id__gte=lo, customer_id__lte=hi).values_list("customer_id", flat=True)
    )
    missing = [cid for cid in customer_ids if cid not in existing]
    if missing and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Account._meta.db_table} (customer_id, balance, prepaid, credit_limit,"  # noqa: S608
                " low_balance_alert, updated_at) SELECT c, 0, false, 0, %s, %s FROM unnest(%s::bigint[]) AS c"
                " ON CONFLICT (customer_id) DO NOTHING",
                [Account._meta.get_field("low_balance_alert").default, timezone.now(), missing],
            )
    elif missing:
        Account.objects.bulk_create([Account(customer_id=cid) for cid in missing], ignore_conflicts=True)
    rows = (
        Account.objects.select_for_update()
        .filter(customer_id__gte=lo, customer_id__lte=hi)
        .order_by("pk")
        .values_list("customer_id", "pk", "balance", "prepaid")
    )
    return {cid: (pk, balance, prepaid) for cid, pk, balance, prepaid in rows}


def _post_charges(bills: list[Bill], accounts: dict, now, period: Period) -> dict[int, Decimal]:
    """The ledger entries of the bills, in bulk, with the same idempotency key ledger.post
    would use (bill:<id>); returns {account pk: new balance}."""
    entries = []
    balances: dict[int, Decimal] = {}
    reference = _("Gas bill %(period)s") % {"period": period.key}
    for bill in bills:
        if bill.total == 0:
            continue
        account_pk, balance, _prepaid = accounts[bill.customer_id]
        new_balance = balance - bill.total
        balances[account_pk] = new_balance
        entries.append(
            (account_pk, EntryKind.CHARGE.value, -bill.total, new_balance, reference, f"bill:{bill.pk}", now)
        )
    _insert(LedgerEntry, ENTRY_COLUMNS, entries)
    return balances


LINE_COLUMNS = ("bill_id", "tier", "volume", "unit_price", "amount", "effective_from", "tariff_year")
ENTRY_COLUMNS = (
    "account_id",
    "kind",
    "amount",
    "balance_after",
    "reference",
    "idempotency_key",
    "created_at",
)


def _insert(model, columns, rows: list, with_ids: bool = False) -> None:
    """Bulk insert plain tuples of ``columns`` (or model instances with columns=None). On
    PostgreSQL through COPY (ids drawn from the sequence first when the caller needs them),
    several times faster than INSERT for thousands of rows; elsewhere bulk_create."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        objects = rows if columns is None else [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model.objects.bulk_create(objects, batch_size=500)
        return
    table = model._meta.db_table
    if columns is None:
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        if with_ids:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, len(rows)],
                )
                for obj, (pk,) in zip(rows, cursor.fetchall(), strict=True):
                    obj.pk = pk
            fields = [model._meta.pk, *fields]
        attnames = [f.attname for f in fields]
        columns = [f.column for f in fields]
        rows = [[getattr(obj, name) for name in attnames] for obj in rows]
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _write_balances(balances: dict[int, Decimal]) -> None:
    if not balances:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Account._meta.db_table} AS a SET"  # noqa: S608 - table name from the model
                " balance = v.balance, updated_at = %s "
                "FROM unnest(%s::bigint[], %s::numeric[]) AS v(id, balance) WHERE a.id = v.id",
                [timezone.now(), list(balances), list(balances.values())],
            )
        return
    rows = [Account(pk=pk, balance=balance, updated_at=timezone.now()) for pk, balance in balances.items()]
    Account.objects.bulk_update(rows, ["balance", "updated_at"], batch_size=500)


def bill_after_review(review: BillReview, by=None) -> Bill:
    """A person looked at a parked account and says bill it as read."""
    if review.status != ReviewStatus.OPEN:
        raise DomainError("review_closed", _("This review is already decided."))
    bill_chunk(None, review.customer_id, review.customer_id, period_key=review.period, force=True)
    BillReview.objects.filter(pk=review.pk).update(decided_by=by)
    bill = Bill.objects.filter(customer_id=review.customer_id, period=review.period).first()
    if bill is None:
        raise DomainError("not_billable", _("This account has nothing billable in the period."))
    return bill


def dismiss_review(review: BillReview, by=None) -> None:
    if review.status != ReviewStatus.OPEN:
        raise DomainError("review_closed", _("This review is already decided."))
    BillReview.objects.filter(pk=review.pk).update(status=ReviewStatus.DISMISSED, decided_by=by)
