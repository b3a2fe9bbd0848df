"""Shared start-up of the benchmark scripts: a dedicated PostgreSQL database, migrated."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup(name: str, fresh: bool = False) -> str:
    """Point Django at BENCH_DATABASE_URL (default: a database named after the benchmark),
    create it if needed (drop it first with fresh=True), migrate, and return the URL."""
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    url = (
        os.environ.get("BENCH_DATABASE_URL_" + name.upper())
        or f"postgres://postgres@127.0.0.1:5432/gasworks_bench_{name}"
    )
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gasworks.settings")
    import psycopg

    db = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1) + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{db}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{db}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]
