"""The readings' DEFAULT partition becomes two range edges, metering_reading_before (MINVALUE to
the first month) and metering_reading_after (after the last month to MAXVALUE), keeping every
row: an insert of any time is still taken, and now PostgreSQL reads the partitions in order
(a meter's newest readings stop at the newest month that has them) and prunes a month's read to
its month (gasworks/lib/partitions). PostgreSQL only; SQLite keeps the plain table."""

from django.db import migrations

from gasworks.lib.partitions import edges_instead_of_default


class Migration(migrations.Migration):
    dependencies = [("metering", "0010_reading_no_use_index")]

    operations = [edges_instead_of_default("metering_reading", "taken_at")]
