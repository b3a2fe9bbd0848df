"""Supply meters (kind district): a meter of a district, not of a customer, read like any other
(by hand, the API, file import, signed ingest) and corrected to base conditions, whose readings
bill nobody."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from gasworks.billing import runs
from gasworks.billing.models import Bill
from gasworks.errors import InvalidInput
from gasworks.lib.consumption import correction_factor
from gasworks.metering import bulk, ingest, services
from gasworks.metering.models import Meter, MeterEvent, Reading
from gasworks.system.models import AuditEntry
from tests.billing.helpers import beijing, local
from tests.factories import make_customer
from tests.metering.helpers import make_meter

pytestmark = pytest.mark.django_db


def supply_meter(district="朝阳区", serial="SUP-1", **kw):
    kw.setdefault("installed_on", dt.date(2025, 12, 1))
    kw.setdefault("initial_reading", Decimal("1000"))
    kw.setdefault("digits", 8)
    kw.setdefault("max_flow_m3h", Decimal("500"))
    return services.install_meter(serial, None, kind="district", district=district, **kw)


def test_the_api_installs_a_supply_meter_of_a_district(admin_client):
    body = {"serial_no": "GATE-01", "kind": "district", "district": "海淀区", "installed_on": "2026-01-01"}
    response = admin_client.post("/api/v1/meters/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["district"] == "海淀区" and response.json()["premises"] is None
    meter = Meter.objects.get(serial_no="GATE-01")
    assert (meter.kind, meter.district, meter.premises_id) == ("district", "海淀区", None)
    listed = admin_client.get("/api/v1/meters/?kind=district").json()["results"]
    assert [m["serial_no"] for m in listed] == ["GATE-01"]


@pytest.mark.parametrize(
    "extra",
    [
        {"kind": "district", "district": "海淀区", "customer": "own"},  # both
        {"kind": "district"},  # neither
        {"kind": "district", "district": "  "},  # a blank district is none
        {"kind": "diaphragm", "district": "海淀区"},  # a customer meter with a district
        {"kind": "diaphragm", "district": "海淀区", "customer": "own"},
        {"kind": "diaphragm"},  # a customer meter without its customer
    ],
)
def test_the_api_refuses_both_or_neither_of_customer_and_district(admin_client, personas, extra):
    body = {"serial_no": "BAD-01", "installed_on": "2026-01-01", **extra}
    if body.get("customer") == "own":
        body["customer"] = personas["own_customer"].pk
    before = (Meter.objects.count(), MeterEvent.objects.count(), AuditEntry.objects.count())
    response = admin_client.post("/api/v1/meters/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert set(response.json()["error"]["fields"]) & {"customer", "district"}
    assert (Meter.objects.count(), MeterEvent.objects.count(), AuditEntry.objects.count()) == before


def test_the_service_and_the_table_refuse_a_mixed_meter():
    customer = make_customer()
    with pytest.raises(InvalidInput):
        services.install_meter("X1", customer.premises, kind="district", district="朝阳区")
    with pytest.raises(InvalidInput):
        services.install_meter("X2", None, kind="diaphragm")
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():  # the constraint, below the service
        Meter.objects.create(serial_no="X3", kind="district", district="", installed_on=dt.date(2026, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Meter.objects.create(
            serial_no="X4",
            kind="smart",
            district="朝阳区",
            premises=customer.premises,
            installed_on=dt.date(2026, 1, 1),
        )
    assert not Meter.objects.exists()


def test_a_reading_by_hand_bills_nobody_and_is_corrected_to_base_conditions():
    meter = supply_meter()
    reading = services.record_reading(
        meter, "1500", local(2026, 1, 10), pressure_kpa="200", temperature_c="10", now=local(2026, 2, 1)
    )
    assert reading.customer_id is None and reading.status == "accepted"
    assert reading.consumption == Decimal("500.000")
    factor = correction_factor(Decimal("200"), Decimal("10"))
    assert reading.corrected_consumption == (Decimal(500) * factor).quantize(Decimal("0.001"))
    assert reading.corrected_consumption > Decimal("1400")  # ~3× at 2 bar: what makes it comparable


def test_a_reading_through_the_api_with_pressure_and_temperature(admin_client):
    supply_meter(initial_reading=Decimal("0"), installed_on=timezone.localdate() - dt.timedelta(days=10))
    body = {
        "meter": "SUP-1",
        "value": "120.500",
        "taken_at": (timezone.now() - dt.timedelta(days=1)).isoformat(),
        "pressure_kpa": "3.5",
        "temperature_c": "15",
    }
    response = admin_client.post("/api/v1/readings/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["consumption"] == "120.500" and Decimal(data["corrected_consumption"]) > Decimal("120.5")
    assert Reading.objects.get().customer_id is None


def test_signed_ingest_stores_a_supply_meters_readings(client):
    meter = supply_meter(
        initial_reading=Decimal("0"), installed_on=timezone.localdate() - dt.timedelta(days=10)
    )
    meter.correction_factor = Decimal("2.950000")
    meter.save(update_fields=["correction_factor"])
    key = ingest.issue_key(meter)
    start = timezone.now() - dt.timedelta(days=2)
    body = json.dumps(
        {"readings": [
            {"seq": i + 1, "value": f"{(i + 1) * 40}.000", "taken_at": (start + dt.timedelta(hours=i)).isoformat()}
            for i in range(3)
        ]}
    ).encode()  # fmt: skip
    response = client.post(
        "/api/v1/ingest/readings/",
        body,
        content_type="application/json",
        HTTP_X_DEVICE=meter.serial_no,
        HTTP_X_SIGNATURE=ingest.sign(key, body),
    )
    assert response.status_code == 200 and response.json()["accepted"] == 3, response.content
    readings = list(Reading.objects.filter(meter=meter).order_by("taken_at"))
    assert [r.customer_id for r in readings] == [None] * 3
    assert [r.corrected_consumption for r in readings] == [Decimal("118.000")] * 3  # 40 × 2.95


def test_a_file_import_and_an_estimate_take_supply_readings_too():
    meter = supply_meter()
    rows = [
        bulk.Row(2, meter.serial_no, Decimal("1100"), local(2026, 1, 5), "periodic"),
        bulk.Row(3, meter.serial_no, Decimal("1200"), local(2026, 1, 10), "periodic"),
        bulk.Row(4, meter.serial_no, Decimal("1300"), local(2026, 1, 15), "periodic"),
    ]
    assert bulk.import_rows(rows, now=local(2026, 2, 1)) == {"imported": 3, "flagged": 0}
    estimate = services.estimate_reading(meter, local(2026, 1, 20))
    assert estimate.customer_id is None and estimate.status == "estimated"
    assert not Reading.objects.filter(meter=meter, customer__isnull=False).exists()


def test_a_billing_run_bills_no_supply_meter():
    beijing()
    customer = make_customer(address="北京市朝阳区测试路1号", district="朝阳区")
    home = make_meter(customer, initial_reading=Decimal("0"))
    services.record_reading(home, "30", local(2026, 1, 10), now=local(2026, 2, 1))
    gate = supply_meter()
    services.record_reading(gate, "1500", local(2026, 1, 10), now=local(2026, 2, 1))
    services.record_reading(gate, "2100", local(2026, 1, 20), now=local(2026, 2, 1))
    run = runs.execute(runs.start_run("2026-01"))
    assert run.bills_created == 1
    bill = Bill.objects.get()
    assert (bill.customer_id, bill.volume) == (customer.pk, Decimal("30.000"))
    assert Reading.objects.filter(meter=gate).count() == 2  # kept, never billed


def test_the_pages_install_list_and_show_a_supply_meter(admin_client):
    form = {
        "serial_no": "GATE-02",
        "kind": "district",
        "account_no": "",
        "district": "丰台区",
        "digits": 8,
        "initial_reading": "0",
        "installed_on": "2026-01-01",
    }
    response = admin_client.post("/metering/meters/new/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    meter = Meter.objects.get(serial_no="GATE-02")
    assert (meter.district, meter.premises_id) == ("丰台区", None)
    refused = admin_client.post("/metering/meters/new/", {**form, "serial_no": "GATE-03", "district": ""})
    assert refused.status_code == 200 and not Meter.objects.filter(serial_no="GATE-03").exists()
    other = make_meter()
    page = admin_client.get("/metering/meters/?kind=district").content.decode()
    assert "GATE-02" in page and "丰台区" in page and other.serial_no not in page
    assert other.serial_no in admin_client.get("/metering/meters/").content.decode()
    detail = admin_client.get(f"/metering/meters/{meter.pk}/").content.decode()
    assert 'data-testid="meter-district"' in detail and "丰台区" in detail
