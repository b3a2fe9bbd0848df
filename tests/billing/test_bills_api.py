import io
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from pypdf import PdfReader

from gasworks.billing import runs
from gasworks.billing.models import Bill, BillingRun
from gasworks.billing.pdf import render_bill
from tests.billing.helpers import beijing, local, read

pytestmark = pytest.mark.django_db


@pytest.fixture
def billed(personas):
    beijing()
    read(personas["own_customer"], 300, local(2026, 9, 3))
    read(personas["other_customer"], 40, local(2026, 10, 3))
    with time_machine.travel(local(2026, 10, 1), tick=False):
        runs.execute(runs.start_run("2026-09"))
    read(personas["own_customer"], 100, local(2026, 10, 3), value=Decimal("1500"))
    with time_machine.travel(local(2026, 11, 1), tick=False):
        runs.execute(runs.start_run("2026-10"))
    return {
        "own": Bill.objects.get(customer=personas["own_customer"], period="2026-10"),
        "other": Bill.objects.get(customer=personas["other_customer"], period="2026-10"),
    }


def test_it_starts_a_run_through_the_api(admin_client, personas):
    beijing()
    read(personas["own_customer"], 10, local(2026, 10, 3))
    url = "/api/v1/billing/runs/"
    with time_machine.travel(local(2026, 11, 2), tick=False):
        response = admin_client.post(url, {"period": "2026-10"}, content_type="application/json")
        assert response.status_code == 202
        body = admin_client.get(f"{url}{response.json()['id']}/").json()
        assert (body["period"], body["status"], body["bills_created"], body["accounts_total"]) == (
            "2026-10",
            "done",
            1,
            1,
        )
        again = admin_client.post(url, {"period": "2026-10"}, content_type="application/json")
    assert again.json()["bills_created"] == 0 and Bill.objects.count() == 1


def test_it_refuses_an_unknown_period_with_a_400(admin_client):
    response = admin_client.post(
        "/api/v1/billing/runs/", {"period": "2026-13"}, content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_period"
    assert not BillingRun.objects.exists()


def test_it_lists_bills_with_lines(admin_client, billed, personas):
    data = admin_client.get(f"/api/v1/bills/?customer={personas['own_customer'].pk}&period=2026-10").json()
    assert data["count"] == 1
    bill = data["results"][0]
    assert (bill["volume"], bill["total"], bill["status"]) == ("100.000", "272.00", "issued")
    assert bill["lines"] == [
        {"tier": 1, "volume": "50.000", "unit_price": "2.6100", "amount": "130.50"},
        {"tier": 2, "volume": "50.000", "unit_price": "2.8300", "amount": "141.50"},
    ]


def test_it_shows_a_customer_only_its_own_bills(client, billed, personas):
    client.force_login(personas["customer"])
    listed = client.get("/api/v1/bills/").json()
    assert {b["customer"] for b in listed["results"]} == {personas["own_customer"].pk}
    assert client.get(f"/api/v1/bills/{billed['own'].pk}/").status_code == 200
    assert client.get(f"/api/v1/bills/{billed['other'].pk}/").status_code == 404
    assert client.get(f"/api/v1/bills/{billed['other'].pk}/pdf/").status_code == 404
    assert client.get(f"/billing/bills/{billed['other'].pk}/").status_code == 404
    assert client.get(f"/billing/bills/{billed['own'].pk}/pdf/").status_code == 200


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_it_renders_the_bill_pdf_in_chinese_and_english(billed):
    bill = billed["own"]
    chinese = _text(render_bill(bill, "zh-hans"))
    for expected in (
        "燃气费账单",
        "用气量",
        "阶梯",
        "应缴金额",
        "缴费截止日",
        "上期余额",
        "2026-10",
        "130.50",
        "141.50",
        "272.00",
        bill.customer.name,
    ):
        assert expected in chinese, expected
    assert "1400.000" in chinese and "1500.000" in chinese  # the reading pair
    english = _text(render_bill(bill, "en"))
    assert "Gas bill" in english and "Amount due" in english and "2026-11-16" in english


def test_it_serves_the_pdf_and_it_renders_to_an_image(admin_client, billed, tmp_path):
    response = admin_client.get(f"/api/v1/bills/{billed['own'].pk}/pdf/?lang=zh-hans")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "bill.pdf"
    pdf.write_bytes(response.content)
    out = Path("var/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", str(pdf), str(out / "bill")], check=True)
    assert (out / "bill.png").stat().st_size > 10_000


def test_it_shows_bills_on_the_customer_page(admin_client, billed, personas):
    page = admin_client.get(f"/customers/{personas['own_customer'].pk}/").content.decode()
    assert f"/billing/bills/{billed['own'].pk}/" in page
