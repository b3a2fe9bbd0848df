"""Every cross-app flow of Gasworks, in one place: who listens to which domain event and who
answers which question (gasworks.lib.events). A publisher never imports its listeners; this file
is the only one that knows both sides. Loaded once at start-up by gasworks.top (the last app).

Delivery (docs/architecture.md has the whole list with the apps that still have no listener):

- Events are delivered **on commit** of the publisher's transaction, never on rollback. A
  listener that raises is logged (logger ``gasworks.events``) and the others still run; the
  committed work stands. What is retried, and how, is said at each listener below.
- Questions are answered **synchronously** inside the caller's transaction: the caller needs the
  answer (a page, a top-up, an API response).
"""

from collections.abc import Callable
from typing import Any

from gasworks.billing import due, ledger, prepaid, topup
from gasworks.billing.events import (
    BillingRunFinished,
    BillsIssued,
    LateFeeHolds,
    LowBalance,
    ValveCommandQueued,
)
from gasworks.customers.events import BalanceOf, LedgerEntriesOf
from gasworks.cylinders.events import LpgOrderDelivered
from gasworks.lib.events import Event, Question, answer, subscribe
from gasworks.metering.events import ReadingsStored
from gasworks.notifications import handlers as notify
from gasworks.payments.events import DueLines, PaymentReceived, VolumeForAmount
from gasworks.reports import tasks as report_tasks
from gasworks.safety.events import DeadlineNear, EmergencyDispatched, EmergencyReported, InspectionBooked
from gasworks.service.arrangements import answers as arrangements
from gasworks.service.arrangements.events import ArrangementEnded, InstalmentDue

# --- listeners (on commit) -------------------------------------------------------------------


def charge_prepaid(event: ReadingsStored) -> None:
    """metering -> billing: charge prepaid accounts for the readings that arrived. Idempotent
    (one charge per reading); a failure leaves the readings uncharged, and the next arrival for
    the customer, or the monthly billing run, charges them (charge_arrived takes every billable
    reading not yet charged, not just this event's)."""
    prepaid.charge_arrived(event.customer_ids)


def refresh_sales_after_run(event: BillingRunFinished) -> None:
    """billing -> reports: a run is done, so the period's bills are all committed; rebuild the
    sales rollup now (the period is among the keys touched since the last refresh), so the
    report reads the new month from the rollup, not live. On a Celery worker when REDIS_URL is
    set, in-process otherwise. Idempotent; a failure leaves the period read live (still exact)
    until the nightly refresh (beat, or `manage.py refresh_reports` from cron) rebuilds it."""
    report_tasks.refresh_rollups.delay(["sales"])


# billing -> the meter: send a recorded valve command over MQTT. Best effort: a broker outage
# leaves the command queued (its row says so) and the next command for the meter, or a person
# from the meter page, sends it again.
LISTENERS: list[tuple[type[Event], Callable[[Any], object]]] = [
    (ReadingsStored, charge_prepaid),
    (ValveCommandQueued, prepaid.send_valve_command),
    (BillingRunFinished, refresh_sales_after_run),
]


# --- writers (inside the publisher's transaction) ----------------------------------------------

# domain events -> the notification outbox: the messages commit or roll back with the work that
# caused them (a rolled-back payment sends no receipt; a committed bill never lacks its notice).
# Each writes rows only, under unique keys (a rerun writes nothing twice); sending is after
# commit, by the sender (gasworks/notifications/sender.py), which retries.
WRITERS: list[tuple[type[Event], Callable[[Any], object]]] = [
    (BillsIssued, notify.bills_issued),
    (PaymentReceived, notify.payment_received),
    (LowBalance, notify.low_balance),
    (ValveCommandQueued, notify.valve_command),
    (InspectionBooked, notify.inspection_booked),
    (DeadlineNear, notify.deadline_near),
    (EmergencyReported, notify.emergency_reported),
    (EmergencyDispatched, notify.emergency_dispatched),
    (LpgOrderDelivered, notify.lpg_delivered),
    # payments -> service: a payment counts toward the account's payment arrangement, in the
    # payment's transaction (instalments met commit with the money; the arrangement row lock is
    # where a payment and the daily run meet: gasworks/service/arrangements/daily.py).
    (PaymentReceived, arrangements.count_payment),
    (InstalmentDue, notify.instalment_due),
    (ArrangementEnded, notify.arrangement_ended),
]


# --- answerers (synchronous) -----------------------------------------------------------------


def due_lines(question: DueLines) -> list[dict]:
    """payments asks billing what is due: unpaid bills and late fees."""
    return due.due_lines(question.customer)


def volume_for_amount(question: VolumeForAmount):
    """payments asks billing how much gas an IC-card top-up buys (billing knows the tariffs)."""
    return topup.volume_for_amount(question.customer, question.amount, question.at, question.loaded)


def balance_of(question: BalanceOf):
    """customers (and the web shell, the API) ask billing for a balance."""
    return ledger.balance(question.customer)


def ledger_entries_of(question: LedgerEntriesOf) -> list[dict]:
    return ledger.entries(question.customer)


ANSWERERS: list[tuple[type[Question[Any]], Callable[[Any], Any]]] = [
    (DueLines, due_lines),
    (VolumeForAmount, volume_for_amount),
    (BalanceOf, balance_of),
    (LedgerEntriesOf, ledger_entries_of),
    (LateFeeHolds, arrangements.late_fee_holds),
    (DueLines, arrangements.instalment_due_lines),
]


def connect() -> None:
    """Subscribe every listener and answerer above (idempotent)."""
    for event_type, handler in LISTENERS:
        subscribe(event_type, handler)
    for event_type, handler in WRITERS:
        subscribe(event_type, handler, in_transaction=True)
    for question_type, handler in ANSWERERS:
        answer(question_type, handler)
