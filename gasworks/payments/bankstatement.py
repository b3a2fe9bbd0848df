"""Bank statement import. The file is CSV, UTF-8, with a header row:

    account_no,amount,bank_txn_id
    0100000017,120.50,B20260301000123

Each row is a transfer to the customer's account; a bank transaction id already imported is
skipped, so the same file can be imported twice. Rows go in chunks, one transaction per chunk with
a savepoint per row, so a bad row is reported without losing its neighbours."""

import csv
from dataclasses import dataclass, field

from django.db import transaction

from gasworks.customers.models import Customer
from gasworks.errors import DomainError
from gasworks.payments import services

COLUMNS = ("account_no", "amount", "bank_txn_id")
CHUNK = 500


@dataclass
class ImportResult:
    created: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)


def import_file(path, by=None, chunk: int = CHUNK) -> ImportResult:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or any(c not in reader.fieldnames for c in COLUMNS):
            raise DomainError("bad_statement", f"The header must name {', '.join(COLUMNS)}.", status=400)
        result = ImportResult()
        batch: list[tuple[int, dict]] = []
        for line_no, row in enumerate(reader, start=2):
            batch.append((line_no, row))
            if len(batch) >= chunk:
                _import_batch(batch, result, by)
                batch = []
        if batch:
            _import_batch(batch, result, by)
    return result


def _import_batch(batch, result: ImportResult, by) -> None:
    numbers = {row["account_no"].strip() for _n, row in batch}
    customers = {c.account_no: c for c in Customer.objects.filter(account_no__in=numbers)}
    with transaction.atomic():
        for line_no, row in batch:
            customer = customers.get(row["account_no"].strip())
            if customer is None:
                result.errors.append(f"line {line_no}: unknown account {row['account_no']!r}")
                continue
            try:
                with transaction.atomic():
                    _payment, created = services.record_bank_payment(
                        customer, row["amount"].strip(), row["bank_txn_id"], by
                    )
            except DomainError as exc:
                result.errors.append(f"line {line_no}: {exc.message}")
                continue
            if created:
                result.created += 1
            else:
                result.duplicates += 1
