"""The LPG report's rollup, per local day: fills and kg by station, filler and cylinder model;
refused fills by the same and their reason; deliveries and deposits by model (deposit refunds of
returns for good carry an empty model). Rebuilt per day by rollups.refresh()."""

from django.db import models

from gasworks.lib.fields import DecimalField
from gasworks.lib.money import MONEY_FIELD, DecimalSpec

KG: DecimalSpec = {"max_digits": 16, "decimal_places": 3}


class LpgFillDay(models.Model):
    day = models.DateField()
    station = models.CharField(max_length=16)
    filler = models.CharField(max_length=150, blank=True)
    model = models.CharField(max_length=8)
    fills = models.PositiveIntegerField(default=0)
    kg = DecimalField(default=0, **KG)

    class Meta:
        indexes = [models.Index(fields=["day"], name="lpg_fill_day_idx")]


class LpgRefusalDay(models.Model):
    day = models.DateField()
    station = models.CharField(max_length=16)
    filler = models.CharField(max_length=150, blank=True)
    model = models.CharField(max_length=8)
    reason = models.CharField(max_length=24)
    refusals = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day"], name="lpg_refusal_day_idx")]


class LpgOrderDay(models.Model):
    day = models.DateField()
    model = models.CharField(max_length=8, blank=True)
    deliveries = models.PositiveIntegerField(default=0)
    cylinders = models.PositiveIntegerField(default=0)
    amount = DecimalField(default=0, **MONEY_FIELD)
    empties_back = models.PositiveIntegerField(default=0)
    deposits_taken = DecimalField(default=0, **MONEY_FIELD)
    deposits_refunded = DecimalField(default=0, **MONEY_FIELD)

    class Meta:
        indexes = [models.Index(fields=["day"], name="lpg_order_day_idx")]
