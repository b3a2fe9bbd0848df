"""The arrears report's rollup: arrears as they stood at the end of a local day, per category and
district (one row each, the aging buckets as columns: never a row per account), rebuilt per day
from the ledger and bills recorded before that day ended, with the late fees charged in its
month so far. A past day's aging and the 12-month trend (month ends) read it. A day built with
no arrears at all keeps one empty row (no category), so that "built" and "nothing owed" differ."""

from django.db import models

from gasworks.lib.fields import DecimalField
from gasworks.lib.money import MONEY_FIELD


class ArrearsDay(models.Model):
    day = models.DateField()  # arrears as of its end
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
    fees = DecimalField(default=0, **MONEY_FIELD)  # late fees still owed at the day's end
    other = DecimalField(default=0, **MONEY_FIELD)
    # Late fees charged in the day's month up to its end (net of reversals): a month end's row
    # holds its month's, so a trend point is one day's rows.
    fees_month = DecimalField(default=0, **MONEY_FIELD)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "category", "district"], name="arrears_day_unique")
        ]
