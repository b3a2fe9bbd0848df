"""Permission matrix of every metering page and API route, and the pages' main flows."""

import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import Workbook

from gasworks.metering import services
from gasworks.metering.models import Reading, ReadingRoute, RouteStop
from tests.metering.helpers import make_meter

pytestmark = pytest.mark.django_db

ROLES = ["admin", "cashier", "meter_reader", "inspector", "dispatcher", "filler", "customer"]


@pytest.fixture
def world(personas):
    meter = make_meter(personas["own_customer"], installed_on=timezone.localdate() - dt.timedelta(days=20))
    reading = services.record_reading(meter, 110, timezone.now() - dt.timedelta(days=1))
    route = ReadingRoute.objects.create(name="R1", reader=personas["meter_reader"])
    RouteStop.objects.create(route=route, meter=meter, position=1)
    return {"meter": meter, "reading": reading, "route": route}


PAGES = {
    "meter-list": ({}, {"admin", "cashier", "meter_reader", "inspector"}),
    "meter-detail": ({"pk": "meter"}, {"admin", "cashier", "meter_reader", "inspector"}),
    "meter-create": ({}, {"admin"}),
    "meter-replace": ({"pk": "meter"}, {"admin"}),
    "reading-create": ({}, {"admin", "meter_reader"}),
    "reading-export": ({}, {"admin", "cashier", "meter_reader", "inspector"}),
    "reading-import": ({}, {"admin"}),
    "review-queue": ({}, {"admin"}),
    "route-list": ({}, {"admin", "meter_reader"}),
    "route-walk": ({"pk": "route"}, {"admin", "meter_reader"}),
    "alert-list": ({}, {"admin", "inspector"}),
    "dead-letter-list": ({}, {"admin"}),
}


@pytest.mark.parametrize("role", ROLES)
def test_it_checks_every_page_for_every_role(client, personas, world, role):
    from django.urls import reverse

    client.force_login(personas[role])
    for name, (kwargs, allowed) in PAGES.items():
        url = reverse(f"metering:{name}", kwargs={k: world[v].pk for k, v in kwargs.items()})
        status = client.get(url).status_code
        assert status == (200 if role in allowed else 403), (name, role, status)


@pytest.mark.parametrize("role", ROLES)
def test_it_checks_every_api_route_for_every_role(client, personas, world, role):
    client.force_login(personas[role])
    meter = world["meter"]
    expect_view = 200 if role in {"admin", "cashier", "meter_reader", "inspector", "customer"} else 403
    assert client.get(f"/api/v1/meters/{meter.pk}/readings/").status_code == expect_view
    assert client.get(f"/api/v1/meters/{meter.pk}/").status_code == expect_view
    body = {"meter": meter.serial_no, "value": "120", "taken_at": timezone.now().isoformat()}
    status = client.post("/api/v1/readings/", body, content_type="application/json").status_code
    assert status == (201 if role in {"admin", "meter_reader"} else 403)
    status = client.post(f"/api/v1/meters/{meter.pk}/device-key/").status_code
    assert status == (409 if role == "admin" else 403)  # 409: a diaphragm meter has no key
    status = client.post(f"/api/v1/readings/{world['reading'].pk}/approve/", {}).status_code
    assert status == (409 if role == "admin" else 403)  # 409: the reading is not flagged


def test_admins_see_the_mqtt_dead_letters_counted_by_reason(admin_client, settings):
    from gasworks.metering.models import DeadLetter

    settings.LANGUAGE_CODE = "en"
    at = timezone.now()
    DeadLetter.objects.bulk_create(
        [
            DeadLetter(topic="gasworks/meters/M1/readings", payload="<script>x</script>", size=18,
                       reason="undecodable", detail="not JSON", received_at=at),
            DeadLetter(topic="gasworks/meters/M2/readings", payload="[[[[", size=10, reason="undecodable", received_at=at),
            DeadLetter(topic="gasworks/meters/M3/readings", payload="xxxx", size=300_000, reason="too_large", received_at=at),
        ]
    )  # fmt: skip
    page = admin_client.get("/metering/dead-letters/").content.decode()
    assert "3 dead letters" in page and "cannot be decoded: <strong>2</strong>" in page
    assert "too large: <strong>1</strong>" in page and "gasworks/meters/M3/readings" in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x" not in page
    assert "/metering/dead-letters/" in admin_client.get("/").content.decode()  # in the menu
    admin_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = admin_client.get("/metering/dead-letters/").content.decode()
    assert (
        "MQTT 死信" in page
        and "无法解码：<strong>2</strong>" not in page
        and "无法解码: <strong>2</strong>" in page
    )


def test_it_shows_meters_on_the_customer_page(admin_client, personas, world):
    page = admin_client.get(f"/customers/{personas['own_customer'].pk}/").content.decode()
    assert world["meter"].serial_no in page and "110.000" in page


def test_it_walks_a_route_and_moves_on(client, personas, world):
    client.force_login(personas["meter_reader"])
    url = f"/metering/routes/{world['route'].pk}/?stop=0"
    assert "110.000" in client.get(url).content.decode()
    r = client.post(url, {"value": "125"})
    assert r.status_code == 302
    assert Reading.objects.filter(meter=world["meter"], value=125).exists()


def _xlsx(rows):
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_it_imports_csv_with_preview_and_refuses_a_file_with_a_bad_row(admin_client, world):
    serial = world["meter"].serial_no
    day = timezone.localdate()
    good = f"serial_no,value,taken_at,reason\n{serial},130,{day} 08:00,periodic\n".encode()
    bad = good + f"{serial},abc,{day} 09:00,periodic\nNOPE,1,{day} 09:00,\n".encode()
    upload = io.BytesIO(bad)
    upload.name = "r.csv"
    r = admin_client.post("/metering/readings/import/", {"file": upload})
    preview = r["Location"]
    page = admin_client.get(preview).content.decode()
    assert "Line 3" in page and "Line 4" in page and "Unknown meter NOPE" in page
    admin_client.post(preview)
    assert not Reading.objects.filter(meter=world["meter"], value=130).exists()
    upload = io.BytesIO(_xlsx([["serial_no", "value", "taken_at"], [serial, 130, f"{day} 08:00"]]))
    upload.name = "r.xlsx"
    preview = admin_client.post("/metering/readings/import/", {"file": upload})["Location"]
    assert admin_client.post(preview).status_code == 302
    assert Reading.objects.get(meter=world["meter"], value=130).consumption == 20
    export = b"".join(admin_client.get("/metering/readings/export/").streaming_content).decode()
    assert f"{serial},130.000" in export
