"""The readings' DEFAULT partition becomes two range edges, metering_reading_before (MINVALUE to
the first month) and metering_reading_after (after the last month to MAXVALUE), keeping every
row: an insert of any time is still taken, and now PostgreSQL reads the partitions in order
(a meter's newest readings stop at the newest month that has them) and prunes a month's read to
its month (gasworks/lib/partitions). PostgreSQL only; SQLite keeps the plain table."""

from django.db import migrations

from gasworks.lib import partitions

TABLE, COLUMN = "metering_reading", "taken_at"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        partitions.replace_default(cursor, TABLE, COLUMN)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        partitions.restore_default(cursor, TABLE)


class Migration(migrations.Migration):
    dependencies = [("metering", "0010_reading_no_use_index")]

    operations = [migrations.RunPython(forward, backward)]
