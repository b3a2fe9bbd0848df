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
    CollectionStepsOf,
    LateFeeHolds,
    LowBalance,
    MoneyIn,
    ValveCommandQueued,
)
from gasworks.customers.events import BalanceOf, LedgerEntriesOf
from gasworks.cylinders.events import LpgOrderDelivered
from gasworks.lib.events import Event, Question, answer, subscribe
from gasworks.metering.events import ReadingsStored
from gasworks.notifications import handlers as notify
from gasworks.payments.events import DueLines, PaymentReceived, VolumeForAmount
from gasworks.reports import tasks as report_tasks
from gasworks.safety.events import (
    DeadlineNear,
    DeadlinePassed,
    EmergencyDispatched,
    EmergencyReported,
    InspectionBooked,
    InspectionTomorrow,
    NobodyHome,
)
from gasworks.service import links as service_links
from gasworks.service.arrangements import answers as arrangements
from gasworks.service.arrangements.events import ArrangementEnded, InstalmentDue
from gasworks.service.collections import services as collections
from gasworks.service.collections.events import (
    DisconnectionCancelled,
    DisconnectionOrdered,
    LadderHolds,
    ReconnectionDue,
    StepsTaken,
)
from gasworks.service.desk.events import DisconnectionDone, RequestCompleted, RequestOpened
from gasworks.service.moveout.events import AccountMovedOut

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
    (AccountMovedOut, service_links.complete_moved_out_request),
]


# --- writers (inside the publisher's transaction) ----------------------------------------------


def settle_ladder(event: MoneyIn) -> None:
    """billing -> collections: money that clears what is overdue (a payment, a credit adjustment,
    a reversed charge: any positive ledger entry) ends the customer's ladder (open steps
    cancelled, reconnection due where supply was cut) in the posting's transaction, under its
    account lock, so a run taking a step at the same time is never left open."""
    collections.settle_credited(event.customer_ids)


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
    (InspectionTomorrow, notify.inspection_tomorrow),
    (NobodyHome, notify.nobody_home),
    (DeadlineNear, notify.deadline_near),
    (DeadlinePassed, notify.deadline_passed),
    (EmergencyReported, notify.emergency_reported),
    (EmergencyDispatched, notify.emergency_dispatched),
    (LpgOrderDelivered, notify.lpg_delivered),
    (RequestOpened, notify.service_request_opened),
    (RequestCompleted, notify.service_request_done),
    (StepsTaken, notify.collection_steps),
    (MoneyIn, settle_ladder),
    # service: the ladder's orders become the desk's work orders, and the crew's cut moves the
    # ladder on, each in the transaction of the work that caused it.
    (DisconnectionOrdered, service_links.open_disconnection_order),
    (DisconnectionCancelled, service_links.cancel_disconnection_order),
    (ReconnectionDue, service_links.open_reconnection_order),
    (DisconnectionDone, service_links.supply_cut),
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


def collection_steps_of(question: CollectionStepsOf) -> dict[int, str]:
    """billing's arrears page asks collections for its accounts' current steps (one query)."""
    return collections.current_steps(question.customer_ids)


ANSWERERS: list[tuple[type[Question[Any]], Callable[[Any], Any]]] = [
    (CollectionStepsOf, collection_steps_of),
    (DueLines, due_lines),
    (VolumeForAmount, volume_for_amount),
    (BalanceOf, balance_of),
    (LedgerEntriesOf, ledger_entries_of),
    (LateFeeHolds, arrangements.late_fee_holds),
    (LadderHolds, arrangements.ladder_holds),
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
