"""Revenue and collections: exact against sums taken independently from the ledger (in Python,
entry by entry) for a month of payments on every channel, refunds, reversals and payments at the
edges of the local day; the rollup and the live path agree; the daily collection report equals
the shift closes; a cashier sees only their own; customers are refused."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.utils import timezone

from gasworks.billing import ledger
from gasworks.billing.models import EntryKind, LedgerEntry
from gasworks.payments import cards, channels, services
from gasworks.payments.gateways import sandbox
from gasworks.payments.models import Payment, Refund, Shift, ShiftStatus
from gasworks.reports import rollups
from gasworks.reports.collections import store
from gasworks.reports.collections.figures import Query, collect
from gasworks.reports.framework import REPORTS, parse_params
from gasworks.reports.models import RollupState
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db
TZ = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai has no daylight saving
MARCH = [dt.date(2026, 3, d) for d in range(1, 32)]
BILLED = {EntryKind.CHARGE, EntryKind.LATE_FEE, EntryKind.PREPAID_CHARGE, EntryKind.LPG_SALE}


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _card_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PAYMENTS_CARD_DIR", str(tmp_path / "cards"))


def grant(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return type(user).objects.get(pk=user.pk)  # a fresh object: permissions are cached


@pytest.fixture
def people(db):
    return {
        "ana": make_user("cashier", username="ana"),
        "bo": make_user("cashier", username="bo"),
        "res": make_customer(category="residential", district="东城"),
        "com": make_customer(category="commercial", district="西城"),
        "ind": make_customer(category="industrial", district="东城"),
        "web": make_user("customer"),
    }


def _online(customer, by, amount):
    order = services.create_online_order(customer, amount, by, gateway="sandbox")
    services.handle_callback("sandbox", *sandbox.SandboxGateway().pay(order))
    return Payment.objects.get(pk=order.pk)


@pytest.fixture
def month(people):
    """A month of mixed activity, each step at its own local time."""
    ana, bo, res, com, ind = (people[k] for k in ("ana", "bo", "res", "com", "ind"))
    card = cards.issue_card(res, ana)
    made = {}
    for i, day in enumerate(MARCH):
        with time_machine.travel(local(day, 8, 5), tick=False):
            ledger.post(res, EntryKind.CHARGE, Decimal(-100 - i), idempotency_key=f"test-bill:{day}:r")
            if i % 3 == 0:
                ledger.post(com, EntryKind.CHARGE, Decimal("-512.37"), idempotency_key=f"test-bill:{day}:c")
        with time_machine.travel(local(day, 9, 30), tick=False):
            services.take_counter_payment(res, Decimal("50.10") + i, "cash", ana, tendered="200")
            services.take_counter_payment(com, "300.05", "card", bo)
        with time_machine.travel(local(day, 11), tick=False):
            if i % 2 == 0:
                services.take_counter_payment(ind, "1000.99", "bank", ana)
            if i % 5 == 0:
                cards.top_up(card, "40.40", "cash", bo)  # a payment and a prepaid charge
            if i % 4 == 0:
                _online(res, people["web"], "66.66")
            if i % 6 == 0:
                services.record_bank_payment(com, "700.70", f"B{day:%Y%m%d}", by=ana)
        with time_machine.travel(local(day, 17, 30), tick=False):
            for who in (ana, bo):
                shift = Shift.objects.filter(cashier=who, status=ShiftStatus.OPEN).first()
                if shift:
                    services.close_shift(shift, who)
    with time_machine.travel(local(MARCH[4], 10), tick=False):
        late = ledger.post(ind, EntryKind.LATE_FEE, Decimal("-12.34"), idempotency_key="test-late")
        ledger.post(com, EntryKind.LPG_SALE, Decimal("-220.00"), idempotency_key="test-lpg")
        ledger.post(com, EntryKind.DEPOSIT, Decimal("-100.00"), idempotency_key="test-deposit")
        ledger.post(res, EntryKind.ADJUSTMENT, Decimal("5.00"), idempotency_key="test-adjust")
    with time_machine.travel(local(MARCH[9], 12), tick=False):
        # A refund paid out on the 10th of a payment taken on the 2nd; an online one too.
        paid = Payment.objects.filter(method="cash", customer=res, purpose="account").order_by("pk")[1]
        made["refund"] = services.request_refund(paid, "20.00", "overpaid", ana)
        online = Payment.objects.filter(method="online").order_by("pk").first()
        services.request_refund(online, "6.66", "double order", ana)
        ledger.reverse(late, "waived")
        bill = LedgerEntry.objects.get(idempotency_key=f"test-bill:{MARCH[3]}:r")
        ledger.reverse(bill, "meter misread")
    with time_machine.travel(local(MARCH[11], 15), tick=False):
        # A bank transfer booked to the wrong account, reversed.
        wrong = Payment.objects.filter(gateway="bank").order_by("pk").first()
        made["reversed"] = ledger.reverse(
            LedgerEntry.objects.get(idempotency_key=f"payment:{wrong.pk}"), "wrong account"
        )
    # The edges of the local day: 23:30 on the 15th is the 15th; 00:30 on the 16th (16:30 UTC on
    # the 15th) is the 16th; 23:30 on the 31st is March; 00:30 on 1 April is not.
    for when in (
        local(MARCH[14], 23, 30),
        local(MARCH[15], 0, 30),
        local(MARCH[30], 23, 30),
        local(dt.date(2026, 4, 1), 0, 30),
    ):
        with time_machine.travel(when, tick=False):
            services.take_counter_payment(ind, "77.77", "cash", bo)
    with time_machine.travel(local(MARCH[30], 23, 40), tick=False):
        for who in (ana, bo):
            shift = Shift.objects.filter(cashier=who, status=ShiftStatus.OPEN).first()
            if shift:
                services.close_shift(shift, who)
    return made


# --- the independent sums: entry by entry, in Python ------------------------------------------


def payment_of(entry, cache={}):  # noqa: B006 (a per-call cache would do; this one is per test run)
    key = entry.idempotency_key
    if entry.kind == EntryKind.REVERSAL:
        return payment_of(entry.reverses)
    if key.startswith("payment:"):
        return Payment.objects.get(pk=int(key.split(":")[1]))
    return Refund.objects.get(pk=int(key.split(":")[1])).payment


def expected(group, start=MARCH[0], end=MARCH[-1], **filters) -> dict:
    """{key: {count, amount, refunds, reversals, net, billed}} from the ledger, entry by entry."""
    out = defaultdict(lambda: defaultdict(Decimal))
    for entry in LedgerEntry.objects.select_related("account__customer__premises", "reverses").order_by("pk"):
        day = timezone.localdate(entry.created_at)
        if not start <= day <= end:
            continue
        customer = entry.account.customer
        reversed_kind = entry.reverses.kind if entry.reverses else None
        money = entry.kind in ("payment", "refund") or reversed_kind in ("payment", "refund")
        billed = entry.kind in BILLED or reversed_kind in BILLED
        if filters.get("category") and customer.category != filters["category"]:
            continue
        if filters.get("district") and customer.premises.district != filters["district"]:
            continue
        key = {"day": day.isoformat(), "month": f"{day:%Y-%m}"}.get(group)
        if money:
            payment = payment_of(entry)
            cashier = payment.shift.cashier_id if payment.shift_id else None
            if filters.get("channel") and channels.channel_of(payment) != filters["channel"]:
                continue
            if "cashier" in filters and cashier != filters["cashier"]:
                continue
            key = {
                "channel": channels.channel_of(payment),
                "cashier": cashier,
                "shift": payment.shift_id,
            }.get(group, key)
            figures = out[key]
            if entry.kind == "payment":
                figures["count"] += 1
                figures["amount"] += entry.amount
            elif entry.kind == "refund":
                figures["refunds"] -= entry.amount
            else:
                figures["reversals"] -= entry.amount
            figures["net"] += entry.amount
        elif billed and group in ("day", "month") and not filters.get("channel") and "cashier" not in filters:
            out[key]["billed"] -= entry.amount
    return {k: dict(v) for k, v in out.items()}


def api(client, **query):
    body = client.get(
        "/api/v1/reports/collections/", {"from": "2026-03-01", "to": "2026-03-31", **query}
    ).json()
    key = query.get("group_by", "day")
    got = {}
    for row in body["rows"]:
        figures = {f: Decimal(row[f]) for f in ("amount", "refunds", "reversals", "net")}
        figures["count"] = row["count"]
        if row.get("billed") is not None:
            figures["billed"] = Decimal(row["billed"])
        if figures["count"] or any(v for v in figures.values()):
            got[row[key]] = figures
    return got, body["total"]


def same(got: dict, want: dict) -> None:
    assert set(got) == set(want), (sorted(map(str, got)), sorted(map(str, want)))
    for key, figures in want.items():
        for name in ("count", "amount", "refunds", "reversals", "net", "billed"):
            if name in figures or name in got[key]:
                assert got[key].get(name, 0) == figures.get(name, 0), (key, name)


@pytest.fixture
def manager_client(client, people):
    viewer = grant(make_user("dispatcher"), "view_collections_report", "view_payment")
    client.force_login(viewer)
    return client


GROUPS_AND_FILTERS = [
    ("day", {}),
    ("month", {}),
    ("channel", {}),
    ("cashier", {}),
    ("shift", {}),
    ("day", {"category": "commercial"}),
    ("channel", {"district": "东城"}),
    ("day", {"channel": "cash"}),
    ("cashier", {"district": "西城"}),
]


@pytest.mark.parametrize("refreshed", [False, True], ids=["live", "rollup"])
def test_figures_equal_the_ledger_entry_by_entry(manager_client, month, people, refreshed):
    if refreshed:
        rollups.refresh(["collections"])
    for group, filters in GROUPS_AND_FILTERS:
        got, total = api(manager_client, group_by=group, **filters)
        want = expected(group, **filters)
        if group in ("cashier", "shift"):
            got = {(int(k) if k is not None else None): v for k, v in got.items()}
        same(got, want)
        assert Decimal(total["net"]) == sum((w["net"] for w in want.values()), Decimal(0))
    # Every channel is there, each by its own code.
    got, _total = api(manager_client, group_by="channel")
    assert set(got) == {"cash", "card", "bank", "bank_statement", "ic_card", "sandbox"}


def test_days_are_local_days_and_refunds_count_on_the_day_paid_out(manager_client, month, people):
    got, total = api(manager_client, group_by="day", channel="cash", cashier=str(people["bo"].pk))
    # bo's cash: only the edge payments (ana takes the daily cash; IC top-ups are ic_card).
    assert {k: v["amount"] for k, v in got.items()} == {
        "2026-03-15": Decimal("77.77"),
        "2026-03-16": Decimal("77.77"),
        "2026-03-31": Decimal("77.77"),
    }
    days, _ = api(manager_client, group_by="day", channel="cash")
    assert days["2026-03-10"]["refunds"] == Decimal("20.00")  # paid out on the 10th, taken on the 2nd
    assert days["2026-03-02"]["refunds"] == 0
    assert days["2026-03-12"]["reversals"] == 0  # the reversed transfer is a bank statement's
    statement, _ = api(manager_client, group_by="day", channel="bank_statement")
    assert statement["2026-03-12"]["reversals"] == Decimal("700.70")
    assert Decimal(total["amount"]) == Decimal("77.77") * 3


def test_collection_rate_is_net_over_billed_and_billed_only_for_the_station(manager_client, month):
    body = manager_client.get(
        "/api/v1/reports/collections/", {"from": "2026-03-01", "to": "2026-03-31", "group_by": "month"}
    ).json()
    (row,) = body["rows"]
    want = expected("month")["2026-03"]
    assert Decimal(row["billed"]) == want["billed"]
    assert Decimal(row["collection_rate"]) == (want["net"] * 100 / want["billed"]).quantize(Decimal("0.01"))
    filtered = manager_client.get(
        "/api/v1/reports/collections/", {"group_by": "day", "channel": "cash"}
    ).json()
    assert "billed" not in filtered["total"]


def test_the_rollup_and_the_live_path_agree_after_a_refresh_and_with_a_change_since(month, people):
    def both(**kw):
        return [
            {
                k: (f.count, f.amount, f.refunds, f.reversals, f.billed)
                for k, f in collect(Query(MARCH[0], MARCH[-1], **kw), force_live=live).items()
            }
            for live in (True, False)
        ]

    cases = [
        {"group": g, **f}
        for g in ("day", "month", "channel", "cashier", "shift", "method")
        for f in ({}, {"category": "commercial"}, {"channel": "ic_card"}, {"cashier": people["ana"].pk})
    ] + [{"group": "day", "counter_only": True}, {"group": "channel", "district": "西城"}]
    with time_machine.travel(local(dt.date(2026, 4, 2), 9), tick=False):
        rollups.refresh(["collections"])
        assert RollupState.objects.get(name="collections").refreshed_from is not None
        assert rollups.keys_to_read_live("collections") == set()  # nothing recorded since
    for case in cases:
        live, mixed = both(**case)
        assert live == mixed, case
    # The rollup is what answers: a day changed behind its back (never done in production: the
    # ledger is append-only) shows in the live path only.
    store.CollectionsDay.objects.filter(day=MARCH[0], channel="card").update(amount=Decimal("1.00"))
    live, mixed = both(group="day")
    assert live[MARCH[0]] != mixed[MARCH[0]]
    store.rebuild_days([MARCH[0]])
    # A change since the refresh (a payment backdated into March is not how time works, so a new
    # day: a refund today of a March payment) is read live, and the figures stay exact.
    with time_machine.travel(local(dt.date(2026, 4, 3), 10), tick=False):
        paid = Payment.objects.filter(method="card").order_by("pk").first()
        services.request_refund(paid, "0.05", "rounding", people["bo"])
        services.take_counter_payment(people["com"], "12.34", "card", people["bo"])
        april = Query(dt.date(2026, 3, 1), dt.date(2026, 4, 3), "day")
        assert rollups.keys_to_read_live("collections") == {dt.date(2026, 4, 3)}
        mixed = collect(april)
        assert mixed == collect(april, force_live=True)
        assert mixed[dt.date(2026, 4, 3)].refunds == Decimal("0.05")
        assert mixed[dt.date(2026, 4, 3)].amount == Decimal("12.34")


def test_a_rebuild_is_idempotent_and_rebuilds_only_touched_days(month):
    with time_machine.travel(local(dt.date(2026, 4, 2), 9), tick=False):
        first = rollups.refresh(["collections"])
        rows = store.CollectionsDay.objects.count()
        assert first["collections"] >= 31
        assert rollups.refresh(["collections"]) == {"collections": 0}  # nothing recorded since
        assert store.CollectionsDay.objects.count() == rows


# --- the daily collection report ------------------------------------------------------------


@pytest.fixture
def day_of_shifts(people):
    """One day at the counter: two cashiers, every method, a top-up, a same-day refund, closes."""
    ana, bo, res, com = people["ana"], people["bo"], people["res"], people["com"]
    day = dt.date(2026, 5, 6)
    card = cards.issue_card(res, ana)
    with time_machine.travel(local(day, 8, 1), tick=False):
        first = services.take_counter_payment(res, "88.80", "cash", ana, tendered="100")
        services.take_counter_payment(com, "1200.00", "card", ana)
        services.take_counter_payment(com, "345.67", "bank", ana)
        services.take_counter_payment(res, "30.00", "cash", bo)
    with time_machine.travel(local(day, 13), tick=False):
        cards.top_up(card, "100.00", "cash", ana)
        voided = services.take_counter_payment(res, "19.99", "card", ana)
        services.request_refund(voided, "19.99", "wrong customer", ana)
        services.request_refund(first, "8.80", "overpaid", ana)
        _online(res, people["web"], "55.00")  # not the counter's: not in the daily report
    with time_machine.travel(local(day, 17, 30), tick=False):
        for who, counted in ((ana, "180.00"), (bo, "30.00")):
            shift = Shift.objects.get(cashier=who, status=ShiftStatus.OPEN)
            services.close_shift(shift, who, cash_counted=counted, handed_to="财务室")
    return day, first, voided


def daily(client, day, **query):
    response = client.get("/api/v1/reports/daily-collections/", {"from": day.isoformat(), **query})
    body = response.json()
    return {r["method"]: r for r in body["rows"]}, body["total"]


def test_the_daily_report_equals_the_shift_closes(manager_client, people, day_of_shifts):
    day, _first, voided = day_of_shifts
    shifts = {s.cashier_id: s for s in Shift.objects.filter(status=ShiftStatus.CLOSED)}
    assert len(shifts) == 2
    for cashier in (people["ana"].pk, people["bo"].pk, None):
        closes = [s for k, s in shifts.items() if cashier in (None, k)]
        rows, total = daily(manager_client, day, **({"cashier": str(cashier)} if cashier else {}))
        for method in ("cash", "card", "bank"):
            assert rows[method]["count"] == sum(s.totals["methods"][method]["count"] for s in closes)
            assert Decimal(rows[method]["amount"]) == sum(
                Decimal(s.totals["methods"][method]["total"]) for s in closes
            )
        assert Decimal(total["amount"]) == sum(Decimal(s.totals["total"]) for s in closes)
        assert Decimal(total["refunds"]) == sum(Decimal(s.totals["refunded"]) for s in closes)
        assert Decimal(total["net"]) == Decimal(total["amount"]) - Decimal(total["refunds"])
    report = REPORTS["daily-collections"]
    result = report.run(parse_params(report, {"from": day.isoformat(), "cashier": str(people["ana"].pk)}))
    notes = {str(k): v for k, v in result.notes}
    ana_shift = shifts[people["ana"].pk]
    # Ana took 88.80 + 100.00 in cash and paid 8.80 back out of the drawer: 180.00 expected.
    assert ana_shift.totals["cash_expected"] == "180.00"
    assert ana_shift.totals["methods"]["cash"]["refunded"] == "8.80"
    assert notes["Cash expected in the drawer"] == "¥180.00"
    assert notes["Cash handed over"] == "¥180.00 (财务室)"
    assert notes["Difference"] == "¥0.00"
    assert ana_shift.totals["cash_difference"] == "0.00"  # counted 180.00 against 180.00 expected
    assert notes["Shift closes"] == "Agrees with the shift closes."
    numbers = sorted(Payment.objects.filter(shift=ana_shift).values_list("receipt_no", flat=True))
    assert notes["Receipts"] == f"{numbers[0]} – {numbers[-1]} ({len(numbers)})"
    assert notes["Voided (fully refunded) receipts"] == voided.receipt_no
    assert [str(s) for s in result.signatures] == ["Received by", "Checked by", "Finance"]


def test_a_cash_refund_paid_from_the_till_leaves_no_difference(manager_client, people):
    """A cash refund comes out of the drawer: the shift close expects the cash taken less it,
    and the daily report's expected cash, difference and agreement say the same to the fen."""
    ana, res = people["ana"], people["res"]
    day = dt.date(2026, 5, 8)
    with time_machine.travel(local(day, 9), tick=False):
        paid = services.take_counter_payment(res, "120.00", "cash", ana)
        services.take_counter_payment(res, "35.50", "cash", ana)
        services.take_counter_payment(res, "60.00", "card", ana)
        services.request_refund(paid, "20.00", "overpaid", ana)
    with time_machine.travel(local(day, 18), tick=False):
        shift = Shift.objects.get(cashier=ana, status=ShiftStatus.OPEN)
        shift = services.close_shift(shift, ana, cash_counted="135.50")
    assert shift.totals["cash_expected"] == "135.50"  # 120.00 + 35.50 − 20.00
    assert shift.totals["cash_difference"] == "0.00"
    assert shift.totals["methods"]["card"].get("refunded", "0.00") == "0.00"
    report = REPORTS["daily-collections"]
    result = report.run(parse_params(report, {"from": day.isoformat(), "cashier": str(ana.pk)}))
    notes = {str(k): v for k, v in result.notes}
    cash = next(r for r in result.rows if r["method"] == "cash")
    assert (cash["amount"], cash["refunds"], cash["net"]) == (
        Decimal("155.50"),
        Decimal("20.00"),
        Decimal("135.50"),
    )
    assert notes["Cash expected in the drawer"] == "¥135.50"
    assert notes["Difference"] == "¥0.00"
    assert notes["Shift closes"] == "Agrees with the shift closes."
    # A close frozen the old way (cash taken, no refund out of it) does not pass for agreeing.
    shift.totals = {**shift.totals, "cash_expected": "155.50", "cash_difference": "-20.00"}
    shift.save(update_fields=["totals"])
    notes = {str(k): v for k, v in report.run(parse_params(report, {"from": day.isoformat()})).notes}
    assert notes["Difference"] == "-¥20.00"
    assert notes["Shift closes"].startswith("Differs from the shift closes")


