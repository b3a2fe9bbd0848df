#!/usr/bin/env bash
# Benchmarks print their figures; they run against PostgreSQL (BENCH_DATABASE_URL).
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/gasworks_bench}"
for bench in benchmarks/bench_*.py; do
  [ -n "${BENCH:-}" ] && [[ "$bench" != *"$BENCH"* ]] && continue
  echo "== $bench"
  .venv/bin/python "$bench"
done
