#!/usr/bin/env bash
# Recompile the dependency locks from pyproject.toml. Run after changing a dependency.
set -euo pipefail
cd "$(dirname "$0")/.."
uv_bin=${UV:-uv}
"$uv_bin" pip compile --quiet pyproject.toml --extra dev --extra spark --python-version 3.11 \
    --no-header --annotation-style line -o requirements/main.lock
