"""Before and after, in one run, of issue 13's fixes for a city's size, on the history database
(the one bench_reports and bench_pages use; nothing is generated here and nothing is kept):

- today's arrears per district and per category (the report's groups) and filtered by a
  district (the arrears page's filter): before, one aggregate joining every account in debt to
  its customer and premises; after, the snapshot's stored group totals corrected by the
  accounts whose ledger moved since (gasworks.billing.ledger.arrears_totals);
- the audit log's first page filtered by who, by a rare action (a reversal), by a frequent one
  (a payment), by object type: before, without the per-filter indexes (dropped inside a
  transaction that is rolled back, the old ledger_created_by_idx put back); after, with them.

Needs the arrears snapshot of today (run bench_reports first, or the nightly job). Prints
p50/p95 in ms and the before/after ratio. Never asserts on time.

    .venv/bin/python benchmarks/bench_reports_fixes.py --runs 7
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import percentile, setup

os.environ.update({"SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0", "ALLOWED_HOSTS": "testserver"})

NEW_INDEXES = (
    "audit_actor_time_idx",
    "audit_model_time_idx",
    "audit_action_time_idx",
    "ledger_created_by_time_idx",
    "ledger_rare_kind_time_idx",
)


def timed(fn, runs: int) -> tuple[float, float]:
    fn()  # warm: the first call reads the pages into the cache, whichever side goes first
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return percentile(samples, 50), percentile(samples, 95)


def line(out, name: str, before: tuple[float, float], after: tuple[float, float]) -> None:
    ratio = before[0] / after[0] if after[0] else float("inf")
    out(f"{name:44} {before[0]:9.1f}/{before[1]:9.1f} {after[0]:9.1f}/{after[1]:9.1f} {ratio:8.1f}x")


def arrears(runs: int, out) -> None:
    from django.utils import timezone

    from gasworks.billing import ledger, store
    from gasworks.customers.models import Premises

    today = timezone.localdate()
    source = ledger.arrears_source(today)
    if source[0] != "snapshot":
        out("arrears: no snapshot of today (run bench_reports or billing's daily job first): skipped")
        return
    district = Premises.objects.order_by("pk").values_list("district", flat=True).first() or ""
    out(f"arrears: snapshot of today, {len(source[1])} account(s) moved since; district {district!r}")
    for name, filters, group in (
        ("arrears per district (report)", {}, "district"),
        ("arrears per category (report)", {}, "category"),
        ("arrears of one district (page's filter)", {"district": district}, ""),
    ):
        before = timed(lambda f=filters, g=group: store.ledger_arrears_totals(today, source, f, g), runs)
        after = timed(lambda f=filters, g=group: ledger.arrears_totals(today, f, g, source), runs)
        line(out, name, before, after)


def audit(runs: int, out) -> None:
    from django.db import connection, transaction

    from gasworks.billing.models import LedgerEntry
    from gasworks.lib.pagination import CappedPaginator
    from gasworks.system import auditlog

    actor = (
        LedgerEntry.objects.filter(created_by__isnull=False).values_list("created_by_id", flat=True).first()
        or 1
    )
    cases = {
        "audit log by who": auditlog.Filters(actor=actor),
        "audit log: reversals": auditlog.Filters(action="reversal"),
        "audit log: payments": auditlog.Filters(action="payment"),
        "audit log: refunds (object type)": auditlog.Filters(model="payments.Refund"),
    }

    def first_page(filters):
        page = CappedPaginator(auditlog.LogPage(filters).query, 50).get_page(1)
        auditlog.LogPage.rows(page.object_list)

    after = {name: timed(lambda f=f: first_page(f), runs) for name, f in cases.items()}
    with transaction.atomic():
        with connection.cursor() as cursor:
            for index in NEW_INDEXES:
                cursor.execute(f'DROP INDEX IF EXISTS "{index}"')
            cursor.execute(
                "CREATE INDEX ledger_created_by_idx ON billing_ledgerentry (created_by_id) "
                "WHERE created_by_id IS NOT NULL"
            )
        before = {name: timed(lambda f=f: first_page(f), runs) for name, f in cases.items()}
        transaction.set_rollback(True)  # the indexes come back as they were
    for name in cases:
        line(out, name, before[name], after[name])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    setup("history")
    from gasworks.customers.models import Customer

    print(f"data: {Customer.objects.count():,} customers")
    print(f"{'ms, p50/p95':44} {'before':>19} {'after':>19} {'ratio':>9}")
    arrears(args.runs, print)
    audit(args.runs, print)


if __name__ == "__main__":
    main()
