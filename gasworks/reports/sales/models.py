"""The gas sales rollup: billed figures per billing period and its dimensions, rebuilt per
period from the bills (gasworks.reports.sales.store.rebuild), never updated by the writers."""

from django.db import models

from gasworks.lib.fields import DecimalField


class SalesRollup(models.Model):
    """One row per (period, category, district, tariff, tier) of issued bills.

    `tier` 1, 2, 3… holds the bill lines of that tier; tier 0 ("other") holds what a bill charges
    beside its lines: the minimum-charge top-up and the meter rent. A bill's total is its lines
    plus those two, so the amounts of a key's rows add up to its bills' totals, which are the
    ledger's charges for them.

    Counts: `bills` is counted once per bill, on its tier-0 row (every bill has one), so it adds
    up across tiers; `tier_bills` is the number of bills with a line in the row's tier (tier 0:
    with a top-up or rent), for the tier view; it does not add up across tiers. One bill per
    customer and period (a unique constraint), so bills are the households billed in a period.
    `category` is the category the bill was priced in (its tariff's), `district` the premises'."""

    period = models.CharField(max_length=7)
    category = models.CharField(max_length=16)
    district = models.CharField(max_length=64)
    tariff_id = models.BigIntegerField(null=True)
    tier = models.PositiveSmallIntegerField()
    bills = models.PositiveIntegerField(default=0)
    tier_bills = models.PositiveIntegerField(default=0)
    volume = DecimalField(max_digits=18, decimal_places=3, default=0)
    amount = DecimalField(max_digits=18, decimal_places=2, default=0)
    minimum_top_up = DecimalField(max_digits=18, decimal_places=2, default=0)
    meter_rent = DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        indexes = [models.Index(fields=["period", "category", "district"], name="sales_rollup_key_idx")]

    def __str__(self) -> str:
        return f"{self.period} {self.category} {self.district} {self.tariff_id} {self.tier}"
