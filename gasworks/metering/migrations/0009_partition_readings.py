"""Readings become a table partitioned by month of taken_at on PostgreSQL (SQLite keeps the plain
table). Every row, column, check, foreign key and index is kept; the primary key becomes
(id, taken_at) and the one-reading-per-meter-and-time rule, which includes taken_at, stays a
real unique constraint. It runs after every reference to readings lost its database foreign key
(none can reference a partitioned table's id alone)."""

from django.db import migrations
from django.utils import timezone

from gasworks.lib import partitions

TABLE, COLUMN = "metering_reading", "taken_at"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        partitions.convert(cursor, TABLE, COLUMN, ahead=3, today=timezone.localdate())


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        partitions.unconvert(cursor, TABLE, COLUMN)


class Migration(migrations.Migration):
    dependencies = [
        ("metering", "0008_reading_refs_unconstrained"),
        ("billing", "0012_reading_refs_unconstrained"),
        ("service", "0002_reading_refs_unconstrained"),
    ]

    operations = [migrations.RunPython(forward, backward)]
