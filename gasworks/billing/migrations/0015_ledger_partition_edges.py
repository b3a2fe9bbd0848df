"""The ledger entries' DEFAULT partition becomes two range edges, billing_ledgerentry_before
(MINVALUE to the first month) and billing_ledgerentry_after (after the last month to MAXVALUE),
keeping every row: an entry of any time is still taken, and now PostgreSQL reads the partitions
in order (an account's newest entries stop at the newest month that has them) and prunes a
month's read to its month (gasworks/lib/partitions). The rows move between partitions, never
through the parent: the ledger's keys (billing_ledgerkey) stay as they are. PostgreSQL only."""

from django.db import migrations

from gasworks.lib import partitions

TABLE, COLUMN = "billing_ledgerentry", "created_at"


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
    dependencies = [("billing", "0014_partition_ledger")]

    operations = [migrations.RunPython(forward, backward)]
