"""The mixed month the exactness tests stand on really holds every kind of activity."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from gasworks.billing.models import Bill, EntryKind, LedgerEntry
from gasworks.payments.models import Payment
from tests.reports import mixed_month

pytestmark = pytest.mark.django_db


def test_the_mixed_month_holds_every_kind_of_activity():
    month = mixed_month.build()
    kinds = set(LedgerEntry.objects.values_list("kind", flat=True))
    assert {
        EntryKind.CHARGE,
        EntryKind.PAYMENT,
        EntryKind.REFUND,
        EntryKind.ADJUSTMENT,
        EntryKind.LATE_FEE,
        EntryKind.PREPAID_CHARGE,
    } <= kinds
    assert set(Bill.objects.values_list("customer__category", flat=True)) == {
        "residential",
        "commercial",
        "industrial",
    }
    assert {(p.method, p.gateway, p.purpose) for p in Payment.objects.filter(status="succeeded")} >= {
        ("cash", "", "account"),
        ("card", "", "account"),
        ("bank", "", "account"),
        ("online", "sandbox", "account"),
        ("cash", "", "ic_card"),
    }
    assert Payment.objects.filter(gateway="bank").exists()
    assert month.early_payment.created_at.astimezone(dt.UTC).day == 14  # the 15th locally
    assert timezone.localtime(month.early_payment.created_at).day == 15
    assert month.transferred_to.pk != month.customers["res_chaoyang"].pk
    call_command("verify_ledger")
