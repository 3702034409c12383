"""Tests never write into the repository's var/: every path a run uses (landing zone,
warehouse, dlt and Dagster state) defaults to a temporary folder for the whole session.
Tests that run a job point SROS_HOME at their own tmp_path."""

import os
import tempfile

_SESSION_HOME = tempfile.mkdtemp(prefix="sros-tests-")
os.environ["SROS_HOME"] = _SESSION_HOME
os.environ["DAGSTER_HOME"] = os.path.join(_SESSION_HOME, "dagster")
os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
for variable in ("SROS_LANDING_DIR", "SROS_WAREHOUSE_PATH", "SROS_DLT_DIR"):
    os.environ.pop(variable, None)
