"""The domain-event mechanism (gasworks.lib.events) and its one list of subscriptions."""

import ast
import importlib
import logging
import pathlib
from dataclasses import FrozenInstanceError, dataclass
from decimal import Decimal

import pytest
from django.db import transaction

from gasworks import subscriptions
from gasworks.customers.balance import balance_of, ledger_entries_of
from gasworks.lib import events
from gasworks.lib.events import Event, Question

pytestmark = pytest.mark.django_db

ROOT = pathlib.Path(__file__).resolve().parents[2] / "gasworks"


@dataclass(frozen=True)
class Happened(Event):
    n: int


@dataclass(frozen=True)
class HowMany(Question[int]):
    n: int


@pytest.fixture
def listen():
    """Subscribe handlers for one test, and take them off after it."""
    added = []

    def add(event_type, handler, in_transaction=False):
        events.subscribe(event_type, handler, in_transaction=in_transaction)
        added.append((event_type, handler))

    yield add
    for event_type, handler in added:
        events.unsubscribe(event_type, handler)


def test_an_event_is_delivered_on_commit_and_not_before(listen, django_capture_on_commit_callbacks):
    got = []
    listen(Happened, got.append)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.publish(Happened(1))
        assert got == []  # still inside the transaction
    assert got == [Happened(1)]


def test_an_in_transaction_subscriber_writes_with_the_publisher_and_rolls_back_with_it(
    listen, django_capture_on_commit_callbacks
):
    from gasworks.system.models import Parameter

    def write(event):
        Parameter.objects.create(key=f"written-{event.n}", value="1")

    listen(Happened, write, in_transaction=True)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.publish(Happened(1))
        assert Parameter.objects.filter(key="written-1").exists()  # at once, inside
    with pytest.raises(RuntimeError), transaction.atomic():
        events.publish(Happened(2))
        raise RuntimeError("the publisher's work fails")
    assert not Parameter.objects.filter(key="written-2").exists()
    assert events.writers(Happened) == [write] and events.subscribers(Happened) == []

    def broken(event):
        raise ValueError("cannot write")

    listen(Happened, broken, in_transaction=True)
    with pytest.raises(ValueError), transaction.atomic():
        events.publish(Happened(3))  # its error is the publisher's: nothing half-written
    assert not Parameter.objects.filter(key="written-3").exists()


def test_nothing_is_delivered_when_the_transaction_rolls_back(listen, django_capture_on_commit_callbacks):
    got = []
    listen(Happened, got.append)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        events.publish(Happened(2))
        raise RuntimeError("undo")
    assert got == [] and callbacks == []


@pytest.mark.django_db(transaction=True)
def test_a_failing_subscriber_neither_undoes_the_commit_nor_stops_the_others(listen, caplog):
    from gasworks.customers.models import Customer
    from tests.factories import make_customer

    got = []

    def broken(event):
        raise ValueError("listener bug")

    listen(Happened, broken)
    listen(Happened, got.append)
    with caplog.at_level(logging.ERROR, logger="gasworks.events"), transaction.atomic():
        customer = make_customer()
        events.publish(Happened(3))
    assert Customer.objects.filter(pk=customer.pk).exists()  # committed
    assert got == [Happened(3)]  # the next subscriber still ran
    assert "listener bug" in caplog.text and "Happened(n=3)" in caplog.text


def test_publishing_costs_no_query(listen, django_assert_num_queries):
    listen(Happened, lambda e: None)
    with transaction.atomic(), django_assert_num_queries(0):
        events.publish(Happened(4))


def test_questions_are_answered_synchronously_in_order():
    events.answer(HowMany, lambda q: q.n * 2)
    events.answer(HowMany, lambda q: q.n + 1)
    try:
        assert events.ask(HowMany(5)) == [10, 6]
        assert events.ask_one(HowMany(5), 0) == 10
    finally:
        events._answerers.pop(HowMany)
    assert events.ask(HowMany(5)) == [] and events.ask_one(HowMany(5), -1) == -1


def test_events_are_frozen_and_only_events_are_published():
    with pytest.raises(FrozenInstanceError):
        Happened(1).n = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        events.publish("bill issued")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        events.subscribe(str, print)  # type: ignore[arg-type]


def test_billing_answers_the_balance_questions_through_the_subscriptions():
    from gasworks.billing import ledger
    from tests.factories import make_customer

    customer = make_customer()
    ledger.post(customer, "payment", Decimal("12.30"))
    assert balance_of(customer) == Decimal("12.30")
    assert [e["amount"] for e in ledger_entries_of(customer)] == ["12.30"]


# --- the subscriptions file -------------------------------------------------------------------


def test_every_subscription_is_connected_at_start_up():
    for event_type, handler in subscriptions.LISTENERS:
        assert issubclass(event_type, Event)
        assert handler in events.subscribers(event_type)
    for question_type, handler in subscriptions.ANSWERERS:
        assert issubclass(question_type, Question)
        assert handler in events.answerers(question_type)


def test_every_subscribed_handler_is_importable_by_its_name():
    for _event, handler in subscriptions.LISTENERS + subscriptions.ANSWERERS:
        module = importlib.import_module(handler.__module__)
        assert getattr(module, handler.__name__) is handler


def _event_classes() -> dict[str, str]:
    """{class name: module} of every Event subclass defined in the project."""
    found = {}
    for path in ROOT.rglob("events.py"):
        if path.parent == ROOT / "lib":
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and any(
                getattr(base, "id", None) == "Event" for base in node.bases
            ):
                found[node.name] = str(path.relative_to(ROOT))
    return found


def _published_names() -> set[str]:
    """Names of the classes built inside a publish(...) call anywhere in the project."""
    names = set()
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", "")) == "publish"
            ):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Call) and inner is not node:
                        func = inner.func
                        names.add(getattr(func, "attr", getattr(func, "id", "")))
    return names


def test_every_event_class_has_a_publisher_in_the_code():
    classes = _event_classes()
    # The list: each is defined somewhere.
    for name in (
        "BillsIssued",
        "PaymentReceived",
        "PaymentRefunded",
        "ReadingsStored",
        "ReadingsFlagged",
        "LowBalance",
        "ValveCommandQueued",
        "InspectionBooked",
        "InspectionDone",
        "HazardRaised",
        "DeadlineNear",
        "DeadlineClosed",
        "EmergencyReported",
        "EmergencyDispatched",
        "LpgOrderDelivered",
    ):
        assert name in classes, name
    published = _published_names()
    assert not set(classes) - published, f"events nobody publishes: {set(classes) - published}"
