"""The supply–sales balance (供销差): supply from the supply meters at base conditions, sales
from issued bills, loss and loss % to the rounding rule, the alarm flag at its threshold, the
suspect meters of a district, and who may see them."""

import datetime as dt
import io
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from django.utils import timezone

from gasworks.billing import runs
from gasworks.billing.models import Bill
from gasworks.metering import services
from gasworks.metering.models import AlertKind, Meter, Reading, TamperAlert
from gasworks.reports.framework import REPORTS, parse_params
from gasworks.reports.supply_balance import suspects
from gasworks.reports.supply_balance.report import _billed_volume
from gasworks.system.services import set_parameters
from tests.billing.helpers import beijing, flat, local
from tests.factories import make_customer, make_user
from tests.metering.helpers import make_meter

pytestmark = pytest.mark.django_db
A, B = "朝阳区", "海淀区"
BILLABLE = ("accepted", "approved", "estimated")


@pytest.fixture(autouse=True)
def _frozen(request):
    if "_real_time" in request.fixturenames:  # the demo is dated from today
        yield
        return
    with time_machine.travel(local(2026, 4, 5), tick=False):
        yield


@pytest.fixture
def _real_time():
    return None


def report():
    return REPORTS["supply-balance"]


def run(query):
    return report().run(parse_params(report(), query))


def customer_in(district, category="residential", **kw):
    return make_customer(
        address=f"北京市{district}测试路{Meter.objects.count()}号", district=district, category=category, **kw
    )


def readings(meter, values, days):
    for value, day in zip(values, days, strict=True):
        services.record_reading(meter, str(value), day)


def gate(serial, district, **kw):
    kw.setdefault("installed_on", dt.date(2025, 12, 1))
    kw.setdefault("initial_reading", Decimal("1000"))
    kw.setdefault("max_flow_m3h", Decimal("800"))
    return services.install_meter(serial, None, kind="district", digits=8, district=district, **kw)


def world():
    """Two districts over January–March 2026: customers' meters, billed monthly; A has two supply
    meters (one correcting by P/T sent with each reading, one by a fixed factor); B one without
    correction and no reading in March; one of B's February bills is void."""
    beijing()
    flat("commercial")
    days = [local(2026, 1, 10), local(2026, 2, 10), local(2026, 3, 10)]
    c1, c2, c3 = customer_in(A), customer_in(A, "commercial"), customer_in(B)
    readings(make_meter(c1, initial_reading=Decimal(0)), [20, 45, 70], days)
    readings(make_meter(c2, initial_reading=Decimal(0), max_flow_m3h=Decimal(40)), [300, 620, 900], days)
    readings(make_meter(c3, initial_reading=Decimal(0)), [30, 60, 95], days)
    g1 = gate("GATE-A1", A)
    for value, at, p, t in (
        ("1110", timezone.make_aware(dt.datetime(2026, 1, 31, 23, 30)), "2.0", "5"),
        # 00:30 local on 1 February is still 31 January in UTC: it belongs to February.
        ("1112", timezone.make_aware(dt.datetime(2026, 2, 1, 0, 30)), "2.1", "4.5"),
        ("1480", local(2026, 2, 28, 22), "1.9", "6"),
        ("1790", local(2026, 3, 31, 20), "2.2", "12"),
    ):
        services.record_reading(g1, value, at, pressure_kpa=p, temperature_c=t)
    g2 = gate("GATE-A2", A, correction_factor=Decimal("1.020000"), initial_reading=Decimal(0))
    readings(g2, [100, 300], [local(2026, 1, 15), local(2026, 3, 15)])
    g3 = gate("GATE-B1", B, initial_reading=Decimal(0))
    readings(g3, [33, 64], [local(2026, 1, 20), local(2026, 2, 20)])
    for period in ("2026-01", "2026-02", "2026-03"):
        runs.execute(runs.start_run(period))
    Bill.objects.filter(customer=c3, period="2026-02").update(status="void")
    return {"c1": c1, "c2": c2, "c3": c3}


def expected():
    """Independent sums: supply from the supply meters' billable readings by local month,
    sales from issued bills by the customer's district."""
    supply, sales = {}, {}
    for r in Reading.objects.filter(meter__kind="district", status__in=BILLABLE).select_related("meter"):
        key = (r.meter.district, timezone.localtime(r.taken_at).strftime("%Y-%m"))
        volume = r.corrected_consumption if r.corrected_consumption is not None else r.consumption
        supply[key] = supply.get(key, Decimal(0)) + volume
    for bill in Bill.objects.filter(status="issued").select_related("customer__premises"):
        key = (bill.customer.premises.district, bill.period)
        sales[key] = sales.get(key, Decimal(0)) + bill.volume
    return supply, sales


