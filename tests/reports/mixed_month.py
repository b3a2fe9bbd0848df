"""A month of mixed activity for the exactness tests of every report: October 2026's gas billed
on 1 November, then November's money. Bills of every category in two districts (one with a
minimum-charge top-up), payments on every channel (cash, card, bank transfer at the counter, a
bank-statement line, the online sandbox gateway, an IC-card top-up), a partial refund, an
adjustment, late fees, a name transfer, a meter replacement and a cash payment at 23:30 local
time (the next day in UTC). The reports' totals are checked against sums taken independently
from the ledger, bills and readings (tests/reports/test_exactness.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import time_machine

from gasworks.billing import adjustments, arrears, runs
from gasworks.billing.models import Bill
from gasworks.customers import services as customer_services
from gasworks.metering import services as metering_services
from gasworks.payments import cards
from gasworks.payments import services as payments
from gasworks.payments.gateways import sandbox
from tests.billing.helpers import beijing, flat, local, meter_for, read
from tests.factories import make_customer, make_user

PERIOD = "2026-10"
FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)


@dataclass
class Month:
    cashier: object
    other_cashier: object
    manager: object
    customers: dict = field(default_factory=dict)
    late_night_payment: object = None
    early_payment: object = None
    transferred_to: object = None


def _travel(at):
    return time_machine.travel(at, tick=False)


def build() -> Month:
    beijing()
    flat("commercial", "3.05", minimum_charge=Decimal("80.00"))
    flat("industrial", "2.63")
    month = Month(make_user("cashier"), make_user("cashier"), make_user("admin"))
    people = {
        "res_chaoyang": dict(category="residential", district="朝阳"),
        "res_haidian": dict(category="residential", district="海淀"),
        "res_heavy": dict(category="residential", district="朝阳"),
        "shop": dict(category="commercial", district="海淀"),
        "small_shop": dict(category="commercial", district="朝阳"),  # under the minimum charge
        "factory": dict(category="industrial", district="海淀"),
        "card_holder": dict(category="residential", district="海淀"),
    }
    volumes = {
        "res_chaoyang": "21.5",
        "res_haidian": "13.25",
        "res_heavy": "420",  # reaches the second tier within the tariff year
        "shop": "310.125",
        "small_shop": "3",
        "factory": "5400",
        "card_holder": "8",
    }
    with _travel(local(2026, 9, 20)):
        for key, data in people.items():
            month.customers[key] = make_customer(**data)
            meter_for(month.customers[key])
    with _travel(local(2026, 10, 25)):
        for key, volume in volumes.items():
            read(month.customers[key], volume, local(2026, 10, 20))
    # A meter replaced mid-month: the period's volume is the old part plus the new part.
    heavy = month.customers["res_heavy"]
    old = heavy.premises.meters.first()
    with _travel(local(2026, 10, 26)):
        metering_services.replace_meter(
            old, old.readings.first().value + 5, "MIXED-NEW-1", date(2026, 10, 26)
        )
        new = heavy.premises.meters.get(serial_no="MIXED-NEW-1")
        read(heavy, "7.5", local(2026, 10, 30), meter=new, value=Decimal("7.5"))
    with _travel(local(2026, 11, 1, 2)):
        runs.execute(runs.start_run(PERIOD))
    c = month.customers
    # November's money, on every channel.
    with _travel(local(2026, 11, 3, 10)):
        payments.take_counter_payment(c["res_chaoyang"], "50.00", "cash", month.cashier, tendered="100.00")
        payments.take_counter_payment(c["shop"], "500.00", "card", month.cashier)
        payments.take_counter_payment(c["factory"], "10000.00", "bank", month.other_cashier)
    with _travel(local(2026, 11, 5, 9)):
        payments.record_bank_payment(c["res_haidian"], "20.00", "BANKTXN-MIXED-1")
    with _travel(local(2026, 11, 6, 15)):
        order = payments.create_online_order(c["res_heavy"], "300.00", None, gateway="sandbox")
        body, headers = sandbox.SandboxGateway().pay(order)
        payments.handle_callback("sandbox", body, headers)
    with _travel(local(2026, 11, 7, 11)):
        card = cards.issue_card(c["card_holder"], month.cashier)
        cards.top_up(card, "100.00", "cash", month.cashier, tendered="100.00")
    with _travel(local(2026, 11, 10, 16)):
        paid = payments.take_counter_payment(
            c["small_shop"], "120.00", "cash", month.cashier, tendered="120.00"
        )
        refund = payments.request_refund(paid, "40.00", "paid twice", month.cashier)
        if refund.status == "pending":
            payments.decide_refund(refund, True, month.manager)
    with _travel(local(2026, 11, 12, 9)):
        item = adjustments.request_adjustment(
            c["res_haidian"], Decimal("-5.00"), "meter read wrong", month.cashier
        )
        if item.status == "pending":
            adjustments.approve_adjustment(item, month.manager)
    # Near midnight: 23:30 local on the 14th is the 14th's money, and so is 00:30 local on the
    # 15th the 15th's, though it is still the 14th in UTC (16:30): days are the station's days.
    with _travel(local(2026, 11, 14, 23).replace(minute=30)):
        month.late_night_payment = payments.take_counter_payment(
            c["res_haidian"], "3.33", "cash", month.other_cashier, tendered="5.00"
        )
    with _travel(local(2026, 11, 15, 0).replace(minute=30)):
        month.early_payment = payments.take_counter_payment(
            c["factory"], "0.67", "cash", month.other_cashier, tendered="1.00"
        )
    # Late fees on what is still overdue after the due date, on two days.
    due = Bill.objects.filter(period=PERIOD).order_by("due_on").first().due_on
    for day in (due.toordinal() + 1, due.toordinal() + 2):
        when = date.fromordinal(day)
        with _travel(local(when.year, when.month, when.day, 1)):
            arrears.apply_late_fees(when)
    # A name transfer after billing: the money stays with the old account.
    with _travel(local(2026, 11, 20, 10)):
        holder = customer_services.CustomerData(name="新户主", category="", phone="13900000000", address="")
        month.transferred_to = customer_services.transfer(c["res_chaoyang"], holder, "sold", month.cashier)
    return month
