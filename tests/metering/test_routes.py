"""Reading routes built by a supervisor (district, street, picked meters; ordered; assigned),
the demo's routes, and the confirm step for a reading far below the previous one."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from gasworks.errors import DomainError, InvalidInput
from gasworks.metering import demo, routes, services
from gasworks.metering.models import Reading, ReadingRoute, RouteStop
from tests.factories import make_customer, make_user
from tests.metering.helpers import make_meter

pytestmark = pytest.mark.django_db

ROLES = ["admin", "cashier", "meter_reader", "inspector", "dispatcher", "filler", "customer"]


@pytest.fixture
def town():
    """Five meters: three in 朝阳区 (two on 望京街道), two in 海淀区."""
    installed = timezone.localdate() - dt.timedelta(days=40)
    places = [
        ("朝阳区", "北京市朝阳区望京街道3号院1号楼"),
        ("朝阳区", "北京市朝阳区望京街道1号院2号楼"),
        ("朝阳区", "北京市朝阳区安贞街道5号院"),
        ("海淀区", "北京市海淀区学院路街道2号院"),
        ("海淀区", "北京市海淀区学院路街道9号院"),
    ]
    return [make_meter(make_customer(district=d, address=a), installed_on=installed) for d, a in places]


def serials(route):
    return list(route.stops.order_by("position").values_list("meter__serial_no", flat=True))


def test_a_route_is_built_by_district_or_street_in_address_order(town):
    reader = make_user("meter_reader")
    by_district = routes.installed_meters(district="朝阳区")
    route = routes.create_route("朝阳 1", reader, by_district.values_list("pk", flat=True))
    # Address order: 安贞街道 5, 望京街道 1, 望京街道 3.
    assert serials(route) == [town[2].serial_no, town[1].serial_no, town[0].serial_no]
    assert list(route.stops.values_list("position", flat=True)) == [1, 2, 3]
    street = routes.installed_meters(street="望京街道")
    assert set(street) == {town[0], town[1]}
    assert routes.districts() == ["朝阳区", "海淀区"]


def test_stops_are_added_moved_reordered_and_removed_on_the_server(town):
    route = routes.create_route("R", None, [town[0].pk, town[1].pk])
    assert routes.add_stops(route, [town[1].pk, town[3].pk, town[4].pk]) == 2  # town[1] is there
    assert serials(route) == [m.serial_no for m in (town[0], town[1], town[3], town[4])]
    routes.move_stop(route, town[3].pk, -1)
    assert serials(route) == [m.serial_no for m in (town[0], town[3], town[1], town[4])]
    routes.move_stop(route, town[0].pk, -1)  # already first: stays
    routes.reorder(route, [town[4].pk, town[1].pk, town[3].pk, town[0].pk])
    assert serials(route) == [m.serial_no for m in (town[4], town[1], town[3], town[0])]
    routes.remove_stop(route, town[1].pk)
    assert serials(route) == [m.serial_no for m in (town[4], town[3], town[0])]
    assert list(route.stops.order_by("position").values_list("position", flat=True)) == [1, 2, 3]


@pytest.mark.parametrize(
    "change",
    [
        lambda r, t: routes.reorder(r, [t[0].pk, t[0].pk]),  # not a permutation
        lambda r, t: routes.reorder(r, [t[0].pk, "x"]),
        lambda r, t: routes.add_stops(r, [999999]),
        lambda r, t: routes.move_stop(r, t[4].pk, 1),  # not on the route
        lambda r, t: routes.update_route(r, "", None),
        lambda r, t: routes.update_route(r, "other", make_user("cashier")),  # not a meter reader
        lambda r, t: routes.update_route(r, "taken", None),
    ],
)
def test_bad_changes_are_refused_and_change_nothing(town, change):
    routes.create_route("taken", None, [])
    route = routes.create_route("R", None, [town[0].pk, town[1].pk])
    with pytest.raises(DomainError) as caught:
        change(route, town)
    assert caught.value.status == 400
    route.refresh_from_db()
    assert serials(route) == [town[0].serial_no, town[1].serial_no] and route.name == "R"


def test_a_removed_meter_cannot_join_a_route(town):
    services.remove_meter(town[0], None, timezone.localdate())
    with pytest.raises(InvalidInput):
        routes.create_route("R", None, [town[0].pk])
    assert not ReadingRoute.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_only_supervisors_build_routes(client, personas, town, role):
    route = routes.create_route("R", personas["meter_reader"], [town[0].pk])
    client.force_login(personas[role])
    allowed = role == "admin"
    for url in (reverse("metering:route-create"), reverse("metering:route-edit", args=[route.pk])):
        assert client.get(url).status_code == (200 if allowed else 403), (url, role)
    response = client.post(
        reverse("metering:route-edit", args=[route.pk]), {"action": "remove", "meter": town[0].pk}
    )
    assert response.status_code == (302 if allowed else 403)
    assert RouteStop.objects.filter(route=route).exists() == (not allowed)


def test_a_supervisor_builds_orders_and_assigns_a_route_on_the_pages(admin_client, personas, town):
    reader = personas["meter_reader"]
    created = admin_client.post(
        reverse("metering:route-create"), {"name": "望京", "reader": "", "district": "", "street": "望京街道"}
    )
    route = ReadingRoute.objects.get(name="望京")
    assert created.url == reverse("metering:route-edit", args=[route.pk])
    assert serials(route) == [town[1].serial_no, town[0].serial_no]
    edit = reverse("metering:route-edit", args=[route.pk])
    found = admin_client.get(edit, {"district": "海淀区"}).content.decode()
    assert town[3].serial_no in found and town[4].serial_no in found and 'data-testid="add-selected"' in found
    admin_client.post(f"{edit}?district=海淀区", {"action": "add", "meter": [town[4].pk]})
    admin_client.post(edit, {"action": "up", "meter": town[4].pk})
    assert serials(route) == [town[1].serial_no, town[4].serial_no, town[0].serial_no]
    admin_client.post(edit, {"action": "order", "meter": [town[0].pk, town[1].pk, town[4].pk]})
    assert serials(route) == [town[0].serial_no, town[1].serial_no, town[4].serial_no]
    admin_client.post(edit, {"action": "add_all", "district": "海淀区", "street": "", "q": ""})
    assert len(serials(route)) == 4
    refused = admin_client.post(edit, {"action": "order", "meter": [town[0].pk]}, follow=True)
    assert "each once" in refused.content.decode() and len(serials(route)) == 4
    admin_client.post(edit, {"action": "settings", "name": "望京 1", "reader": reader.pk})
    route.refresh_from_db()
    assert (route.name, route.reader) == ("望京 1", reader)
    admin_client.force_login(reader)
    listed = admin_client.get(reverse("metering:route-list")).content.decode()
    assert "望京 1" in listed and "No routes assigned to you" not in listed


def test_the_empty_route_list_speaks_to_the_role(client, personas):
    client.force_login(personas["admin"])
    assert "No reading routes yet" in client.get(reverse("metering:route-list")).content.decode()
    client.force_login(personas["meter_reader"])
    assert "No routes assigned to you" in client.get(reverse("metering:route-list")).content.decode()


def test_the_demo_makes_routes_by_district_for_the_demo_reader(client):
    reader = make_user("meter_reader", username="reader")
    for district in ("朝阳区", "海淀区", "朝阳区"):
        make_customer(district=district)
    demo.seed(io.StringIO())
    made = {r.name: r for r in ReadingRoute.objects.all()}
    assert set(made) == {"朝阳区抄表册", "海淀区抄表册"}
    assert all(r.reader == reader for r in made.values())
    assert made["朝阳区抄表册"].stops.count() == 2
    demo.seed(io.StringIO())  # again: nothing new
    assert ReadingRoute.objects.count() == 2
    client.force_login(reader)
    assert "朝阳区抄表册" in client.get(reverse("metering:route-list")).content.decode()


# ---------------------------------------------------------------- far below the previous reading


@pytest.fixture
def walked(personas, town):
    meter = town[0]
    services.record_reading(meter, 500, timezone.now() - dt.timedelta(days=30))
    route = routes.create_route("R", personas["meter_reader"], [meter.pk, town[1].pk])
    return meter, reverse("metering:route-walk", args=[route.pk]) + "?stop=0"


def test_the_reader_confirms_a_value_far_below_the_last_before_it_is_saved(client, personas, walked):
    meter, url = walked
    client.force_login(personas["meter_reader"])
    asked = client.post(url, {"value": "50"})
    assert asked.status_code == 200 and 'data-testid="confirm-backwards"' in asked.content.decode()
    assert "500.000" in asked.content.decode()
    assert not Reading.objects.filter(meter=meter, value=Decimal("50")).exists()
    corrected = client.post(url, {"value": "512"})  # the reader looked again
    assert corrected.status_code == 302
    assert Reading.objects.get(meter=meter, value=Decimal("512")).status == "accepted"


def test_a_confirmed_backwards_value_is_kept_for_review(client, personas, walked):
    meter, url = walked
    client.force_login(personas["meter_reader"])
    saved = client.post(url, {"value": "50", "confirm": "true"})
    assert saved.status_code == 302
    assert Reading.objects.get(meter=meter, value=Decimal("50")).status == "flagged"


def test_a_forward_value_is_saved_without_asking(client, personas, walked):
    meter, url = walked
    client.force_login(personas["meter_reader"])
    assert client.post(url, {"value": "530"}).status_code == 302
    assert Reading.objects.filter(meter=meter, value=Decimal("530")).exists()


def test_the_reading_form_asks_too_and_the_api_keeps_its_contract(client, personas, walked):
    meter, _url = walked
    client.force_login(personas["meter_reader"])
    taken = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    data = {"meter": meter.serial_no, "value": "50", "taken_at": taken, "reason": "periodic"}
    asked = client.post(reverse("metering:reading-create"), data)
    assert asked.status_code == 200 and "Yes, the register really shows this value" in asked.content.decode()
    assert not Reading.objects.filter(value=Decimal("50")).exists()
    saved = client.post(reverse("metering:reading-create"), {**data, "confirm": "on"})
    assert saved.status_code == 302 and Reading.objects.get(value=Decimal("50")).status == "flagged"
    body = {"meter": meter.serial_no, "value": "40", "taken_at": timezone.now().isoformat()}
    api = client.post("/api/v1/readings/", body, content_type="application/json")
    assert api.status_code == 201 and api.json()["status"] == "flagged"
