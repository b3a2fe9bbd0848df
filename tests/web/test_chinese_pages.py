"""The demo in Chinese: every role's main pages show no English code or English data. Codes
(categories, gas uses, VEE flags, payment methods, statuses, parameter groups...) go through
their translated labels; the demo's own data (station name, checklist) is Chinese."""

import io
import re

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import translation

from gasworks.accounts.demo import DEMO_USERS
from gasworks.billing.models import Bill
from gasworks.customers.management.commands.seed_demo import DEMO_STATION_NAME
from gasworks.customers.models import Customer
from gasworks.metering.models import Meter
from gasworks.metering.vee import RULES
from gasworks.payments.models import Shift
from gasworks.safety.services.checklists import STANDARD_ITEMS
from gasworks.system import parameters

pytestmark = pytest.mark.django_db

# Visible English that is right on a Chinese page: the product's name, the language switch,
# units and abbreviations.
ALLOWED = {"gasworks", "english", "pdf", "id", "kg", "api", "lpg", "csv", "xlsx", "qr", "ic"}


def codes() -> set[str]:
    """Every stored code people could be shown raw: choice values whose label is not the code."""
    found = set(RULES) | {spec.group for spec in parameters.REGISTRY.values()}
    for model in apps.get_models():
        if not model.__module__.startswith("gasworks."):
            continue
        for field in model._meta.get_fields():
            for value, label in getattr(field, "flatchoices", None) or ():
                if isinstance(value, str) and re.fullmatch(r"[a-z][a-z_]{2,}", value) and str(label) != value:
                    found.add(value)
    return found - ALLOWED - {username for username, _role, _name in DEMO_USERS}


def visible(html: str) -> str:
    html = re.sub(r"<(script|style|code)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def pages_of(client, role: str) -> list[str]:
    urls = [
        "/",
        *re.findall(
            r'<a class="nav-link[^"]*" href="(/[^"?#]*)"', client.get("/", follow=True).content.decode()
        ),
    ]
    customer = Customer.objects.filter(account__balance__lt=0).order_by("pk").first()
    extra = {
        "cashier": [f"/payments/counter/{customer.pk}/", f"/customers/{customer.pk}/"]
        + [f"/payments/shifts/{s.pk}/" for s in Shift.objects.filter(status="closed")[:1]],
        "meter_reader": [
            f"/metering/meters/{m.pk}/" for m in Meter.objects.filter(readings__status="flagged")[:1]
        ],
        "admin": ["/system/parameters/", "/system/audit/", "/billing/tariffs/"]
        + [f"/billing/bills/{b.pk}/" for b in Bill.objects.all()[:1]],
    }
    return list(dict.fromkeys(urls + extra.get(role, [])))


def test_every_role_sees_chinese_only(client):
    call_command("seed_demo", stdout=io.StringIO())
    with translation.override("en"):  # the English texts, whatever language a test left active
        english_data = {str(label) for _code, label, _level in STANDARD_ITEMS} | {"Gasworks Demo Gas Station"}
    seen = set()
    words = codes()
    pattern = re.compile(
        r"(?<![\w@./:-])(" + "|".join(sorted(words, key=len, reverse=True)) + r")(?![\w@.-])"
    )
    leaks = {}
    client.cookies["django_language"] = "zh-hans"
    for username, role, _name in DEMO_USERS:
        client.force_login(apps.get_model("accounts", "User").objects.get(username=username))
        client.cookies["django_language"] = "zh-hans"
        for url in pages_of(client, role):
            response = client.get(url)
            if response.status_code != 200 or "text/html" not in response["Content-Type"]:
                continue
            seen.add(url)
            text = visible(response.content.decode())
            if url == "/":
                assert DEMO_STATION_NAME in text
            if url == "/system/parameters/":  # the defaults column shows the built-in default
                text = text.replace("Gasworks Demo Gas Station", "")
            found = set(pattern.findall(text)) | {e for e in english_data if e in text}
            if found:
                leaks[(role, url)] = sorted(found)
    assert not leaks, leaks
    assert len(seen) >= 30, seen


def test_the_reader_is_told_why_a_reading_is_flagged_in_chinese(client, personas):
    from django.utils import timezone

    from tests.metering.helpers import at, make_meter, monthly

    meter = make_meter()
    last = monthly(meter)[-1]
    client.force_login(personas["meter_reader"])
    client.cookies["django_language"] = "zh-hans"
    taken = timezone.localtime(at(180)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/metering/readings/new/",
        {"meter": meter.serial_no, "value": str(last.value + 500), "taken_at": taken, "reason": "periodic"},
        follow=True,
    )
    text = visible(response.content.decode())
    assert "已保存，但已标记待复核：突增（远超平时用量）" in text, text[:2000]
    assert "spike" not in text
