#!/usr/bin/env bash
# The whole suite: lint, types, migrations check, then pytest on SQLite and again on PostgreSQL.
# PostgreSQL comes from DATABASE_URL (CI) or the local default below when it answers.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PG_URL="${DATABASE_URL:-${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}}"
WORKERS="${TEST_WORKERS:-2}"
export DJANGO_SETTINGS_MODULE=gasworks.settings

echo "== ruff"
.venv/bin/ruff check .
echo "== mypy"
.venv/bin/mypy gasworks
echo "== migrations are complete"
DATABASE_URL= $PY manage.py makemigrations --check --dry-run

echo "== pytest on SQLite"
DATABASE_URL= $PY -m pytest -n "$WORKERS" -m "not postgres_only" "$@"

if $PY - "$PG_URL" <<'PYEOF'
import sys, psycopg
try:
    url = sys.argv[1].replace("postgres://", "postgresql://", 1)
    psycopg.connect(url, connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL not reachable at {sys.argv[1]}: {exc}", file=sys.stderr)
    sys.exit(1)
PYEOF
then
  echo "== pytest on PostgreSQL ($PG_URL)"
  DATABASE_URL="$PG_URL" $PY -m pytest -n "$WORKERS" "$@"
elif [ "${REQUIRE_SERVICES:-}" = "1" ]; then
  echo "PostgreSQL is required (REQUIRE_SERVICES=1) but not reachable" >&2
  exit 1
else
  echo "== SKIPPED: the PostgreSQL pass (no server at $PG_URL)"
fi
