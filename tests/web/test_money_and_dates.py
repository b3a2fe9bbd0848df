"""One money format and one date format per language, on every page and PDF; a debt reads as
owed (欠费 ¥83,131.99), a credit as credit, never a bare minus."""

import io
import re
from datetime import date
from decimal import Decimal

import pypdf
import pytest
from django.urls import reverse
from django.utils import translation

from gasworks.billing import ledger, runs
from gasworks.billing.models import Bill
from gasworks.billing.pdf import render_bill
from gasworks.lib.money import format_balance, format_money, format_price
from tests.billing.helpers import beijing, local, read

pytestmark = pytest.mark.django_db


def visible(response) -> str:
    assert response.status_code == 200, response.status_code
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def get(client, url, lang):
    client.cookies["django_language"] = lang
    return visible(client.get(url))


def test_money_has_one_format_and_a_balance_says_which_way():
    assert format_money(Decimal("135844.63")) == "¥135,844.63"
    assert format_money(Decimal("-5")) == "-¥5.00"
    assert format_money("0") == "¥0.00"
    # A unit price keeps its 4 places when it has them; it is not an amount rounded to the fen.
    assert (format_price(Decimal("2.6100")), format_price(Decimal("8.1234"))) == ("¥2.61", "¥8.1234")
    with translation.override("en"):
        assert format_balance(Decimal("-83131.99")) == "Owed ¥83,131.99"
        assert format_balance(Decimal("12")) == "Credit ¥12.00"
        assert format_balance(Decimal("0")) == "¥0.00"
    with translation.override("zh-hans"):
        assert format_balance(Decimal("-83131.99")) == "欠费 ¥83,131.99"
        assert format_balance(Decimal("12")) == "余额 ¥12.00"


@pytest.fixture
def debtor(personas):
    customer = personas["other_customer"]
    ledger.post(customer, "charge", Decimal("-83131.99"), idempotency_key="debt")
    return customer


@pytest.mark.parametrize(("lang", "owed"), [("en", "Owed ¥83,131.99"), ("zh-hans", "欠费 ¥83,131.99")])
def test_the_counter_and_the_customer_page_show_a_debt_as_owed(client, personas, debtor, lang, owed):
    client.force_login(personas["cashier"])
    for url in (
        reverse("payments:counter-customer", args=[debtor.pk]),
        reverse("customer-detail", args=[debtor.pk]),
    ):
        text = get(client, url, lang)
        assert owed in text, url
        assert "¥-" not in text and "83131.99" not in text, url


def test_the_portal_shows_a_credit_as_credit(client, personas):
    ledger.post(personas["own_customer"], "payment", Decimal("1200"), idempotency_key="credit")
    client.force_login(personas["customer"])
    assert "余额 ¥1,200.00" in get(client, "/portal/", "zh-hans")
    assert "Credit ¥1,200.00" in get(client, reverse("payments:my"), "en")


def test_tariff_prices_read_as_prices(client, personas):
    beijing()
    client.force_login(personas["admin"])
    text = get(client, reverse("billing:tariff-list"), "zh-hans")
    assert "¥2.61" in text and "2.6100" not in text
    assert "居民" in text and "residential" not in text


def test_the_dashboard_and_the_arrears_page_group_thousands(client, personas, debtor):
    client.force_login(personas["admin"])
    for url in ("/", reverse("billing:overdue-list")):
        text = get(client, url, "en")
        assert not re.search(r"¥-?\d{4,}", text), (url, re.findall(r"¥-?\d{4,}[.\d]*", text))


def test_dates_have_one_format_per_language(client, personas, debtor):
    client.force_login(personas["admin"])
    customer = personas["other_customer"]
    with translation.override("en"):
        from django.template import Context, Template

        rendered = Template("{{ d|date }} {{ d }}").render(Context({"d": date(2026, 11, 16)}))
    assert rendered == "2026-11-16 2026-11-16"
    text = get(client, reverse("customer-detail", args=[customer.pk]), "en")
    assert not re.search(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}, \d{4}", text)


@pytest.mark.parametrize(("lang", "previous"), [("en", "Owed ¥594.71"), ("zh-hans", "欠费 ¥594.71")])
def test_the_bill_pdf_says_which_way_the_previous_balance_goes(lang, previous):
    beijing()
    from tests.factories import make_customer

    c = make_customer()
    ledger.post(c, "charge", Decimal("-594.71"), idempotency_key="before", at=local(2026, 9, 1))
    read(c, 10, local(2026, 10, 3))
    runs.execute(runs.start_run("2026-10"))
    bill = Bill.objects.get(customer=c)
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(render_bill(bill, lang))).pages)
    text = re.sub(r"[ \t]+", " ", text)
    assert previous in text, text
    assert "-594.71" not in text
