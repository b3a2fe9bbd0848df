import json
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from gasworks.billing import arrears, ledger, prepaid, runs
from gasworks.billing.models import Account, Bill, LedgerEntry, PrepaidCharge, ValveCommand
from gasworks.billing.verify import verify_ledger
from gasworks.errors import DomainError
from tests.billing.helpers import beijing, local, meter_for, read
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def _billed(volume=100):
    beijing()
    c = make_customer()
    read(c, volume, local(2026, 10, 3))
    with time_machine.travel(local(2026, 11, 1), tick=False):
        runs.execute(runs.start_run("2026-10"))
    return c, Bill.objects.get(customer=c)


def test_it_sets_the_due_date_from_the_parameter():
    _c, bill = _billed()
    assert bill.issued_on == date(2026, 11, 1) and bill.due_on == date(2026, 11, 16)


def test_it_charges_a_late_fee_once_per_bill_per_day_and_caps_it():
    _c, _bill = _billed()  # 261.00 due 16 Nov
    assert arrears.apply_late_fees(date(2026, 11, 16)) == 0  # not overdue on its due day
    assert arrears.apply_late_fees(date(2026, 11, 17)) == 1
    assert arrears.apply_late_fees(date(2026, 11, 17)) == 0
    call_command("apply_late_fees", "--date", "2026-11-17")
    fees = LedgerEntry.objects.filter(kind="late_fee")
    assert [f.amount for f in fees] == [Decimal("-0.13")]  # 261.00 × 0.0005
    from gasworks.system.models import Parameter

    Parameter.objects.create(key="late_fee_cap_ratio", value="0.001")  # cap 0.26
    for day in range(18, 25):
        arrears.apply_late_fees(date(2026, 11, day))
    assert sum(f.amount for f in LedgerEntry.objects.filter(kind="late_fee")) == Decimal("-0.26")
    assert verify_ledger()[1] == []


def test_it_stops_late_fees_once_paid_and_sorts_aging_buckets():
    c, _bill = _billed()
    assert arrears.aging(date(2026, 12, 20)) == {
        "0-30": Decimal("0"),
        "31-60": Decimal("261.00"),
        "61-90": Decimal("0"),
        "90+": Decimal("0"),
    }
    rows = arrears.overdue_accounts(date(2026, 11, 20))
    assert [(r["customer_id"], r["overdue"], r["days"], r["bucket"]) for r in rows] == [
        (c.pk, Decimal("261.00"), 4, "0-30")
    ]
    ledger.post(c, "payment", Decimal("261.00"))
    assert arrears.apply_late_fees(date(2026, 11, 20)) == 0
    assert arrears.overdue_accounts(date(2026, 11, 20)) == []


def _prepaid_customer(balance="30", credit_limit="0"):
    beijing()
    c = make_customer()
    Account.objects.create(
        customer=c, prepaid=True, credit_limit=Decimal(credit_limit), low_balance_alert=Decimal("20")
    )
    ledger.post(c, "payment", Decimal(balance))
    return c


def test_it_charges_a_prepaid_reading_once_and_marks_low_balance(django_capture_on_commit_callbacks):
    c = _prepaid_customer()
    meter = meter_for(c, kind="smart")
    reading = read(c, 5, local(2026, 10, 3), meter=meter)
    with django_capture_on_commit_callbacks(execute=True):
        first = prepaid.charge_prepaid_reading(reading)
    again = prepaid.charge_prepaid_reading(reading)
    assert first.pk == again.pk and first.amount == Decimal("13.05")
    account = Account.objects.get(customer=c)
    assert account.balance == Decimal("16.95") and account.low_balance_since is not None
    assert not ValveCommand.objects.exists()
    # The run does not bill a reading already charged as it arrived.
    with time_machine.travel(local(2026, 11, 1), tick=False):
        runs.execute(runs.start_run("2026-10"))
    assert not Bill.objects.exists()


