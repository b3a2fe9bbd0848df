"""On PostgreSQL, trigram indexes for the audit log's text search (`q`): Django's icontains is
UPPER(col::text) LIKE UPPER('%q%'), which no b-tree serves, so the indexes are on that
expression. SQLite scans; fine at a station's size."""

from django.db import migrations

INDEXES = {
    "audit_repr_trgm": "system_auditentry USING gin ((UPPER(object_repr::text)) gin_trgm_ops)",
    "audit_note_trgm": "system_auditentry USING gin ((UPPER(note::text)) gin_trgm_ops)",
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
    dependencies = [("system", "0004_audit_log_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
