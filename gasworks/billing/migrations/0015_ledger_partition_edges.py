"""The ledger entries' DEFAULT partition becomes two range edges, billing_ledgerentry_before
(MINVALUE to the first month) and billing_ledgerentry_after (after the last month to MAXVALUE),
keeping every row: an entry of any time is still taken, and now PostgreSQL reads the partitions
in order (an account's newest entries stop at the newest month that has them) and prunes a
month's read to its month (gasworks/lib/partitions). The rows move between partitions, never
through the parent: the ledger's keys (billing_ledgerkey) stay as they are. PostgreSQL only."""

from django.db import migrations

from gasworks.lib.partitions import edges_instead_of_default


class Migration(migrations.Migration):
    dependencies = [("billing", "0014_partition_ledger")]

    operations = [edges_instead_of_default("billing_ledgerentry", "created_at")]
