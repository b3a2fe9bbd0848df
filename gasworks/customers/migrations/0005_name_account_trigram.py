"""On PostgreSQL, trigram indexes for "name or account number contains" (the audit log's `q`
finds the ledger entries of the customers it matches): Django's icontains is
UPPER(col::text) LIKE UPPER('%q%'), so the indexes are on that expression."""

from django.db import migrations

INDEXES = {
    "customer_name_trgm": "customers_customer USING gin ((UPPER(name::text)) gin_trgm_ops)",
    "customer_account_no_trgm": "customers_customer USING gin ((UPPER(account_no::text)) gin_trgm_ops)",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, target in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_account_event_choices")]
    operations = [migrations.RunPython(forwards, backwards)]
