"""The signed device ingest endpoint: signatures, replays, duplicates, batches, refusals."""

import datetime as dt
import json
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from gasworks.metering import ingest
from gasworks.metering.models import AlertKind, DeviceKey, Reading, TamperAlert
from tests.metering.helpers import make_meter

URL = "/api/v1/ingest/readings/"


def device(**kw):
    installed = timezone.localdate() - dt.timedelta(days=40)
    meter = make_meter(kind="smart", installed_on=installed, initial_reading=0, **kw)
    return meter, ingest.issue_key(meter)


def batch(start_seq, count, start_value=0, step=0.5, start=None):
    start = start or timezone.now() - dt.timedelta(days=30)
    return {
        "readings": [
            {"seq": start_seq + i, "value": f"{start_value + (i + 1) * step:.3f}",
             "taken_at": (start + dt.timedelta(minutes=15 * i)).isoformat()}
            for i in range(count)
        ]
    }  # fmt: skip


def send(client, meter, key, body, signature=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    sig = signature if signature is not None else ingest.sign(key, raw)
    return client.post(
        URL, raw, content_type="application/json", HTTP_X_DEVICE=meter.serial_no, HTTP_X_SIGNATURE=sig
    )


@pytest.mark.django_db
def test_it_accepts_a_signed_batch(client):
    meter, key = device()
    r = send(client, meter, key, batch(1, 10))
    assert r.status_code == 200 and r.json() == {"accepted": 10, "duplicates": 0, "rejected": []}
    assert Reading.objects.filter(meter=meter, status="accepted").count() == 10
    assert DeviceKey.objects.get(meter=meter).last_seq == 10


@pytest.mark.django_db
def test_it_refuses_a_wrong_signature_with_401_and_stores_nothing(client):
    meter, key = device()
    r = send(client, meter, key, batch(1, 3), signature="00" * 32)
    assert r.status_code == 401 and r.json()["error"]["code"] == "bad_signature"
    assert not Reading.objects.exists() and DeviceKey.objects.get(meter=meter).last_seq == 0


@pytest.mark.django_db
def test_it_refuses_one_flipped_bit(client):
    meter, key = device()
    raw = json.dumps(batch(1, 3)).encode()
    signature = ingest.sign(key, raw)
    flipped = bytearray(raw)
    flipped[20] ^= 0x01
    assert send(client, meter, key, bytes(flipped), signature=signature).status_code == 401
    sig_flipped = format(int(signature, 16) ^ 1, "064x")
    assert send(client, meter, key, raw, signature=sig_flipped).status_code == 401
    assert not Reading.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_replay_even_after_a_restart(client):
    meter, key = device()
    body = batch(1, 5)
    assert send(client, meter, key, body).json()["accepted"] == 5
    replay = {"readings": [{**item, "value": "999.000"} for item in body["readings"]]}
    r = send(Client(), meter, key, replay)  # a fresh client; the counter lives in the database
    assert r.json()["accepted"] == 0
    assert {x["reason"] for x in r.json()["rejected"]} == {"replay"}
    assert Reading.objects.filter(meter=meter).count() == 5


@pytest.mark.django_db
def test_it_counts_a_thousand_duplicate_deliveries_and_stores_none_twice(client):
    meter, key = device()
    body = batch(1, 1000)
    assert send(client, meter, key, body).json()["accepted"] == 1000
    again = send(client, meter, key, body).json()
    assert again == {"accepted": 0, "duplicates": 1000, "rejected": []}
    assert Reading.objects.filter(meter=meter).count() == 1000


@pytest.mark.django_db
def test_it_refuses_batches_above_1000_and_bad_items_storing_nothing(client):
    meter, key = device()
    r = send(client, meter, key, batch(1, 1001))
    assert r.status_code == 400 and r.json()["error"]["code"] == "batch_too_large"
    body = batch(1, 3)
    body["readings"][1]["value"] = "abc"
    body["readings"][2]["taken_at"] = "2999-01-01T00:00:00+00:00"
    r = send(client, meter, key, body)
    assert r.status_code == 400
    assert set(r.json()["error"]["fields"]) == {"readings.1.value", "readings.2.taken_at"}
    assert not Reading.objects.exists() and DeviceKey.objects.get(meter=meter).last_seq == 0


@pytest.mark.django_db
def test_it_refuses_an_unknown_device(client):
    r = client.post(URL, b"{}", content_type="application/json", HTTP_X_DEVICE="NOPE", HTTP_X_SIGNATURE="00")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unknown_device"


@pytest.mark.django_db
def test_it_raises_tamper_alerts_from_device_flags_and_signature_failures(client):
    meter, key = device()
    body = batch(1, 2)
    body["readings"][1]["flags"] = ["magnet", "tamper"]
    assert send(client, meter, key, body).json()["accepted"] == 2
    kinds = set(TamperAlert.objects.filter(meter=meter).values_list("kind", flat=True))
    assert kinds == {AlertKind.MAGNET, AlertKind.DEVICE_TAMPER}
    for _ in range(5):
        send(client, meter, key, batch(10, 1), signature="ab" * 32)
    assert TamperAlert.objects.filter(meter=meter, kind=AlertKind.SIGNATURE_FAILURES).count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_keeps_counter_order_for_two_batches_at_once():
    meter, key = device()
    start = timezone.now() - dt.timedelta(days=35)
    first = batch(1, 500, start=start)
    second = batch(501, 500, start_value=250, start=start + dt.timedelta(minutes=15 * 500))
    results = {}

    def go(name, body):
        results[name] = send(Client(), meter, key, body).json()
        connection.close()

    threads = [threading.Thread(target=go, args=(n, b)) for n, b in (("a", first), ("b", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = list(Reading.objects.filter(meter=meter).order_by("taken_at").values_list("seq", flat=True))
    assert stored == sorted(stored)  # time order is counter order: nothing older slipped in later
    assert DeviceKey.objects.get(meter=meter).last_seq == 1000
    accepted = results["a"]["accepted"] + results["b"]["accepted"]
    assert accepted + sum(len(r["rejected"]) for r in results.values()) == 1000
    assert Reading.objects.filter(meter=meter).count() == accepted


@pytest.mark.django_db
def test_it_judges_each_reading_of_a_batch_against_the_ones_before_it(client):
    meter, key = device()
    body = batch(1, 12)  # 0.5 m³ every 15 minutes
    body["readings"][8]["value"] = "34.500"  # +30 m³ in 15 minutes through a 6 m³/h meter
    body["readings"][10]["flags"] = ["tamper"]
    assert send(client, meter, key, body).json()["accepted"] == 12
    flagged = Reading.objects.get(meter=meter, status="flagged")
    assert flagged.flags == ["spike"] and flagged.seq == 9
    # The next reading is measured from the last billable one, as one-by-one entry would.
    assert Reading.objects.get(meter=meter, seq=10).consumption == Decimal("1.000")
    alerts = {a.kind: a.reading.seq for a in TamperAlert.objects.filter(meter=meter)}
    assert alerts == {AlertKind.IMPLAUSIBLE_JUMP: 9, AlertKind.DEVICE_TAMPER: 11}


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_waits_for_a_manual_reading_of_the_same_meter_and_counts_it_as_held():
    from django.db import transaction

    from gasworks.metering import services

    meter, key = device()
    body = batch(1, 3)
    contested = dt.datetime.fromisoformat(body["readings"][1]["taken_at"])
    typed_in, results = threading.Event(), {}

    def type_in():
        with transaction.atomic():  # holds the meter's lock and the reading, uncommitted
            services.record_reading(meter, Decimal("0.700"), contested)
            typed_in.set()
            time.sleep(1)
        connection.close()

    def send_batch():
        typed_in.wait(5)
        results["device"] = send(Client(), meter, key, body)
        connection.close()

    threads = [threading.Thread(target=type_in), threading.Thread(target=send_batch)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    response = results["device"]
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 2, "duplicates": 1, "rejected": []}
    assert Reading.objects.get(meter=meter, taken_at=contested).source == "manual"
