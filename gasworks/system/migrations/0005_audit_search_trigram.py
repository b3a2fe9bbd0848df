"""On PostgreSQL, trigram indexes for the audit log's text search (`q`) over its entries' text."""

from django.db import migrations

from gasworks.lib.db import icontains_trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("system", "0004_audit_log_indexes")]
    operations = [
        icontains_trigram_indexes(
            {
                "audit_repr_trgm": ("system_auditentry", "object_repr"),
                "audit_note_trgm": ("system_auditentry", "note"),
            }
        )
    ]