def test_the_daily_report_says_when_a_shift_is_still_open(manager_client, people):
    with time_machine.travel(local(dt.date(2026, 5, 7), 9), tick=False):
        services.take_counter_payment(people["res"], "10.00", "cash", people["ana"])
        report = REPORTS["daily-collections"]
        result = report.run(parse_params(report, {"from": "2026-05-07"}))
    assert "still open" in dict((str(k), v) for k, v in result.notes)["Shift closes"]


def test_the_daily_report_prints_with_lines_to_sign(manager_client, day_of_shifts):
    day = day_of_shifts[0]
    page = manager_client.get("/reports/daily-collections/print/", {"from": day.isoformat()}).content.decode()
    assert 'data-testid="print-signatures"' in page and "Checked by" in page
    assert f"Day: {day.isoformat()}" in page
    zh = manager_client.get(
        "/reports/daily-collections/print/", {"from": day.isoformat()}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "收款员" in zh and "复核" in zh and "财务" in zh


# --- who sees what ----------------------------------------------------------------------------


def test_a_cashier_sees_only_their_own(client, people, day_of_shifts):
    day = day_of_shifts[0]
    ana = grant(people["ana"], "view_own_collections")
    client.force_login(ana)
    query = {"from": day.isoformat(), "to": day.isoformat(), "group_by": "cashier"}
    for asked in ({}, {"cashier": str(people["bo"].pk)}):
        body = client.get("/api/v1/reports/collections/", {**query, **asked}).json()
        assert [r["cashier"] for r in body["rows"]] == [ana.pk]
        assert body["total"]["amount"] == "1754.46"  # 88.80 + 1200 + 345.67 + 100 + 19.99
    page = client.get("/reports/collections/", {**query, "cashier": str(people["bo"].pk)}).content.decode()
    assert "1,754.46" in page and "30.00" not in page
    rows, _total = daily(client, day)  # the whole station asked: their own given
    assert rows["cash"]["amount"] == "188.80"
    assert client.get("/reports/daily-collections/print/", {"from": day.isoformat()}).status_code == 200


def test_customers_and_other_roles_are_refused(client, people):
    for user in (people["web"], make_user("filler")):
        client.force_login(user)
        for url in (
            "/api/v1/reports/collections/",
            "/api/v1/reports/daily-collections/",
            "/reports/collections/",
        ):
            assert client.get(url).status_code == 403, (user, url)


def test_a_row_drills_down_to_the_payments_behind_it(manager_client, people, day_of_shifts):
    day = day_of_shifts[0]
    report = REPORTS["collections"]
    params = parse_params(report, {"from": day.isoformat(), "to": day.isoformat(), "group_by": "channel"})
    result = report.run(params)
    for row in result.rows:
        url = report.drill(params, row)
        page = manager_client.get(url).content.decode()
        payments = Payment.objects.filter(paid_at__date__isnull=False)
        shown = [p for p in payments if p.receipt_no and p.receipt_no in page]
        assert len(shown) == row["count"], (row["channel"], url)
        assert all(channels.channel_of(p) == row["channel"] for p in shown)
