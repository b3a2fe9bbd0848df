"""Payment arrangements benchmark on PostgreSQL: the daily run and the late-fee hold over N
accounts under an arrangement (10 % of them with a missed instalment past its grace period).
Prints the time of: held_customer_ids (what the late-fee run asks once), the first daily run of
the day (reminders and ends), a second run the same day (nothing new). Never asserts on time.

    .venv/bin/python benchmarks/bench_arrangements.py --accounts 2000
"""

import argparse
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._setup import setup


def build(accounts: int) -> None:
    import time_machine

    from gasworks.billing import ledger
    from gasworks.billing.models import EntryKind
    from gasworks.service.arrangements import services
    from tests.factories import make_customer
    from tests.service.arrangements.helpers import in_debt

    with time_machine.travel("2026-11-27 12:00 +0800", tick=False):
        for n in range(accounts):
            customer = make_customer()
            in_debt(customer, "400.00")
            services.make_arrangement(
                customer, down_payment="100", instalments=3, first_due_on=date(2026, 12, 20)
            )
            # nine in ten pay the down payment and December's instalment; one in ten misses December
            paid = "100" if n % 10 == 0 else "200"
            ledger.post(customer, EntryKind.PAYMENT, paid, idempotency_key=f"bench-pay:{customer.pk}")
            services.take_money(services.active_for(customer.pk), Decimal(paid), date(2026, 11, 27))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=2000)
    args = parser.parse_args()
    setup("arrangements", fresh=True)
    from gasworks.service.arrangements import daily, services

    started = time.perf_counter()
    build(args.accounts)
    print(f"built {args.accounts} arrangements in {time.perf_counter() - started:.1f} s")
    day = date(2026, 12, 28)
    for label, work in (
        ("held_customer_ids", lambda: len(services.held_customer_ids(day))),
        ("daily run, first of the day", lambda: daily.run(day)),
        ("daily run, again the same day", lambda: daily.run(day)),
        ("reminders 3 days before January", lambda: daily.run(date(2027, 1, 17))),
    ):
        started = time.perf_counter()
        result = work()
        print(f"{label}: {time.perf_counter() - started:.3f} s -> {result}")


if __name__ == "__main__":
    main()
