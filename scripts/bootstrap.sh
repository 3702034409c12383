#!/usr/bin/env bash
# Create .venv and install the locked dependencies into it. Safe to run again: it does
# nothing when the lock has not changed since the last successful install.
# Needs only Python 3.11 and pip (plus network access to PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin=${SROS_PYTHON:-python3.11}
if ! command -v "$python_bin" >/dev/null 2>&1; then
    echo "bootstrap: $python_bin not found; SROS needs Python 3.11 (set SROS_PYTHON to its path)" >&2
    exit 1
fi

lock=requirements/main.lock
docs_assets=expectations/data_docs
stamp=.venv/.sros-installed
# This script is in the stamp too: a venv set up by an older version of it is set up again.
wanted=$(cat "$lock" pyproject.toml "$docs_assets/package-lock.json" scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    exit 0
fi

echo "bootstrap: installing the locked dependencies into .venv (first run takes a few minutes)" >&2
[ -x .venv/bin/python ] || "$python_bin" -m venv .venv
# uv installs the ~170 pinned packages far faster than pip; it is pinned like everything else.
.venv/bin/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
# Compiled to bytecode once here, not at every start: uv does not compile by default, and
# where PYTHONDONTWRITEBYTECODE is set (this project's CI machines) Python never caches what
# it compiles, so every process (each dbt call, the expectations, each pipeline step) compiled
# its imports again: `import great_expectations` took 6.9 s, 3.0 s compiled; dbt 2.9 s, 1.6 s.
.venv/bin/uv pip sync --quiet --compile-bytecode --python .venv/bin/python "$lock"
.venv/bin/uv pip install --quiet --python .venv/bin/python --no-deps --editable .
# The scripts and styles of the Great Expectations Data Docs, so the site works offline
# (expectations/offline_docs.py): exact versions from the npm registry's package-lock.json.
if command -v npm >/dev/null 2>&1; then
    npm ci --prefix "$docs_assets" --silent --no-audit --no-fund --ignore-scripts
else
    echo "bootstrap: npm not found: the Data Docs will load their scripts from public CDNs" >&2
fi
echo "$wanted" > "$stamp"
