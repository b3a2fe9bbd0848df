"""Schemathesis against the WSGI app: every operation of the OpenAPI schema, as admin, cashier and
customer, with generated valid and invalid input (its fuzzing phase). Each answer must not be a
server error and must match what the schema documents for its status (the 4xx envelope included).

The generated ids are pointed at real objects (the customer's own, another customer's, and one
that does not exist), so the operations get past their 404s. A bounded, derandomized number of
examples keeps the run short and the same on every machine: the admin, who may do everything,
gets the most; the cashier and the customer are refused much of it and get fewer. Schemathesis's
coverage phase (hundreds of boundary cases per operation) is left to a manual run: it would cost
several minutes of CI per database."""

import datetime as dt
import json

import pytest
import schemathesis
import time_machine
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.config import SchemathesisConfig

from gasworks.wsgi import application
from tests.factories import make_user

ROLES = ("admin", "cashier", "customer")
MISSING = 987654  # an id no object has


def _load_schema():
    """The schema /api/schema/ serves, made by the same generator here: tests are collected before
    the test database opens, and Schemathesis's fixture-based loader (from_fixture) does not work
    with pytest 9.2 (it renames items through a private attribute pytest no longer has)."""
    raw = SchemaGenerator().get_schema(request=None, public=True)
    document = json.loads(OpenApiJsonRenderer().render(raw, renderer_context={}))
    config = SchemathesisConfig.from_dict(
        {
            "generation": {"mode": "all"},
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        }
    )
    loaded = schemathesis.openapi.from_dict(document, config=config)
    loaded.app = application
    return loaded


schema = _load_schema()


class World:
    """Objects for the operations to find, made through the services on first use per area."""

    def __init__(self, personas):
        self.p = personas
        self.admin = personas["admin"]
        self.own, self.other = personas["own_customer"], personas["other_customer"]
        self.tokens = {role: Token.objects.create(user=personas[role]).key for role in ROLES}
        self.ids: dict[str, list] = {}
        self._built: set[str] = set()

    def values(self, area: str) -> list:
        if area not in self._built:
            self._built.add(area)
            getattr(self, f"_build_{area.replace('-', '_')}", lambda: None)()
        return [*self.ids.get(area, []), MISSING]

    def _add(self, area, *objects):
        self.ids.setdefault(area, []).extend(o.pk for o in objects)

    def _build_customers(self):
        self._add("customers", self.own, self.other)

    def _build_users(self):
        self._add("users", self.admin, self.p["cashier"], self.p["customer"])

    def _build_meters(self):
        from tests.metering.helpers import make_meter, monthly

        mine, theirs = make_meter(self.own, kind="smart"), make_meter(self.other)
        readings = monthly(mine, volumes=(20, 21)) + monthly(theirs, volumes=(30,))
        self._add("meters", mine, theirs)
        self._add("readings", *readings)
        self.ids["serials"] = [mine.serial_no, theirs.serial_no]

    def _build_readings(self):
        self.values("meters")

    def _build_serials(self):
        self.values("meters")

    def _build_crews(self):
        self.values("emergencies")

    def _build_tariffs(self):
        from tests.billing.helpers import beijing

        self._add("tariffs", beijing())

    def _build_bills(self):
        from gasworks.billing import runs
        from gasworks.billing.models import Bill
        from tests.billing.helpers import local, read

        self.values("tariffs")
        read(self.own, 120, local(2026, 9, 3))
        read(self.other, 40, local(2026, 9, 4))
        with time_machine.travel(local(2026, 10, 1), tick=False):
            run = runs.execute(runs.start_run("2026-09"))
        self._add("billing", run)
        self._add("bills", *Bill.objects.filter(period="2026-09"))

    def _build_billing(self):
        self.values("bills")

    def _build_payments(self):
        from gasworks.payments import services

        cashier = self.p["cashier"]
        paid = services.take_counter_payment(self.own, "120.00", "cash", cashier)
        theirs = services.take_counter_payment(self.other, "80.00", "card", cashier)
        pending = services.create_online_order(self.own, "30.00", self.p["customer"])
        services.request_refund(paid, "10.00", "overpaid", self.admin)
        self._add("payments", paid, theirs, pending)

    def _build_cylinders(self):
        from tests.cylinders.helpers import make_cylinder, make_full

        self.ids["cylinders"] = [make_full().code, make_cylinder().code]

    def _build_lpg_orders(self):
        from gasworks.cylinders import orders
        from tests.cylinders.helpers import ensure_price, loaded

        ensure_price()
        placed = orders.place_order(self.own, "YSP35.5", 1, "phone")
        on_the_way, fulls = loaded(self.other)
        self._add("lpg-orders", placed, on_the_way)
        self.ids["cylinders"] = [*self.values("cylinders")[:-1], *(c.code for c in fulls)]

    def _build_inspections(self):
        from gasworks.safety.services import checklists, inspections

        checklists.ensure_standard()
        due = dt.date(2026, 12, 1)
        tasks = [inspections.create_task(c, due, by=self.admin) for c in (self.own, self.other)]
        self._add("inspections", *tasks)

    def _build_hazards(self):
        from gasworks.safety.services import hazards

        made = [hazards.raise_hazard(c, "ordinary", "漏气", by=self.admin) for c in (self.own, self.other)]
        self._add("hazards", *made)

    def _build_emergencies(self):
        from gasworks.safety.models import Crew
        from gasworks.safety.services import emergencies

        self._add("crews", Crew.objects.create(name="一班"))
        made = [
            emergencies.report(
                address="测试路1号", description="闻到气味", priority="high", by=self.admin, customer=c
            )
            for c in (self.own, self.other)
        ]
        self._add("emergencies", *made)


