"""The audit log records every change to money, tariffs, review decisions, safety and filling
work, and shows it as labelled before/after fields, filtered and paginated."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from gasworks.billing import adjustments, runs
from gasworks.billing.models import BillReview
from gasworks.cylinders import services as cylinder_services
from gasworks.payments import services as payments
from gasworks.payments.models import Shift
from gasworks.safety.services import inspections
from gasworks.system.models import AuditEntry
from tests.billing.helpers import beijing, local, read
from tests.cylinders.helpers import make_cylinder
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def visible(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def page(client, lang="en", **params):
    client.cookies["django_language"] = lang
    response = client.get("/system/audit/", params)
    assert response.status_code == 200
    return visible(response.content.decode())


def test_a_counter_payment_is_in_the_log_through_its_ledger_entry(admin_client, personas):
    customer = personas["other_customer"]
    payments.take_counter_payment(customer, "1234.50", "cash", personas["cashier"])
    text = page(admin_client, action="payment", actor=personas["cashier"].pk)
    assert "Ledger entry" in text and "Payment" in text and "¥1,234.50" in text
    assert customer.account_no in text
    # A counter payment writes no audit row of its own: the ledger entry is the record.
    assert not AuditEntry.objects.filter(model="payments.Payment").exists()


def test_refunds_adjustments_and_shift_closes_leave_labelled_entries(admin_client, personas):
    cashier, admin = personas["cashier"], personas["admin"]
    customer = personas["other_customer"]
    payment = payments.take_counter_payment(customer, "100", "cash", cashier)
    payments.request_refund(payment, "10", "多收", admin)
    adjustments.request_adjustment(customer, "-3.20", "表计误差", cashier)
    payments.close_shift(Shift.objects.get(cashier=cashier), cashier, cash_counted="90")
    for model in ("payments.Refund", "billing.Adjustment", "payments.Shift"):
        assert AuditEntry.objects.filter(model=model).exists(), model
    close = AuditEntry.objects.get(model="payments.Shift", action="close")
    assert close.before == {"status": "open"} and close.after["status"] == "closed"
    text = page(admin_client, model="payments.Shift")
    assert "Cashier shift" in text and "Closed" in text and "shift closed" in text
    assert re.search(r"Status Open Closed", text), text  # the field's label, its labelled values
    assert "{" not in text.split("Audit log", 2)[-1]  # no raw dicts
    zh = page(admin_client, "zh-hans", model="billing.Adjustment")
    assert "调账" in zh and "金额" in zh and "-3.20" in zh
    assert "申请人" in zh and "客户" in zh
    assert not {"Requested by", "Customer", "Entry", "object ("} & set(
        re.findall(r"[A-Z][a-z]+(?: by)?|object \(", zh)
    )


def test_a_groups_permissions_read_as_a_count_not_a_list_of_ids(admin_client, personas):
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.create(name="审核组")
    group.permissions.add(*Permission.objects.order_by("pk")[:12])
    zh = page(admin_client, "zh-hans", model="auth.Group")
    assert "已添加权限" in zh and "12 项" in zh
    assert not re.search(r"\d+, \d+, \d+", zh)


def test_tariffs_runs_and_review_decisions_are_recorded(admin_client, personas):
    beijing()
    version = AuditEntry.objects.get(model="billing.PriceVersion", note="prices added")
    assert len(version.after["tiers"]) == 3
    assert AuditEntry.objects.filter(model="billing.Tariff", action="create").exists()
    c = make_customer()
    for month in (6, 7, 8):
        read(c, 10, local(2026, month, 3))
        runs.execute(runs.start_run(f"2026-{month:02d}"))
    read(c, 200, local(2026, 10, 3))
    runs.execute(runs.start_run("2026-10"))
    moves = AuditEntry.objects.filter(model="billing.BillingRun", action="update")
    assert {"running", "done"} <= {m.after["status"] for m in moves}
    runs.bill_after_review(BillReview.objects.get(), by=personas["admin"])
    decision = AuditEntry.objects.get(model="billing.BillReview")
    assert (decision.action, decision.actor, decision.after["status"]) == (
        "approve",
        personas["admin"],
        "billed",
    )
    text = page(admin_client, model="billing.BillReview")
    assert "Bill review" in text and "Approved" in text and "billed as read" in text
    text = page(admin_client, "zh-hans", model="billing.BillingRun")
    assert "计费批次" in text or "账单批次" in text or "计费运行" in text, text[:3000]


def test_inspections_and_fillings_are_recorded(personas):
    task = inspections.create_task(make_customer(), datetime.date(2026, 5, 1), auto_assign=False)
    inspections.assign(task, personas["inspector"])
    cylinder = make_cylinder()
    cylinder_services.record_filling(cylinder.code, cylinder.tare_kg + Decimal("14.5"), by=personas["filler"])
    assert AuditEntry.objects.filter(model="safety.InspectionTask", action="create").exists()
    assigned = AuditEntry.objects.get(model="safety.InspectionTask", action="update")
    assert assigned.after["status"] == "assigned"
    filling = AuditEntry.objects.get(model="cylinders.Filling")
    assert filling.actor == personas["filler"] and filling.after["net_kg"] == "14.500"


def test_it_filters_by_user_object_action_and_date(admin_client, personas):
    a, b = make_customer(name="甲方"), make_customer(name="乙方")
    adjustments.request_adjustment(a, "5", "one", personas["cashier"])
    adjustments.request_adjustment(b, "6", "two", personas["admin"])
    assert "甲方" in page(admin_client, actor=personas["cashier"].pk)
    assert "乙方" not in page(admin_client, actor=personas["cashier"].pk)
    assert "乙方" not in page(admin_client, q="甲方") and "甲方" in page(admin_client, q="甲方")
    only_a = page(admin_client, model="customers.Customer", object_id=str(a.pk))
    assert "甲方" in only_a and "乙方" not in only_a
    assert "甲方" not in page(admin_client, action="delete")
    today = timezone.localdate()
    assert "甲方" in page(admin_client, since=today.isoformat(), until=today.isoformat())
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    assert "甲方" not in page(admin_client, since=tomorrow)
    assert "The end is before the start." in page(admin_client, since=tomorrow, until=today.isoformat())


def test_it_paginates(admin_client, personas):
    for n in range(60):
        AuditEntry.objects.create(
            at=timezone.now(),
            action="update",
            model="system.Parameter",
            object_id=str(n),
            object_repr=f"p{n}",
        )
    first, second = page(admin_client), page(admin_client, page=2)
    assert "Page 1 of" in first and "Page 2 of" in second
    with translation.override("en"):
        assert first.count("Parameter #") == 50


def test_q_finds_ledger_entries_by_their_customers_name_or_account_number(admin_client, personas):
    # The search reads the customers it matches (their trigram indexes on PostgreSQL), then their
    # entries: a payment of 丙方 is found by part of the name and by the account number.
    found, other = make_customer(name="丙方燃气用户"), make_customer(name="丁方")
    payments.take_counter_payment(found, "321.45", "cash", personas["cashier"])
    payments.take_counter_payment(other, "654.32", "cash", personas["cashier"])
    for q in ("方燃气", found.account_no):
        text = page(admin_client, model="billing.LedgerEntry", q=q)
        assert "¥321.45" in text and "¥654.32" not in text, q
    assert "¥321.45" not in page(admin_client, model="billing.LedgerEntry", q="没有这个人")
