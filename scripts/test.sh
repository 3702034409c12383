#!/usr/bin/env bash
# Every test, as CI runs them: set up .venv, then lint Python and SQL and run pytest on every
# core (unit tests, ingestion, dbt builds and full Dagster job runs on small generated
# companies, each in a temporary folder). Arguments go to pytest (e.g. -n0 -k name).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
# Lint and parse against a throwaway warehouse, never the one the demo built.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export SROS_HOME="$scratch"

echo "== ruff"
ruff check .
ruff format --check .

echo "== dbt parse"
dbt parse --quiet --profiles-dir .

echo "== sqlfluff (dbt templater)"
sqlfluff lint --processes 0 models macros tests/dbt  # 0: every core

echo "== pytest"
pytest "$@"