# Body fields that name another object: pointed at real ones like the path ids.
BODY_REFERENCES = {
    "customer": "customers",
    "inspector": "users",
    "worker": "users",
    "crew": "crews",
    "meter": "serials",
}


def _pick(values: list, generated, by_text: bool = False):
    """The generated value read as an index into the real ones (deterministic, so shrinking and
    derandomized runs keep working): a non-negative integer, or (by_text, for codes and serial
    numbers) a string by its length. Anything else (a negative number, a word for an id, a null)
    is left as generated, to be refused."""
    if isinstance(generated, int) and not isinstance(generated, bool) and generated >= 0:
        return values[generated % len(values)]
    if by_text and isinstance(generated, str):
        return values[len(generated) % len(values)]
    return generated


def aim(world: World, case) -> None:
    area = case.path.removeprefix("/api/v1/").split("/", 1)[0]
    for name in ("id", "code"):
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = _pick(world.values(area), case.path_parameters[name], name == "code")
    if isinstance(case.body, dict):
        for field, source in BODY_REFERENCES.items():
            if field in case.body and not isinstance(case.body[field], dict | list):
                case.body[field] = _pick(world.values(source), case.body[field], source == "serials")


@pytest.fixture
def _connection_kept():
    """Requests go through the real WSGI handler, which closes the database connection at the
    end of each request when it is not in autocommit: that would end the test's transaction (on
    PostgreSQL; SQLite's in-memory test database ignores it). Django's test client keeps it the
    same way, by unhooking close_old_connections while it calls the app."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(personas, settings, tmp_path, monkeypatch, _connection_kept):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setenv("PAYMENTS_CARD_DIR", str(tmp_path / "cards"))
    make_user("inspector")  # so an inspection task finds someone to assign
    return World(personas)


def _call_and_check(case, world, role):
    aim(world, case)
    response = case.call(headers={"Authorization": f"Token {world.tokens[role]}"})
    case.validate_response(response, checks=[response_schema_conformance, not_a_server_error])


BOUNDS = {"deadline": None, "derandomize": True, "database": None, "suppress_health_check": list(HealthCheck)}


@settings(max_examples=25, **BOUNDS)
@schema.parametrize()
def test_every_operation_as_admin_answers_without_a_server_error_and_as_documented(case, world):
    _call_and_check(case, world, "admin")


@settings(max_examples=10, **BOUNDS)
@schema.parametrize()
@pytest.mark.parametrize("role", ["cashier", "customer"])
def test_every_operation_as_cashier_or_customer_answers_without_a_server_error_and_as_documented(
    case, role, world
):
    _call_and_check(case, world, role)
