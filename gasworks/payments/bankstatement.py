"""Bank statement import. The file is CSV, UTF-8, with a header row:

    account_no,amount,bank_txn_id
    0100000017,120.50,B20260301000123

Each row is a transfer to the customer's account; a bank transaction id already imported (or
seen earlier in the file) is a duplicate and skipped, so the same file can be imported twice.

Set-based, one transaction per chunk: rows are checked in Python (a bad row is reported with its
line and does not hold up its neighbours), account numbers are resolved in one query and bank
transaction ids deduplicated in one query; the chunk's payments are inserted in one statement,
posted with ledger.post_many (accounts locked once, in pk order) and numbered from one receipt
counter update, taken last so counter payments wait on it as briefly as possible."""

import csv
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.billing import ledger
from gasworks.customers.models import Customer
from gasworks.errors import DomainError
from gasworks.payments import services, store
from gasworks.payments.models import Method, Payment, PaymentStatus

COLUMNS = ("account_no", "amount", "bank_txn_id")
CHUNK = 1000
MAX_AMOUNT = Decimal("999999999999.99")  # what Payment.amount's 14 digits hold
RETRIES = 3


@dataclass
class ImportResult:
    created: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    line_no: int
    customer_id: int
    amount: Decimal
    txn: str


def import_file(path, by=None, chunk: int = CHUNK) -> ImportResult:
    now = timezone.now()
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or any(c not in reader.fieldnames for c in COLUMNS):
            raise DomainError("bad_statement", f"The header must name {', '.join(COLUMNS)}.", status=400)
        result = ImportResult()
        batch: list[tuple[int, dict]] = []
        for line_no, row in enumerate(reader, start=2):
            batch.append((line_no, row))
            if len(batch) >= chunk:
                _import_chunk(batch, result, by, now)
                batch = []
        if batch:
            _import_chunk(batch, result, by, now)
    return result


def _checked_rows(batch, result: ImportResult) -> list[_Row]:
    """The chunk's well-formed rows with known accounts; the others become error lines."""
    parsed, errors = [], []
    for line_no, row in batch:
        account_no = (row.get("account_no") or "").strip()
        txn = (row.get("bank_txn_id") or "").strip()
        try:
            amount = services.clean_amount((row.get("amount") or "").strip(), maximum=MAX_AMOUNT)
        except DomainError as exc:
            errors.append((line_no, exc.message))
            continue
        if not txn or len(txn) > 64:
            errors.append((line_no, _("Every row needs the bank transaction id (≤ 64 characters).")))
            continue
        parsed.append((line_no, account_no, amount, txn))
    numbers = {account_no for _n, account_no, _a, _t in parsed}
    customers = dict(Customer.objects.filter(account_no__in=numbers).values_list("account_no", "pk"))
    rows = []
    for line_no, account_no, amount, txn in parsed:
        if account_no not in customers:
            errors.append((line_no, f"unknown account {account_no!r}"))
            continue
        rows.append(_Row(line_no, customers[account_no], amount, txn))
    result.errors.extend(f"line {line_no}: {message}" for line_no, message in sorted(errors))
    return rows


def _import_chunk(batch, result: ImportResult, by, now) -> None:
    rows = _checked_rows(batch, result)
    if not rows:
        return
    for attempt in range(RETRIES):
        try:
            created, duplicates = _post_chunk(rows, by, now)
        except IntegrityError:
            # A concurrent import committed some of these transaction ids between our dedupe
            # query and our insert; the whole chunk rolled back: dedupe again and redo it.
            if attempt == RETRIES - 1:
                raise
            continue
        result.created += created
        result.duplicates += duplicates
        return


@transaction.atomic
def _post_chunk(rows: list[_Row], by, now) -> tuple[int, int]:
    txns = [row.txn for row in rows]
    seen = set(
        Payment.objects.filter(gateway=services.BANK_GATEWAY, gateway_txn_id__in=txns).values_list(
            "gateway_txn_id", flat=True
        )
    )
    payments = []
    for row in rows:
        if row.txn in seen:
            continue
        seen.add(row.txn)
        payment = Payment(
            order_no=services.new_order_no(now),
            customer_id=row.customer_id,
            amount=row.amount,
            currency=settings.CURRENCY,
            method=Method.BANK,
            gateway=services.BANK_GATEWAY,
            gateway_txn_id=row.txn,
            created_by=by,
            created_at=now,
            paid_at=now,
        )
        payment.set_status(PaymentStatus.SUCCEEDED)
        payments.append(payment)
    if payments:
        Payment.objects.bulk_create(payments)
        # fresh: the keys name the payments just inserted above
        ledger.post_many([services.payment_posting(p, now, by) for p in payments], fresh=True)
        numbers = services.reserve_receipt_numbers(now, len(payments))  # the counter lock: last
        store.set_receipt_numbers(payments, numbers)
    return len(payments), len(rows) - len(payments)
