from decimal import Decimal

import pytest

from gasworks.billing import ledger
from gasworks.billing.models import LedgerEntry
from gasworks.lib.db import DecimalSum
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

AMOUNTS = ["-118.00", "-100.00", "-104.08", "-44.08", "-82.08", "-58.29", "-46.79", "-88.31"]
AMOUNTS += ["-47.81", "-71.27", "-75.06", "-51.06", "-72.95", "959.78"]


def test_decimal_sum_is_exact_on_every_backend():
    customer = make_customer()
    for amount in AMOUNTS:
        ledger.post(customer, "adjustment", Decimal(amount), reference="probe")
    total = LedgerEntry.objects.aggregate(s=DecimalSum("amount"))["s"]
    assert total == Decimal("0.00")
    assert str(total) == "0.00"
    grouped = dict(LedgerEntry.objects.values_list("account_id").annotate(s=DecimalSum("amount")))
    assert list(grouped.values()) == [Decimal("0.00")]


def test_decimal_sum_of_nothing_is_none():
    assert LedgerEntry.objects.aggregate(s=DecimalSum("amount"))["s"] is None


def test_copy_line_is_copy_text_of_each_value_tab_joined():
    import datetime as dt
    from decimal import Decimal

    from gasworks.lib.db import copy_line, copy_text

    values = [
        None,
        "a\tb\\c\nd\re",
        True,
        False,
        Decimal("1.50"),
        12,
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "",
    ]
    assert copy_line(values) == "\t".join(copy_text(v) for v in values) + "\n"
    assert copy_line(["x\ty", None]) == "x\\ty\t\\N\n"

    class Label(str):  # a str subclass (a TextChoices member) is escaped as text is
        pass

    assert copy_line([Label("a\tb")]) == copy_text(Label("a\tb")) + "\n" == "a\\tb\n"
