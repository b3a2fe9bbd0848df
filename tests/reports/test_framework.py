"""The report frame: params validated to 400s, JSON codes and decimal strings, the page with its
filters, chart, drill-down, export and print, and the same rows in every form."""

import csv
import io
import json
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.utils.translation import gettext_lazy as _

from gasworks.customers.models import Category
from gasworks.reports import framework
from gasworks.reports.framework import Chart, Column, Report, Result
from tests.factories import make_user

pytestmark = pytest.mark.django_db


class Sample(Report):
    name = "sample-test"
    title = _("Reports")
    permission = "reports.view_sales_report"
    period = "month"
    group_by = ("category", "period")
    filters = ("category", "district")

    def filter_choices(self, name):
        return list(Category.choices) if name == "category" else []

    def run(self, params):
        self.seen = params
        columns = [
            Column("category", _("Category"), "code", Category.choices),
            Column("volume", _("Volume"), "volume"),
            Column("amount", _("Amount"), "money"),
        ]
        rows = [
            {"category": "residential", "volume": Decimal("12.345"), "amount": Decimal("30.10")},
            {"category": "commercial", "volume": Decimal("1"), "amount": Decimal("4.5")},
        ]
        total = {"volume": Decimal("13.345"), "amount": Decimal("34.60")}
        return Result(columns, rows, total, Chart("bar", "category", ("amount",)))

    def drill(self, params, row):
        return f"/customers/?category={row['category']}"


@pytest.fixture
def sample():
    report = framework.register(Sample())
    yield report
    framework.REPORTS.pop(report.name)


@pytest.fixture
def viewer():
    user = make_user("cashier")
    user.user_permissions.add(Permission.objects.get(codename="view_sales_report"))
    return user


def test_params_are_validated_and_bad_ones_refused(sample):
    params = framework.parse_params(sample, {"from": "2026-01", "to": "2026-03", "category": "residential"})
    assert (params.period_from, params.period_to, params.group_by) == ("2026-01", "2026-03", "category")
    assert params.filters == {"category": "residential"}
    for bad in (
        {"from": "2026-13"},
        {"from": "2026-03", "to": "2026-01"},
        {"group_by": "tier"},
        {"category": "martian"},
        {"district": "x" * 65},
    ):
        with pytest.raises(framework.ValidationError):
            framework.parse_params(sample, bad)


def test_api_gives_codes_and_decimal_strings_and_400_403(client, sample, viewer):
    client.force_login(viewer)
    body = client.get("/api/v1/reports/sample-test/?from=2026-01&to=2026-02").json()
    assert body["rows"][0] == {"category": "residential", "volume": "12.345", "amount": "30.10"}
    assert body["total"] == {"category": None, "volume": "13.345", "amount": "34.60"}
    assert client.get("/api/v1/reports/sample-test/?from=2026-99").status_code == 400
    assert client.get("/api/v1/reports/sample-test/?format=pdf").status_code == 400
    assert client.get("/api/v1/reports/nope/").status_code == 404
    client.force_login(make_user("filler"))
    assert client.get("/api/v1/reports/sample-test/").status_code == 403
    client.force_login(make_user("customer"))
    assert client.get("/api/v1/reports/sample-test/").status_code == 403


def test_csv_and_xlsx_hold_the_same_rows_and_totals(client, sample, viewer):
    client.force_login(viewer)
    text = client.get("/api/v1/reports/sample-test/?format=csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["category", "volume", "amount"],
        ["residential", "12.345", "30.10"],
        ["commercial", "1.000", "4.50"],
        ["total", "13.345", "34.60"],
    ]
    response = client.get(
        "/reports/sample-test/?format=xlsx&category=residential", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    values = [list(r) for r in book.active.iter_rows(values_only=True)]
    assert values[0][0] == "报表"  # the report's title heads the sheet, in the user's language
    assert any(r[0] == "用户类别: 居民" for r in values)  # and the filters, by their labels
    header = next(i for i, r in enumerate(values) if r[1] is not None)
    assert values[header + 1][1:] == [12.345, 30.10]
    assert values[-1][1:] == [13.345, 34.60]
    assert book.active.cell(header + 2, 3).number_format == "#,##0.00"


def test_page_shows_filters_table_totals_chart_drill_and_print(client, sample, viewer):
    client.force_login(viewer)
    page = client.get("/reports/sample-test/?from=2026-01&to=2026-02").content.decode()
    assert 'data-testid="report-total"' in page and 'href="/customers/?category=residential"' in page
    chart = json.loads(page.split('data-chart="')[1].split('"')[0].replace("&quot;", '"'))
    assert chart["series"][0]["data"] == [30.1, 4.5]
    assert "format=xlsx" in page and "/reports/sample-test/print/" in page
    bad = client.get("/reports/sample-test/?from=2026-99").content.decode()
    assert 'data-testid="report-errors"' in bad
    printed = client.get("/reports/sample-test/print/?from=2026-01&to=2026-02").content.decode()
    assert "2026-01" in printed and 'data-testid="report-table"' in printed
    client.force_login(make_user("filler"))
    assert client.get("/reports/sample-test/").status_code == 403


def test_table_cells_are_formatted_per_kind_and_escaped(client, sample, viewer):
    # The cells are written in Python (one HTML string per row): each kind keeps its format
    # and class, and a label is escaped like any template variable.
    client.force_login(viewer)
    page = client.get("/reports/sample-test/?from=2026-01&to=2026-02").content.decode()
    assert '<td class="text-end">12.345</td><td class="text-end">¥30.10</td>' in page
    assert '<td class="text-end">1.000</td><td class="text-end">¥4.50</td>' in page
    assert "<td>Residential</td>" in page
    assert '<td class="text-end">13.345</td>' in page  # the total
    original = Sample.run

    def hostile(self, params):
        result = original(self, params)
        result.rows[0]["category"] = "<script>x</script>"
        return result

    Sample.run = hostile
    try:
        page = client.get("/reports/sample-test/?from=2026-01&to=2026-02").content.decode()
    finally:
        Sample.run = original
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
