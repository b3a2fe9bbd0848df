"""What billing tells the other apps (gasworks.lib.events; subscribers in gasworks/subscriptions.py).
Events are delivered on commit; questions are answered at once."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gasworks.lib.events import Event, Question


@dataclass(frozen=True)
class MoneyIn(Event):
    """Money reached these customers' accounts: a positive ledger entry of any kind (a payment,
    a credit adjustment, the reversal of a charge or of a refund), by any of the ledger's paths.
    Published inside the posting's transaction, under the accounts' locks."""

    customer_ids: tuple[int, ...]


@dataclass(frozen=True)
class BillsIssued(Event):
    """A billing run's chunk (or one approved bill) committed these bills. One event per chunk,
    not per bill: the run issues bills set-based, and a subscriber (the bill notice outbox) should
    write its rows set-based too; a chunk of 5,000 bills costs one callback, not 5,000."""

    period: str
    bill_ids: tuple[int, ...]
    run_id: int | None = None


@dataclass(frozen=True)
class BillingRunFinished(Event):
    """A billing run is done: every chunk committed, so every bill it will write is written.
    Summaries of the period (the sales rollup) can be rebuilt now and stay right."""

    run_id: int
    period: str


@dataclass(frozen=True)
class LowBalance(Event):
    """A prepaid account fell below its low-balance alert (published once per fall: again only
    after the balance has been back above it)."""

    customer_id: int
    balance: Decimal
    alert_at: Decimal


@dataclass(frozen=True)
class ValveCommandQueued(Event):
    """A smart meter's valve was told to open or close (recorded; sent over MQTT on commit)."""

    command_id: int
    meter_id: int
    command: str
    reason: str = ""


@dataclass(frozen=True)
class CollectionStepsOf(Question[dict[int, str]]):
    """The arrears page asks for its accounts' collections steps: each answer is {customer id:
    the current step's label} (the collections ladder answers, in one query for the page)."""

    customer_ids: tuple[int, ...]


@dataclass(frozen=True)
class LateFeeHolds(Question[set[int]]):
    """Which accounts are charged no late fee on ``as_of`` (each answer a set of customer ids):
    a payment arrangement that holds (the service app answers). Asked once per late-fee run, so
    the run stays set-based."""

    as_of: date
