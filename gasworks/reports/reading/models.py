"""Rollups of the meter reading report, rebuilt by gasworks.reports.rollups (never written by the
metering app). Route, reader and district are plain values, not foreign keys: a rollup row keeps
what it counted even if a route is deleted; 0 means "not on a route" / "no reader"."""

from django.db import models


class ReadingDay(models.Model):
    """Per local day and (route, reader, district): readings by status (rule ""), readings
    flagged with each VEE rule (rule = its code, one row per rule), and tamper alerts opened and
    closed that day (status "" and rule "")."""

    day = models.DateField()
    route_id = models.IntegerField(default=0)
    reader_id = models.IntegerField(default=0)
    district = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, blank=True)
    rule = models.CharField(max_length=24, blank=True)
    # Set only on rows of meters removed within the day's month: a meter read early in a month
    # and removed before a period starting later that month is no longer due in the period.
    removed_on = models.DateField(null=True)
    readings = models.IntegerField(default=0)
    flagged = models.IntegerField(default=0)  # readings that carry a VEE flag (any rule)
    first_reads = models.IntegerField(default=0)  # the meter's first real reading of the month
    alerts_opened = models.IntegerField(default=0)
    alerts_closed = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "rule"], name="rep_readingday_idx")]


class ReadingMeterDay(models.Model):
    """Meters installed and removed per local day and (route, reader, district): the meters
    active in any span are those installed by its end less those removed before its start."""

    day = models.DateField()
    route_id = models.IntegerField(default=0)
    reader_id = models.IntegerField(default=0)
    district = models.CharField(max_length=64, blank=True)
    installed = models.IntegerField(default=0)
    removed = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day"], name="rep_readingmeterday_idx")]


class MeterLastRead(models.Model):
    """Per meter: installed or not, and since when it has had no real reading (its newest
    reading that is neither estimated nor rejected, else the start of its install day). The
    list "no reading for N days" is then an index range over `quiet_since`."""

    meter_id = models.BigIntegerField(primary_key=True)
    active = models.BooleanField()
    quiet_since = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["active", "quiet_since"], name="rep_meterlastread_idx")]
