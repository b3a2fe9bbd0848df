"""The safety report's rollup: per local day and district, the inspection figures, and per day,
district and hazard level the hazards raised and closed with a histogram of closure days (whole
days, so percentiles over any span of days stay exact). Rebuilt per day by rollups.refresh()."""

from django.db import models


class SafetyInspectionDay(models.Model):
    day = models.DateField()
    district = models.CharField(max_length=64, blank=True)
    due = models.PositiveIntegerField(default=0)
    covered = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    nobody_home = models.PositiveIntegerField(default=0)
    follow_ups = models.PositiveIntegerField(default=0)
    follow_ups_done = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "district"], name="safety_insp_day_unique")]


class SafetyHazardDay(models.Model):
    day = models.DateField()
    district = models.CharField(max_length=64, blank=True)
    level = models.CharField(max_length=16)
    raised = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "district", "level"], name="safety_hazard_day_unique")
        ]


class SafetyClosureDay(models.Model):
    """Hazards closed on `day` that took `days` whole local days from raised to closed."""

    day = models.DateField()
    district = models.CharField(max_length=64, blank=True)
    level = models.CharField(max_length=16)
    days = models.PositiveIntegerField()
    hazards = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "district", "level", "days"], name="safety_closure_day_unique"
            )
        ]
