import pytest


@pytest.fixture(autouse=True)
def _postgres_only(request):
    """@pytest.mark.postgres_only tests need real row locks under concurrency: they run in the
    PostgreSQL pass only (SQLite locks whole tables, so they would fail for the wrong reason)."""
    if request.node.get_closest_marker("postgres_only"):
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.skip("needs PostgreSQL")
