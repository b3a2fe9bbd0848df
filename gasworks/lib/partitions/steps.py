"""Migration steps of partitioned tables that several apps take alike."""

from django.db import migrations

from gasworks.lib.partitions.store import replace_default, restore_default


def edges_instead_of_default(table: str, column: str) -> migrations.RunPython:
    """The step that replaces ``table``'s DEFAULT partition by the two range edges, every row
    kept (``replace_default``), and back; nothing on SQLite."""

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                replace_default(cursor, table, column)

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                restore_default(cursor, table)

    return migrations.RunPython(forward, backward)
