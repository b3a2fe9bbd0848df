"""The arrears report's rollup: arrears as they stood at each month end, per category and
district, rebuilt per month from the ledger and bills recorded before that month ended (so the
12-month trend is exact), with the late fees charged during the month."""

from django.db import models

from gasworks.lib.fields import DecimalField
from gasworks.lib.money import MONEY_FIELD


class ArrearsMonth(models.Model):
    period = models.CharField(max_length=7)  # YYYY-MM: arrears as of its last day
    category = models.CharField(max_length=16)
    district = models.CharField(max_length=64, blank=True)
    accounts = models.IntegerField(default=0)  # with something overdue
    debtors = models.IntegerField(default=0)  # in debt
    overdue = DecimalField(default=0, **MONEY_FIELD)
    d0_30 = DecimalField(default=0, **MONEY_FIELD)
    d31_60 = DecimalField(default=0, **MONEY_FIELD)
    d61_90 = DecimalField(default=0, **MONEY_FIELD)
    d90 = DecimalField(default=0, **MONEY_FIELD)
    not_due = DecimalField(default=0, **MONEY_FIELD)
    fees = DecimalField(default=0, **MONEY_FIELD)  # late fees still owed at the month end
    other = DecimalField(default=0, **MONEY_FIELD)
    fees_charged = DecimalField(default=0, **MONEY_FIELD)  # late fees charged during the month

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["period", "category", "district"], name="arrears_month_unique")
        ]