def test_supply_sales_loss_and_loss_pct_equal_independent_sums():
    world()
    supply, sales = expected()
    result = run({"from": "2026-01", "to": "2026-03"})
    assert {(r["district"], r["period"]) for r in result.rows} == set(supply) | set(sales)
    assert (A, "2026-02") in supply and supply[(A, "2026-02")] != supply.get((A, "2026-01"))
    for row in result.rows:
        key = (row["district"], row["period"])
        assert row["supply"] == supply.get(key)
        assert row["sales"] == sales.get(key, Decimal(0))
        if row["supply"] is None:
            assert row["loss"] is None and row["loss_pct"] is None and row["flagged"] is False
            continue
        loss = supply[key] - sales.get(key, Decimal(0))
        assert row["loss"] == loss
        assert row["loss_pct"] == (loss * 100 / supply[key]).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert row["flagged"] is (row["loss_pct"] > Decimal("5"))
    # B had no supply reading in March: supply empty, not flagged, sales still shown.
    march_b = next(r for r in result.rows if (r["district"], r["period"]) == (B, "2026-03"))
    assert march_b["supply"] is None and march_b["sales"] == Decimal("35.000")
    # The void bill is not a sale.
    assert sales[(B, "2026-02")] == Decimal(0) if (B, "2026-02") in sales else True
    feb_b = next(r for r in result.rows if (r["district"], r["period"]) == (B, "2026-02"))
    assert feb_b["sales"] == Decimal("0") and feb_b["supply"] == Decimal("31.000")
    # Ranked by loss %, rows without supply last.
    ranked = [r["loss_pct"] for r in result.rows]
    measured = [p for p in ranked if p is not None]
    assert measured == sorted(measured, reverse=True) and ranked[len(measured) :] == [None] * (
        len(ranked) - len(measured)
    )
    assert result.total["supply"] == sum(supply.values())
    assert result.total["sales"] == sum(sales.values())


def test_billed_volume_sums_issued_bills_by_district_and_period():
    world()
    _supply, sales = expected()
    assert _billed_volume("2026-01", "2026-03") == sales
    assert _billed_volume("2026-02", "2026-02") == {k: v for k, v in sales.items() if k[1] == "2026-02"}


def test_a_district_filter_keeps_only_its_rows():
    world()
    rows = run({"from": "2026-01", "to": "2026-03", "district": B}).rows
    assert {r["district"] for r in rows} == {B} and len(rows) == 3


def one_district(loss_litres=30):
    """丰台区: supply 1000 m³ in January (no correction) against a bill of 1000 − loss."""
    flat("commercial")
    shop = customer_in("丰台区", "commercial")
    meter = make_meter(shop, initial_reading=Decimal(0), max_flow_m3h=Decimal(100))
    services.record_reading(meter, str(1000 - loss_litres), local(2026, 1, 10))
    supply = gate("GATE-F1", "丰台区", initial_reading=Decimal(0))
    services.record_reading(supply, "1000", local(2026, 1, 31))
    runs.execute(runs.start_run("2026-01"))


@pytest.mark.parametrize(("threshold", "flagged"), [("2.99", True), ("3.00", False), ("3.01", False)])
def test_the_flag_is_for_a_loss_above_the_threshold(threshold, flagged):
    one_district(30)
    set_parameters({"supply_loss_alarm_pct": threshold})
    (row,) = run({"from": "2026-01", "to": "2026-01"}).rows
    assert (row["supply"], row["sales"], row["loss"], row["loss_pct"]) == (
        Decimal("1000.000"),
        Decimal("970.000"),
        Decimal("30.000"),
        Decimal("3.00"),
    )
    assert row["flagged"] is flagged


def test_the_api_answers_codes_and_decimal_strings(admin_client):
    one_district(45)
    body = admin_client.get("/api/v1/reports/supply-balance/?from=2026-01&to=2026-01").json()
    assert body["rows"] == [
        {
            "district": "丰台区",
            "period": "2026-01",
            "supply": "1000.000",
            "sales": "955.000",
            "loss": "45.000",
            "loss_pct": "4.50",
            "flagged": False,
        }
    ]
    assert body["total"]["loss_pct"] == "4.50"
    assert admin_client.get("/api/v1/reports/supply-balance/?from=2026-13").status_code == 400


# ---------------------------------------------------------------- suspects


