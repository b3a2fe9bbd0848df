"""The collections report's rollups: figures per station-local day, rebuilt per day from the
ledger (gasworks/reports/collections/store.py). Nothing on the payment path writes here.

Two grains, because a year must read few rows: by channel, category and district (the report's
default views and their filters), and by cashier and shift (the cashier views and the daily
collection report; with the payment method and the category, not the district, which would
multiply the rows by the districts a cashier serves). Billed money (charges) has neither
channel nor cashier: it has its own table."""

from django.db import models

from gasworks.lib.fields import DecimalField
from gasworks.lib.money import MONEY_FIELD


class CollectionsDay(models.Model):
    day = models.DateField()
    channel = models.CharField(max_length=24)
    category = models.CharField(max_length=16)
    district = models.CharField(max_length=64, blank=True)
    count = models.PositiveIntegerField(default=0)
    amount = DecimalField(default=0, **MONEY_FIELD)
    refunds = DecimalField(default=0, **MONEY_FIELD)
    reversals = DecimalField(default=0, **MONEY_FIELD)

    class Meta:
        indexes = [models.Index(fields=["day"], name="coll_day_idx")]


class CollectionsCashierDay(models.Model):
    day = models.DateField()
    channel = models.CharField(max_length=24)
    method = models.CharField(max_length=8)
    # Plain ids, not foreign keys: a rollup row must never block deleting or renaming anything.
    cashier_id = models.IntegerField(null=True)
    shift_id = models.IntegerField(null=True)
    category = models.CharField(max_length=16)
    count = models.PositiveIntegerField(default=0)
    amount = DecimalField(default=0, **MONEY_FIELD)
    refunds = DecimalField(default=0, **MONEY_FIELD)
    reversals = DecimalField(default=0, **MONEY_FIELD)

    class Meta:
        indexes = [models.Index(fields=["day"], name="coll_cashier_day_idx")]


class BilledDay(models.Model):
    day = models.DateField()
    category = models.CharField(max_length=16)
    district = models.CharField(max_length=64, blank=True)
    billed = DecimalField(default=0, **MONEY_FIELD)

    class Meta:
        indexes = [models.Index(fields=["day"], name="billed_day_idx")]
