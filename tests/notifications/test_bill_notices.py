"""A billing run's bill notices are written set-based (PostgreSQL) by the outbox's own rules: the
same rows as enqueue() would write, customer by customer, whatever the preferences, and one per
bill, customer and channel however often the chunk is told."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction

from gasworks.billing import runs
from gasworks.billing.events import BillsIssued
from gasworks.customers.models import Customer
from gasworks.notifications import handlers, interruptions, preferences, store
from gasworks.notifications.models import Message, Preference
from tests.billing.helpers import beijing, local, read
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

COLUMNS = (
    "customer_id",
    "channel",
    "key",
    "status",
    "safety",
    "language",
    "variables",
    "address",
    "provider",
    "error",
    "next_try_at",
)


@pytest.fixture
def mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _customers():
    """One customer per shape of preference the rules look at."""
    people = {
        "no preference": make_customer(),
        "no phone": make_customer(),
    }
    Customer.objects.filter(pk=people["no phone"].pk).update(phone="")
    shapes = {
        "sms off": {"sms": False},
        "wechat with openid": {"wechat": True},
        "email without address": {"email": True},
        "email with address": {"email": True, "email_address": "li@example.com"},
        "opted out": {"opt_out": ["bill_issued"]},
        "english": {"language": "en"},
    }
    for name, change in shapes.items():
        people[name] = make_customer()
        preferences.save(people[name], **change)
    Preference.objects.filter(customer=people["wechat with openid"]).update(wechat_openid="oX123")
    return people


def _rows():
    return sorted(Message.objects.filter(event="bill_issued").values_list(*COLUMNS), key=lambda r: r[2])


def _bill(people, at):
    beijing()
    for person in people.values():
        read(person, 12, local(2026, 10, 3))
    with time_machine.travel(at, tick=False):
        run = runs.start_run("2026-10")
        runs.execute(run)
    return tuple(run.bills.values_list("pk", flat=True))


@pytest.mark.parametrize("hour", [10, 22], ids=["day", "quiet hours"])
def test_the_set_based_notices_are_the_ones_enqueue_writes(mail, hour, monkeypatch):
    people = _customers()
    at = local(2026, 11, 1, hour)
    bill_ids = _bill(people, at)
    written = _rows()
    assert {(r[0], r[1]) for r in written} >= {(people["no preference"].pk, "sms")}
    assert not any(r[0] == people["opted out"].pk and r[1] != "portal" for r in written)
    Message.objects.all().delete()
    monkeypatch.setattr(store, "set_based", lambda: False)  # the path of other databases: enqueue()
    with time_machine.travel(at, tick=False):
        handlers.bills_issued(BillsIssued("2026-10", bill_ids, None))
    assert _rows() == written
    by_key = {r[2]: r for r in written}
    sms = by_key[f"bill_issued:bill:{bill_ids[0]}:{people['no preference'].pk}:sms"]
    assert sms[3] == "queued" and (sms[10] > at if hour == 22 else sms[10] == at)


def test_a_chunk_told_again_writes_nothing_new(mail):
    people = _customers()
    bill_ids = _bill(people, local(2026, 11, 1, 10))
    before = Message.objects.count()
    with transaction.atomic():
        handlers.bills_issued(BillsIssued("2026-10", bill_ids, None))
    assert Message.objects.count() == before
    assert Message.objects.filter(event="bill_issued", channel="portal").count() == len(people)


def test_a_rolled_back_chunk_leaves_no_notice(monkeypatch):
    people = {"one": make_customer(), "two": make_customer()}

    def crash(name):
        if name == "chunk_done":
            raise RuntimeError("the chunk dies after its notices")

    monkeypatch.setattr(runs, "stage", crash)
    with pytest.raises(RuntimeError):
        _bill(people, local(2026, 11, 1, 10))
    assert not Message.objects.exists()
    monkeypatch.setattr(runs, "stage", lambda name: None)
    with time_machine.travel(local(2026, 11, 1, 10) + timedelta(minutes=5), tick=False):
        runs.execute(runs.start_run("2026-10"))
    assert Message.objects.filter(event="bill_issued").count() == 4


def _race(n, work):
    barrier = threading.Barrier(n)
    results: list = []

    def run():
        try:
            barrier.wait()
            with transaction.atomic():
                results.append(work())
        except Exception as exc:  # a unique key violated: the race was lost loudly
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_chunk_told_by_two_processes_at_once_gives_one_notice_per_bill_and_channel():
    people = {"one": make_customer(), "two": make_customer(), "three": make_customer()}
    bill_ids = _bill(people, local(2026, 11, 1, 10))
    Message.objects.all().delete()
    assert _race(3, lambda: handlers.bills_issued(BillsIssued("2026-10", bill_ids, None))) == [None] * 3
    assert Message.objects.filter(event="bill_issued").count() == 2 * len(people)  # portal and SMS


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_runs_telling_the_supply_is_back_at_once_tell_it_once():
    inside = make_customer(district="朝阳", address="北京市朝阳区望京街1号")
    with time_machine.travel(local(2026, 11, 2, 10), tick=False):
        interruptions.announce("朝阳", local(2026, 11, 3, 9), local(2026, 11, 3, 15), "换管")
    with time_machine.travel(local(2026, 11, 3, 16), tick=False):
        told = _race(3, interruptions.restored_due)
    assert sorted(told) == [0, 0, 1]
    assert Message.objects.filter(event="supply_restored", customer=inside).count() == 2
