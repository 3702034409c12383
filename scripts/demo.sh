#!/usr/bin/env bash
# The main job on the embedded default: set up .venv, generate the demo company, ingest it
# with dlt, dbt build (seeds, staging, marts, tests), print the load report. One line per stage
# on the terminal; the whole log (Dagster events, dbt output) in var/logs/, named at the end.
# Arguments go to `sros demo` (e.g. --leads 100000 --seed 7, -v for the whole log on the
# terminal). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/sros demo "$@"
