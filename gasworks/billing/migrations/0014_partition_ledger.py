"""Ledger entries become a table partitioned by month of created_at on PostgreSQL (SQLite keeps
the plain table), with every row, column, check, foreign key and index; the primary key becomes
(id, created_at).

Two rules were unique indexes that cannot include created_at, and each stays exact:
- one entry per idempotency key: billing_ledgerkey holds every key (its primary key, named
  ledger_idempotency_key_unique as the old constraint was, so the error names the same rule),
  written by a statement trigger on the entries in the same statement as the entries (ORM,
  bulk_create and COPY alike): a second entry with a key already used fails its statement;
- one reversal per entry: a check makes a reversal's key "reversal:<id of the entry it
  reverses>" (as ledger.reverse writes it), so the key rule above allows one only.
Lookups by key and by reversed entry keep a (non-unique) index on every partition."""

from django.db import migrations
from django.utils import timezone

from gasworks.lib import partitions

TABLE, COLUMN = "billing_ledgerentry", "created_at"
UNIQUE = ("ledger_idempotency_key_unique", "billing_ledgerentry_reverses_id_key")

KEYS = """
CREATE TABLE billing_ledgerkey (
    key varchar(120) CONSTRAINT ledger_idempotency_key_unique PRIMARY KEY,
    entry_id bigint NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO billing_ledgerkey SELECT idempotency_key, id, created_at FROM billing_ledgerentry
    WHERE idempotency_key IS NOT NULL;
CREATE FUNCTION billing_ledgerkey_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO billing_ledgerkey SELECT idempotency_key, id, created_at FROM new_entries
        WHERE idempotency_key IS NOT NULL;
    RETURN NULL;
END $$;
CREATE FUNCTION billing_ledgerkey_drop() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM billing_ledgerkey k USING old_entries o WHERE k.key = o.idempotency_key;
    RETURN NULL;
END $$;
CREATE FUNCTION billing_ledgerkey_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM billing_ledgerkey k USING old_entries o WHERE k.key = o.idempotency_key;
    INSERT INTO billing_ledgerkey SELECT idempotency_key, id, created_at FROM new_entries
        WHERE idempotency_key IS NOT NULL;
    RETURN NULL;
END $$;
CREATE FUNCTION billing_ledgerkey_empty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE billing_ledgerkey;
    RETURN NULL;
END $$;
CREATE TRIGGER ledger_keys AFTER INSERT ON billing_ledgerentry REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION billing_ledgerkey_write();
-- Entries are never deleted nor their keys changed; these keep the keys a mirror of the
-- entries even so (a test's or a benchmark's clean-up).
CREATE TRIGGER ledger_keys_deleted AFTER DELETE ON billing_ledgerentry REFERENCING OLD TABLE AS old_entries
    FOR EACH STATEMENT EXECUTE FUNCTION billing_ledgerkey_drop();
CREATE TRIGGER ledger_keys_updated AFTER UPDATE ON billing_ledgerentry
    REFERENCING OLD TABLE AS old_entries NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION billing_ledgerkey_rewrite();
CREATE TRIGGER ledger_keys_truncated AFTER TRUNCATE ON billing_ledgerentry
    FOR EACH STATEMENT EXECUTE FUNCTION billing_ledgerkey_empty();
CREATE INDEX ledger_idempotency_key_idx ON billing_ledgerentry (idempotency_key);
CREATE INDEX ledger_reverses_idx ON billing_ledgerentry (reverses_id) WHERE reverses_id IS NOT NULL;
ALTER TABLE billing_ledgerentry ADD CONSTRAINT ledger_reversal_keyed
    CHECK (reverses_id IS NULL OR idempotency_key = 'reversal:' || reverses_id::text);
"""

NO_KEYS = """
ALTER TABLE billing_ledgerentry DROP CONSTRAINT ledger_reversal_keyed;
DROP INDEX ledger_idempotency_key_idx;
DROP INDEX ledger_reverses_idx;
DROP TRIGGER ledger_keys ON billing_ledgerentry;
DROP TRIGGER ledger_keys_deleted ON billing_ledgerentry;
DROP TRIGGER ledger_keys_updated ON billing_ledgerentry;
DROP TRIGGER ledger_keys_truncated ON billing_ledgerentry;
DROP FUNCTION billing_ledgerkey_write(), billing_ledgerkey_drop(), billing_ledgerkey_rewrite(),
    billing_ledgerkey_empty();
DROP TABLE billing_ledgerkey;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        partitions.convert(cursor, TABLE, COLUMN, ahead=3, today=timezone.localdate(), skip_unique=UNIQUE)
        cursor.execute(KEYS)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(NO_KEYS)
        partitions.unconvert(cursor, TABLE, COLUMN)
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {UNIQUE[0]} UNIQUE (idempotency_key)")
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {UNIQUE[1]} UNIQUE (reverses_id)")


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0013_entry_refs_unconstrained"),
        ("cylinders", "0004_entry_refs_unconstrained"),
    ]

    operations = [migrations.RunPython(forward, backward)]
