"""The audit log's filters read newest first through an index each (who, object type, action,
then the time) instead of sorting every matching row: a year of a million customers puts tens
of millions of entries in the ledger part and a rare action (a reversal) would otherwise walk all
of them back in time."""

import re

import pytest
from django.db import connection

from gasworks.system import auditlog

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]


def _plans(filters: auditlog.Filters) -> list[str]:
    with connection.cursor() as cursor:
        # Tiny tables: ask what an ordered index scan gives (the statistics of the moment would
        # pick a sequential or bitmap scan and a sort, or another index on the same leading
        # column and a sort: rows=20 makes a sort look free). The question is whether an index
        # serves the filter newest first, so a plan that needs a sort is ruled out.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        return [part[:50].explain() for part in auditlog.LogPage(filters).query.parts]


@pytest.mark.parametrize(
    ("filters", "indexes"),
    [
        # On PostgreSQL the ledger is partitioned by month: each partition reads its own copy of
        # the index (named by PostgreSQL after the partition), newest first, merged in order.
        (
            auditlog.Filters(actor=1),
            [
                "audit_actor_time_idx",
                r"ledger_created_by_time_idx|ledgerentry_\w+_created_by_id_created_at_id_idx",
            ],
        ),
        (
            auditlog.Filters(action="reversal"),
            [r"ledger_rare_kind_time_idx|ledgerentry_\w+_kind_created_at_id_idx"],
        ),
        (auditlog.Filters(action="approve"), ["audit_action_time_idx"]),
        (auditlog.Filters(model="payments.Refund"), ["audit_model_time_idx"]),
    ],
)
def test_each_filter_reads_its_index_newest_first(filters, indexes):
    plans = _plans(filters)
    assert len(plans) == len(indexes), plans
    for plan, index in zip(plans, indexes, strict=True):
        assert re.search(index, plan), plan
        # Ordered by the index; at most an incremental sort on the id among equal times.
        # (A Merge Append's "Sort Key" line merges ordered index scans: no Sort node.)
        assert not re.search(r"(^|->  )Sort  \(", plan, re.MULTILINE), plan
