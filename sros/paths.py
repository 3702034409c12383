"""Where the project and a run's files live. Every path can be moved with an environment
variable, so tests and benchmarks run in temporary folders."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_DIR / "models"
SEEDS_DIR = PROJECT_DIR / "seeds"


def home_dir() -> Path:
    """Root of everything a run writes (landing files, warehouse, dlt state, Dagster home)."""
    return Path(os.environ.get("SROS_HOME", PROJECT_DIR / "var")).resolve()


def landing_dir() -> Path:
    return Path(os.environ.get("SROS_LANDING_DIR", home_dir() / "landing")).resolve()


def warehouse_path() -> Path:
    return Path(os.environ.get("SROS_WAREHOUSE_PATH", home_dir() / "warehouse.duckdb")).resolve()


def dlt_dir() -> Path:
    return Path(os.environ.get("SROS_DLT_DIR", home_dir() / "dlt")).resolve()


def published_path() -> Path:
    """The published warehouse BI tools read: replaced atomically after a good build."""
    return Path(
        os.environ.get("SROS_PUBLISHED_PATH", home_dir() / "published" / "warehouse.duckdb")
    ).resolve()


def gx_dir() -> Path:
    """The Great Expectations project (suites, validation results, Data Docs) a run writes:
    <gx_dir>/gx/uncommitted/data_docs/local_site/index.html is the Data Docs site."""
    return Path(os.environ.get("SROS_GX_DIR", home_dir())).resolve()


def data_docs_index() -> Path:
    return gx_dir() / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def exports_dir() -> Path:
    """The finance export files: <exports_dir>/<as-of date>/ (sros/exports.py)."""
    return Path(os.environ.get("SROS_EXPORTS_DIR", home_dir() / "exports")).resolve()
