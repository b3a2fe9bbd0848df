"""One status-transition helper (gasworks.lib.status) for every status type of the project."""

import importlib

import pytest
from django.db import models
from django.utils.translation import override

from gasworks.errors import DomainError
from gasworks.lib.status import Transitions


class Light(models.TextChoices):
    RED = "red", "Red"
    GREEN = "green", "Green"
    OFF = "off", "Off"


LIGHTS = Transitions(
    {Light.RED: {Light.GREEN}, Light.GREEN: {Light.RED, Light.OFF}, Light.OFF: set()},
    code="bad_light",
    message="Light %(no)s cannot go from %(from)s to %(to)s.",
    labels=Light,
)


class Lamp:
    status = Light.RED


def test_it_moves_along_the_table_and_refuses_the_rest_with_its_code_and_labels():
    lamp = Lamp()
    LIGHTS.move(lamp, Light.GREEN, no=7)
    assert lamp.status == Light.GREEN
    LIGHTS.move(lamp, Light.OFF, no=7)
    with pytest.raises(DomainError) as refused:
        LIGHTS.move(lamp, Light.RED, no=7)
    assert refused.value.code == "bad_light" and refused.value.status == 409
    assert refused.value.message == "Light 7 cannot go from Off to Red."
    assert lamp.status == Light.OFF  # unchanged


def test_it_reads_as_the_plain_table_it_replaces():
    assert LIGHTS[Light.OFF] == set() and Light.GREEN in LIGHTS[Light.RED]
    assert LIGHTS.allows("red", "green") and not LIGHTS.allows("unknown", "red")
    raw = Transitions({"a": ["b"]}, code="x", message="%(from)s → %(to)s")
    with pytest.raises(DomainError) as refused:
        raw.check("b", "a")
    assert refused.value.message == "b → a"  # no labels: the values


# Every status table of the project, with the code its API error has always had.
TABLES = [
    ("gasworks.payments.models", "TRANSITIONS", "illegal_transition"),
    ("gasworks.payments.models", "REFUND_TRANSITIONS", "illegal_transition"),
    ("gasworks.billing.models", "RUN_TRANSITIONS", "illegal_run_transition"),
    ("gasworks.cylinders.models", "TRANSITIONS", "illegal_transition"),
    ("gasworks.cylinders.models", "ORDER_TRANSITIONS", "illegal_transition"),
    ("gasworks.metering.services", "REVIEW_TRANSITIONS", "wrong_state"),
    ("gasworks.safety.models", "TASK_TRANSITIONS", "invalid_transition"),
    ("gasworks.safety.models", "HAZARD_TRANSITIONS", "invalid_transition"),
    ("gasworks.safety.models", "EMERGENCY_TRANSITIONS", "invalid_transition"),
    ("gasworks.customers.models", "TRANSITIONS", "illegal_status_change"),
]


@pytest.mark.parametrize(("module", "name", "code"), TABLES)
def test_every_status_table_is_a_transitions_table(module, name, code):
    table = getattr(importlib.import_module(module), name)
    assert isinstance(table, Transitions) and table.code == code


def test_the_messages_are_translated():
    from gasworks.payments.models import TRANSITIONS, PaymentStatus

    with override("zh-hans"), pytest.raises(DomainError) as refused:
        TRANSITIONS.check(PaymentStatus.FAILED, PaymentStatus.SUCCEEDED)
    assert "cannot" not in refused.value.message