def test_it_queues_a_valve_close_when_a_smart_prepaid_balance_is_exhausted(
    monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    monkeypatch.setattr(prepaid, "publish", lambda pk: published.append(pk))
    c = _prepaid_customer(balance="10")
    meter = meter_for(c, kind="smart")
    with django_capture_on_commit_callbacks(execute=True):
        prepaid.charge_prepaid_reading(read(c, 5, local(2026, 10, 3), meter=meter))
    command = ValveCommand.objects.get()
    assert (command.meter, command.command, command.status) == (meter, "close", "queued")
    assert published == [command.pk]
    with django_capture_on_commit_callbacks(execute=True):
        prepaid.charge_prepaid_reading(read(c, 1, local(2026, 10, 4), meter=meter, value=Decimal("2000")))
    assert ValveCommand.objects.count() == 1  # still the latest close: not queued twice
    ledger.post(c, "payment", Decimal("100"))
    with django_capture_on_commit_callbacks(execute=True):
        assert prepaid.reopen_if_funded(c).command == "open"
    assert published == [command.pk, command.pk + 1]


def test_it_records_the_command_even_when_the_broker_is_down(settings, django_capture_on_commit_callbacks):
    settings.MQTT_URL = "mqtt://127.0.0.1:1"  # nothing listens
    c = _prepaid_customer(balance="1")
    meter = meter_for(c, kind="smart")
    with django_capture_on_commit_callbacks(execute=True):
        prepaid.charge_prepaid_reading(read(c, 5, local(2026, 10, 3), meter=meter))
    cmd = ValveCommand.objects.get()
    assert prepaid.publish(cmd.pk) is False
    cmd.refresh_from_db()
    assert cmd.status == "queued"


def test_it_leaves_a_postpaid_reading_to_the_bill():
    beijing()
    c = make_customer()
    assert prepaid.charge_prepaid_reading(read(c, 5, local(2026, 10, 3))) is None
    assert not PrepaidCharge.objects.exists() and not LedgerEntry.objects.exists()


def test_it_publishes_over_mqtt(settings, django_capture_on_commit_callbacks):
    import queue
    import threading
    import uuid
    from urllib.parse import urlparse

    import paho.mqtt.client as mqtt

    from tests.services import require_mqtt

    settings.MQTT_URL = url = require_mqtt()  # the configured broker, for both ends
    broker = urlparse(url)
    c = _prepaid_customer(balance="1")
    meter = meter_for(c, kind="smart")
    meter.serial_no = f"T{uuid.uuid4().hex[:12]}"  # a topic of this run's own: the broker is shared
    meter.save(update_fields=["serial_no"])
    received: queue.Queue = queue.Queue()
    subscribed = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    client.on_connect = lambda cl, *a: cl.subscribe(prepaid.topic(meter), qos=1)
    client.on_subscribe = lambda *a: subscribed.set()
    client.on_message = lambda cl, ud, msg: received.put(msg.payload)
    client.connect(broker.hostname or "127.0.0.1", broker.port or 1883)
    client.loop_start()
    try:
        assert subscribed.wait(10), "the subscription was not acknowledged"
        with django_capture_on_commit_callbacks(execute=True):
            prepaid.charge_prepaid_reading(read(c, 5, local(2026, 10, 3), meter=meter))
        cmd = ValveCommand.objects.get()
        message = json.loads(received.get(timeout=10))
    finally:
        client.loop_stop()
        client.disconnect()
    cmd.refresh_from_db()
    assert cmd.status == "sent" and message == {"id": cmd.pk, "command": "close"}


# --- the credit limit, where prepaid charges use it: 5 m³ cost 13.05 --------------------------


def _charge_5(c, meter):
    prepaid.charge_prepaid_reading(read(c, 5, local(2026, 10, 3), meter=meter))
    return Account.objects.get(customer=c).balance


@pytest.mark.parametrize(
    ("balance", "limit", "after", "closed"),
    [
        ("3.05", "10", Decimal("-10.00"), True),  # exactly on the limit: exhausted
        ("3.06", "10", Decimal("-9.99"), False),  # a cent above it: still open
        ("13.05", "0", Decimal("0.00"), True),  # no credit: an empty balance closes
        ("13.06", "0", Decimal("0.01"), False),
    ],
)
def test_a_prepaid_charge_closes_the_valve_exactly_at_the_credit_limit(
    monkeypatch, django_capture_on_commit_callbacks, balance, limit, after, closed
):
    monkeypatch.setattr(prepaid, "publish", lambda pk: None)
    c = _prepaid_customer(balance=balance, credit_limit=limit)
    meter = meter_for(c, kind="smart")
    with django_capture_on_commit_callbacks(execute=True):
        assert _charge_5(c, meter) == after
    commands = list(ValveCommand.objects.values_list("meter_id", "command"))
    assert commands == ([(meter.pk, "close")] if closed else [])


def test_a_top_up_reopens_the_valve_only_above_the_credit_limit(
    monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(prepaid, "publish", lambda pk: None)
    c = _prepaid_customer(balance="1", credit_limit="10")
    meter = meter_for(c, kind="smart")
    with django_capture_on_commit_callbacks(execute=True):
        assert _charge_5(c, meter) == Decimal("-12.05")
    ledger.post(c, "payment", Decimal("2.05"))  # back to -10.00: on the limit, still exhausted
    assert prepaid.reopen_if_funded(c) is None
    ledger.post(c, "payment", Decimal("0.01"))  # -9.99
    assert prepaid.reopen_if_funded(c).command == "open"
    assert list(ValveCommand.objects.order_by("pk").values_list("command", flat=True)) == ["close", "open"]


def test_a_charge_that_must_stay_within_the_limit_may_reach_it_but_not_pass_it():
    c = _prepaid_customer(balance="3.05", credit_limit="10")
    entry = ledger.post(c, "adjustment", Decimal("-13.05"), allow_below_limit=False)
    assert entry.balance_after == Decimal("-10.00")
    with pytest.raises(DomainError) as refused:
        ledger.post(c, "adjustment", Decimal("-0.01"), allow_below_limit=False)
    assert refused.value.code == "insufficient_balance"
    assert (
        ledger.balance(c) == Decimal("-10.00")
        and LedgerEntry.objects.filter(account__customer=c).count() == 2
    )


def test_a_counter_payment_reopens_a_valve_closed_for_an_empty_prepaid_balance(
    monkeypatch, django_capture_on_commit_callbacks
):
    from gasworks.payments import services as payments
    from tests.factories import make_user

    monkeypatch.setattr(prepaid, "publish", lambda pk: None)
    c = _prepaid_customer(balance="10")
    meter = meter_for(c, kind="smart")
    with django_capture_on_commit_callbacks(execute=True):
        prepaid.charge_prepaid_reading(read(c, 5, local(2026, 10, 3), meter=meter))
    assert ValveCommand.objects.get().command == "close"
    with django_capture_on_commit_callbacks(execute=True):
        payments.take_counter_payment(c, Decimal("50.00"), "card", make_user("cashier"))
    assert list(ValveCommand.objects.order_by("pk").values_list("command", flat=True)) == ["close", "open"]


def test_a_prepaid_account_is_charged_as_its_readings_arrive(django_capture_on_commit_callbacks):
    import datetime as dt

    from gasworks.metering import services as metering

    c = _prepaid_customer(balance="100")
    meter = metering.install_meter("PP-1", c.premises, installed_on=dt.date(2026, 9, 1))
    with django_capture_on_commit_callbacks(execute=True):
        metering.record_reading(meter, Decimal("10"), local(2026, 10, 3), now=local(2026, 10, 4))
    charge = PrepaidCharge.objects.get()
    assert charge.volume == Decimal("10.000")
    assert ledger.balance(c) == Decimal("100") - Decimal("26.10")  # 10 m³ at tier 1, 2.61
    # A postpaid neighbour's reading charges nothing.
    other = make_customer()
    meter2 = metering.install_meter("PP-2", other.premises, installed_on=dt.date(2026, 9, 1))
    with django_capture_on_commit_callbacks(execute=True):
        metering.record_reading(meter2, Decimal("7"), local(2026, 10, 3), now=local(2026, 10, 4))
    assert PrepaidCharge.objects.count() == 1
