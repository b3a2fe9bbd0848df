from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from gasworks.billing import adjustments, ledger
from gasworks.billing.models import Account, Adjustment, LedgerEntry
from gasworks.billing.verify import verify_ledger
from gasworks.errors import InvalidInput, NotAllowed
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db


def _some_entries():
    c = make_customer()
    ledger.post(c, "payment", Decimal("100"))
    ledger.post(c, "charge", Decimal("-30.50"))
    ledger.post(c, "payment", Decimal("10"))
    return c


def test_it_passes_a_consistent_ledger(capsys):
    _some_entries()
    call_command("verify_ledger")
    assert "0 discrepancies" in capsys.readouterr().out


def test_it_catches_a_cached_balance_changed_behind_its_back():
    c = _some_entries()
    Account.objects.filter(customer=c).update(balance=Decimal("1000.00"))
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_ledger")
    assert exit_.value.code == 1


def test_it_catches_an_entry_amount_changed_with_raw_sql():
    c = _some_entries()
    entry = LedgerEntry.objects.filter(account__customer=c).order_by("pk")[1]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {LedgerEntry._meta.db_table} SET amount = %s WHERE id = %s", ["-3.05", entry.pk]
        )
    checked, problems = verify_ledger()
    assert checked == 1
    assert any("entries sum" in p.problem for p in problems)
    assert any(f"entry #{entry.pk}" in p.problem for p in problems)


def test_it_catches_a_broken_balance_after_chain():
    c = _some_entries()
    entry = LedgerEntry.objects.filter(account__customer=c).order_by("pk")[1]
    LedgerEntry.objects.filter(pk=entry.pk).update(balance_after=Decimal("0"))
    problems = verify_ledger()[1]
    assert [p.problem.split(":")[0] for p in problems] == [f"entry #{entry.pk}", f"entry #{entry.pk + 1}"]


def test_it_posts_a_small_adjustment_at_once_and_holds_a_large_one_for_a_second_person():
    c = make_customer()
    clerk, boss = make_user("cashier"), make_user("admin")
    small = adjustments.request_adjustment(c, "-20", "meter misread", clerk)
    assert small.status == "posted" and ledger.balance(c) == Decimal("-20.00")
    big = adjustments.request_adjustment(c, "500", "goodwill credit", clerk)
    assert big.status == "pending" and ledger.balance(c) == Decimal("-20.00")
    with pytest.raises(NotAllowed):
        adjustments.approve_adjustment(big, clerk)
    assert ledger.balance(c) == Decimal("-20.00")
    adjustments.approve_adjustment(big, boss)
    big.refresh_from_db()
    assert (big.status, big.approved_by) == ("posted", boss)
    assert ledger.balance(c) == Decimal("480.00")


@pytest.mark.parametrize(("amount", "reason"), [("10", " "), ("0", "x"), ("abc", "x")])
def test_it_refuses_an_adjustment_without_reason_or_amount(amount, reason):
    c = make_customer()
    with pytest.raises(InvalidInput):
        adjustments.request_adjustment(c, amount, reason, None)
    assert not Adjustment.objects.exists() and not LedgerEntry.objects.exists()


def test_it_sums_exactly_where_binary_floating_point_would_not():
    # A real demo account: SQLite's SUM() gives 2.27e-13 for these; the ledger is exact.
    customer = make_customer()
    charges = ["-118.00", "-100.00", "-104.08", "-44.08", "-82.08", "-58.29", "-46.79", "-88.31"]
    charges += ["-47.81", "-71.27", "-75.06", "-51.06", "-72.95", "959.78"]
    for amount in charges:
        ledger.post(customer, "adjustment", Decimal(amount), reference="float probe")
    assert ledger.balance(customer) == Decimal("0.00")
    assert verify_ledger() == (1, [])


@pytest.mark.parametrize("amount", ["1E+20", "123456789012345", "10.001"])
def test_the_adjustment_page_refuses_an_amount_its_column_cannot_hold(admin_client, amount):
    customer = make_customer()
    page = admin_client.post(f"/billing/adjustments/new/{customer.pk}/", {"amount": amount, "reason": "fix"})
    assert page.status_code == 200 and page.context["form"].errors["amount"]
    assert not Adjustment.objects.exists()
    assert admin_client.get("/billing/adjustments/").status_code == 200


def test_an_adjustment_too_wide_for_its_column_is_refused_by_the_service_too():
    customer = make_customer()
    with pytest.raises(InvalidInput):
        adjustments.request_adjustment(customer, Decimal("1E+20"), "fix", make_user("admin"))
    assert not Adjustment.objects.exists() and not LedgerEntry.objects.exists()