def planted():
    """District A's meters: a normal one, a tampered one (open magnet alert, its use down to a
    trickle after two normal months), one far below the same month last year, one standing still
    for months, one with a flagged reading; and a tampered-looking one in district B."""
    people = world()
    days = [local(2026, 1, 10), local(2026, 2, 10), local(2026, 3, 10)]
    tampered_customer = customer_in(A)
    tampered = make_meter(tampered_customer, initial_reading=Decimal(0))
    readings(tampered, [30, 60, 62], days)
    TamperAlert.objects.create(
        meter=tampered, customer=tampered_customer, kind=AlertKind.MAGNET, raised_at=local(2026, 3, 10)
    )
    dropped_customer = customer_in(A)
    dropped = make_meter(dropped_customer, initial_reading=Decimal(0), installed_on=dt.date(2025, 1, 1))
    for day, value, used in (
        (local(2025, 2, 10), 40, 40),
        (local(2025, 3, 10), 90, 50),
        (local(2026, 2, 10), 500, 45),
        (local(2026, 3, 10), 510, 10),
    ):
        Reading.objects.create(
            meter=dropped, customer=dropped_customer, value=value, taken_at=day, consumption=used
        )
    still_customer = customer_in(A)
    still = make_meter(still_customer, initial_reading=Decimal(5), installed_on=dt.date(2025, 10, 1))
    for month in (12, 1, 2, 3):
        day = local(2025 if month == 12 else 2026, month, 5)
        Reading.objects.create(meter=still, customer=still_customer, value=5, taken_at=day, consumption=0)
    flagged_customer = customer_in(A)
    flagged = make_meter(flagged_customer, initial_reading=Decimal(0))
    readings(flagged, [20, 40], days[:2])
    Reading.objects.create(
        meter=flagged, customer=flagged_customer, value=400, taken_at=days[2], consumption=360,
        status="flagged", flags=["spike"],
    )  # fmt: skip
    elsewhere_customer = customer_in(B)
    elsewhere = make_meter(elsewhere_customer)
    TamperAlert.objects.create(
        meter=elsewhere, customer=elsewhere_customer, kind=AlertKind.MAGNET, raised_at=local(2026, 3, 1)
    )
    normal = Meter.objects.get(premises=people["c1"].premises)
    return {"tampered": tampered, "dropped": dropped, "still": still, "flagged": flagged, "normal": normal}


def test_suspects_list_the_planted_meters_with_their_reasons_and_not_a_normal_one():
    meters = planted()
    found = suspects.find(A, "2026-03", "2026-03")
    by_meter = {s.meter_id: s for s in found}
    assert set(by_meter) == {meters[k].pk for k in ("tampered", "dropped", "still", "flagged")}
    assert meters["normal"].pk not in by_meter
    assert by_meter[meters["tampered"].pk].codes == ["tamper", "drop"]
    assert found[0].meter_id == meters["tampered"].pk  # the most suspect first
    assert "2.000" in by_meter[meters["tampered"].pk].reasons["drop"]
    dropped = by_meter[meters["dropped"].pk]
    assert dropped.codes == ["drop"] and dropped.compared == Decimal("50")
    assert "last year" in dropped.reasons["drop"]
    assert by_meter[meters["still"].pk].codes == ["zero_use"]
    assert by_meter[meters["flagged"].pk].codes == ["flagged"]
    # In February the tampered meter still used its usual volume and had no alert yet.
    february = {s.meter_id for s in suspects.find(A, "2026-02", "2026-02")}
    assert meters["tampered"].pk not in february


def test_the_suspects_page_explains_each_meter_and_links_to_it(admin_client):
    meters = planted()
    page = admin_client.get(f"/reports/supply-balance/suspects/?district={A}&from=2026-03&to=2026-03")
    text = page.content.decode()
    assert page.status_code == 200
    assert f"/metering/meters/{meters['tampered'].pk}/" in text
    tampered_customer = Meter.objects.get(pk=meters["tampered"].pk).readings.first().customer
    assert f"/customers/{tampered_customer.pk}/" in text
    assert meters["normal"].serial_no not in text
    assert 'data-reason="tamper"' in text and 'data-testid="suspect-rules"' in text
    report_page = admin_client.get("/reports/supply-balance/?from=2026-01&to=2026-03").content.decode()
    assert "/reports/supply-balance/suspects/?district=" in report_page


@pytest.mark.parametrize("role", ["customer", "cashier", "filler", "meter_reader"])
def test_roles_without_the_permission_get_403(client, role):
    client.force_login(make_user(role))
    assert client.get("/reports/supply-balance/").status_code == 403
    assert client.get("/api/v1/reports/supply-balance/").status_code == 403
    assert client.get(f"/reports/supply-balance/suspects/?district={A}").status_code == 403


# ---------------------------------------------------------------- demo


@pytest.mark.usefixtures("_real_time")
def test_the_demo_shows_a_plausible_loss_and_flags_the_tampered_district():
    from gasworks.billing.web_hooks import seed_tariffs
    from gasworks.metering import demo

    seed_tariffs()
    for index in range(24):
        customer_in(A, "commercial" if index in (3, 9) else "residential")
    for _index in range(8):
        customer_in(B)
    out = io.StringIO()
    demo.seed(out)
    demo.seed_supply(out)
    assert Meter.objects.filter(kind="district").count() == 2 and "2 district supply meters" in out.getvalue()
    months = sorted({timezone.localtime(r.taken_at).strftime("%Y-%m") for r in Reading.objects.all()})
    for period in months[1:]:
        runs.execute(runs.start_run(period))
    rows = run({"from": months[1], "to": months[-1]}).rows
    flagged = {(r["district"], r["period"]) for r in rows if r["flagged"]}
    assert flagged == {(A, period) for period in months[-demo.TAMPER_MONTHS :]}
    for row in rows:
        if not row["flagged"]:
            assert Decimal("1.9") <= row["loss_pct"] <= Decimal("4.1"), row
    (suspect, *_rest) = suspects.find(A, months[-1], months[-1])
    assert suspect.codes[0] == "tamper" and TamperAlert.objects.get().meter_id == suspect.meter_id
