"""A deployment's configuration, kept outside the repository: `$SROS_HOME/sros.yml`.

The repository holds the definitions everyone shares (seeds, models, contracts); what belongs
to one company's installation lives beside its landing zone and warehouse, in a file
`sros init` writes with every setting commented (CONFIG_TEMPLATE below is that file). A
missing file means the defaults.

    systems:                   # source systems on (default) or off
      hubspot: false
    corporate_currency: EUR    # marts convert amounts to it
    as_of_date: 2017-12-31     # default: the day of the latest CRM sync in the data
    calendar_start_date: 2016-01-01   # default: January 1st of the earliest year in the data
    sources:
      salesforce:
        encoding: cp1252       # how the landing files of this source are encoded
        schema: salesforce     # where its raw tables are, e.g. a Fivetran schema
    vars:                      # any other dbt var of dbt_project.yml (thresholds, windows)
      unmapped_value_severity: warn
    pseudonym_key_file: ~/.config/sros/pseudonym.key

Everything but the encodings and the key file reaches dbt as vars (`Config.dbt_vars`): the
CLI and Dagster pass them to every dbt command (`--vars`), and `sros dbt-vars` prints them
for a plain `dbt build --vars "$(sros dbt-vars)"`. dbt_project.yml keeps the defaults, so the
repository's own settings are written once.

The pseudonym key is the secret behind every published person id and email hash (keyed
HMAC-SHA256, see sros/pseudonyms.py). `sros init` creates it once, owner-only (0600, in a
0700 folder), outside the repository; losing it changes every pseudonym at the next build,
leaking it lets whoever has a list of emails find those persons in the marts.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import yaml

from sros import paths
from sros.contracts import source_names

DEFAULT_ENCODING = "utf-8"
DEFAULT_KEY_FILE = Path("~/.config/sros/pseudonym.key")
KEY_BYTES = 32  # HMAC-SHA256 key: 256 bits


# DuckDB's memory bound, beyond which it spills to disk: the dbt build's (profiles.yml reads
# the same variable, with the same default) and ingestion's reader's.
DUCKDB_MEMORY_LIMIT_DEFAULT = "6GB"


class ConfigError(ValueError):
    """The configuration file is unreadable or names something that does not exist."""


def duckdb_memory_limit() -> str:
    """SROS_DUCKDB_MEMORY_LIMIT (default 6GB), checked: a value DuckDB cannot read raises
    ConfigError, so it fails the step that reads it instead of every file that step reads."""
    return _checked_memory_limit(
        os.environ.get("SROS_DUCKDB_MEMORY_LIMIT", DUCKDB_MEMORY_LIMIT_DEFAULT)
    )


@cache
def _checked_memory_limit(value: str) -> str:
    import duckdb

    try:
        duckdb.connect(config={"memory_limit": value}).close()
    except duckdb.Error as error:
        reason = str(error).splitlines()[0]
        raise ConfigError(
            f"SROS_DUCKDB_MEMORY_LIMIT={value!r} is not a memory size DuckDB reads ({reason}); "
            "write e.g. 6GB or 500MB"
        ) from None
    return value


# The SROS_* variables a run reads that must be a whole number of at least 1 (profiles.yml).
WHOLE_NUMBER_VARIABLES = (
    "SROS_DUCKDB_THREADS",
    "SROS_DBT_THREADS",
    "SROS_SPARK_SHUFFLE_PARTITIONS",
)


def check_environment() -> None:
    """Raise ConfigError, in one line naming the variable, for a malformed SROS_* setting a
    run reads (DuckDB's memory and threads, dbt's threads, the lock wait): caught before the
    run starts, not by dbt or DuckDB minutes into it."""
    from sros.locks import lock_timeout

    duckdb_memory_limit()
    for name in WHOLE_NUMBER_VARIABLES:
        raw = os.environ.get(name)
        if raw is not None and not (raw.strip().isdigit() and int(raw) >= 1):
            raise ConfigError(f"{name}={raw!r} is not a whole number of at least 1 (e.g. {name}=2)")
    try:
        lock_timeout()
    except ValueError as error:
        raise ConfigError(str(error)) from None


SETTINGS = (
    "systems",
    "corporate_currency",
    "as_of_date",
    "calendar_start_date",
    "calendar_end_date",
    "sources",
    "vars",
    "pseudonym_key_file",
)
SOURCE_SETTINGS = ("encoding", "database", "schema")
DATE_SETTINGS = ("as_of_date", "calendar_start_date", "calendar_end_date")
# dbt vars that dbt_project.yml leaves unset on purpose (the models then derive them or use a
# per-source default), besides the ones it declares.
OPTIONAL_DBT_VARS = ("as_of_date", "calendar_start_date")


@dataclass(frozen=True)
class SourceConfig:
    encoding: str = DEFAULT_ENCODING


@dataclass(frozen=True)
class Config:
    path: Path
    sources: dict[str, SourceConfig] = field(default_factory=dict)
    pseudonym_key_file: Path = DEFAULT_KEY_FILE
    dbt_vars: dict[str, object] = field(default_factory=dict)  # only what the file sets

    def source(self, name: str) -> SourceConfig:
        return self.sources.get(name, SourceConfig())

    def dbt_vars_json(self) -> str:
        """The dbt vars as one `--vars` argument (JSON is YAML); `{}` when nothing is set."""
        return json.dumps(self.dbt_vars, sort_keys=True)

    def dbt_args(self) -> list[str]:
        """`--vars <json>` for a dbt command, or nothing when the file sets no dbt var."""
        return ["--vars", self.dbt_vars_json()] if self.dbt_vars else []


@cache
def project_dbt_vars() -> frozenset[str]:
    """The vars a configuration may set: those dbt_project.yml declares, the optional ones,
    and each source's `<source>_database` / `<source>_schema`."""
    declared = yaml.safe_load((paths.PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    locations = {f"{name}_{part}" for name in source_names() for part in ("database", "schema")}
    return frozenset(declared) | set(OPTIONAL_DBT_VARS) | locations


def config_path() -> Path:
    """$SROS_CONFIG, else $SROS_HOME/sros.yml."""
    return Path(os.environ.get("SROS_CONFIG", paths.home_dir() / "sros.yml")).expanduser()


def load_config(path: Path | None = None) -> Config:
    """The configuration at `path` (default: config_path()); defaults when there is none."""
    path = path or config_path()
    if not path.exists():
        return Config(path=path, pseudonym_key_file=_key_file(None))
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error
    except ValueError as error:  # YAML reads 2017-13-01 as a date and fails
        raise ConfigError(f"{path}: {error} (a date must be valid, e.g. 2016-01-01)") from error
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(document).__name__}")
    unknown = sorted(set(document) - set(SETTINGS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting(s) {unknown}; the settings are {list(SETTINGS)} "
            "(see the file `sros init` writes)"
        )
    dbt_vars: dict[str, object] = {}
    for name, enabled in _mapping(document, "systems", path).items():
        _known_source(name, f"systems.{name}", path)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{path}: systems.{name} is {enabled!r}; write true or false")
        dbt_vars[f"{name}_enabled"] = enabled
    currency = document.get("corporate_currency")
    if currency is not None:
        if not (isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency)):
            raise ConfigError(
                f"{path}: corporate_currency {currency!r} is not an ISO 4217 code such as EUR"
            )
        dbt_vars["corporate_currency"] = currency
    for name in DATE_SETTINGS:
        if document.get(name) is not None:
            dbt_vars[name] = _iso_date(document[name], name, path)
    sources = {}
    for name, settings in _mapping(document, "sources", path).items():
        _known_source(name, f"sources.{name}", path)
        settings = settings or {}
        unknown = sorted(set(settings) - set(SOURCE_SETTINGS))
        if unknown:
            raise ConfigError(
                f"{path}: sources.{name}: unknown setting(s) {unknown}; use {list(SOURCE_SETTINGS)}"
            )
        encoding = settings.get("encoding", DEFAULT_ENCODING)
        try:
            codecs.lookup(encoding)
        except LookupError as error:
            raise ConfigError(
                f"{path}: sources.{name}.encoding {encoding!r} is not an encoding Python "
                "knows (e.g. utf-8, cp1252, latin-1)"
            ) from error
        sources[name] = SourceConfig(encoding=encoding)
        for part in ("database", "schema"):
            if settings.get(part) is not None:
                dbt_vars[f"{name}_{part}"] = str(settings[part])
    for name, value in _mapping(document, "vars", path).items():
        if name not in project_dbt_vars():
            raise ConfigError(
                f"{path}: vars.{name} is not a var of the dbt project; the vars are listed, "
                "with their defaults, in dbt_project.yml"
            )
        if name in dbt_vars:
            raise ConfigError(f"{path}: vars.{name} is also set by its own setting; keep one")
        dbt_vars[name] = _checked_var(name, value, path)
    start, end = dbt_vars.get("calendar_start_date"), dbt_vars.get("calendar_end_date")
    if start and end and str(start) >= str(end):
        raise ConfigError(
            f"{path}: calendar_start_date {start} is not before calendar_end_date {end}"
        )
    return Config(
        path=path,
        sources=sources,
        pseudonym_key_file=_key_file(document.get("pseudonym_key_file")),
        dbt_vars=dbt_vars,
    )


ENGINES = ("duckdb", "spark")


def engine() -> str:
    """The engine the dbt build runs on: $SROS_ENGINE, `duckdb` (the default) or `spark`,
    the name of its output in profiles.yml (`sros run --engine spark` sets it)."""
    name = os.environ.get("SROS_ENGINE", "duckdb")
    if name not in ENGINES:
        raise ConfigError(f"SROS_ENGINE is {name!r}; use one of {', '.join(ENGINES)}")
    return name


def dbt_installation() -> str:
    """What dbt's parse depends on in this installation: its dbt vars, its mapping seeds and
    the engine (the dbt target)."""
    return json.dumps(
        {
            "vars": load_config().dbt_vars,
            "mappings_dir": str(paths.mappings_dir()),
            "engine": engine(),
        },
        sort_keys=True,
    )


def dbt_target_dir() -> Path:
    """The dbt target folder holding the manifest parsed for this installation:
    target/sros/<hash of dbt_installation()>/, shared by installations with the same vars and
    mapping seeds, never another's (nor target/, which a `dbt parse` by hand rewrites)."""
    digest = hashlib.sha256(dbt_installation().encode()).hexdigest()[:12]
    return paths.PROJECT_DIR / "target" / "sros" / digest


def _mapping(document: dict, name: str, path: Path) -> dict:
    value = document.get(name) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {name} must be a mapping (name: value lines indented below)")
    return value


def _known_source(name: str, where: str, path: Path) -> None:
    if name not in source_names():
        raise ConfigError(f"{path}: {where}: no source system {name!r}; they are {source_names()}")


# What a dbt var set under `vars:` must be, beyond the type of its default in dbt_project.yml:
# (test, what to write). A wrong value would otherwise fail the build minutes in, or worse,
# be read as something else (Jinja's `float` reads "2%" as 0).
VAR_RULES = {
    "corporate_currency": (
        lambda code: re.fullmatch(r"[A-Z]{3}", code) is not None,
        "an ISO 4217 code such as EUR",
    ),
    "unmapped_value_severity": (lambda value: value in ("warn", "error"), "warn or error"),
    "quarantine_max_share": (
        lambda value: 0 <= value <= 1,
        "a share from 0 to 1 (0.02 = 2%)",
    ),
    "pipeline_snapshot_lookback_days": (lambda value: value >= 0, "a number of days, 0 or more"),
    "pipeline_waterfall_period_types": (
        lambda value: (
            bool(value) and all(period in ("week", "month", "quarter", "year") for period in value)
        ),
        "a list of week, month, quarter or year",
    ),
}


TYPE_WORDS = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    list: "a list",
}


@cache
def _project_var_defaults() -> dict[str, object]:
    return yaml.safe_load((paths.PROJECT_DIR / "dbt_project.yml").read_text())["vars"]


def _checked_var(name: str, value: object, path: Path) -> object:
    """A dbt var's value from the file, checked against its default's type and VAR_RULES."""
    if name.endswith("_date"):
        return _iso_date(value, f"vars.{name}", path)
    default = _project_var_defaults().get(name)
    if name.endswith(("_database", "_schema")) or default is None:
        expected: tuple[type, ...] = (str,)
    elif isinstance(default, bool):
        expected = (bool,)
    elif isinstance(default, int | float):
        expected = (int, float) if isinstance(default, float) else (int,)
    else:
        expected = (type(default),)
    right_type = isinstance(value, expected) and not (
        isinstance(value, bool) and bool not in expected
    )
    rule, what = VAR_RULES.get(name, (lambda _: True, TYPE_WORDS[expected[0]]))
    if not right_type or not rule(value):
        default_text = f" (default {default!r})" if default is not None else ""
        raise ConfigError(f"{path}: vars.{name} is {value!r}; write {what}{default_text}")
    return value


def _iso_date(value: object, name: str, path: Path) -> str:
    """A date setting as ISO text (YAML reads an unquoted 2016-01-01 as a date already)."""
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError as error:
        raise ConfigError(f"{path}: {name} {value!r} is not a date such as 2016-01-01") from error


def _key_file(configured: str | None) -> Path:
    """$SROS_PSEUDONYM_KEY_FILE, else the configured path, else ~/.config/sros/pseudonym.key."""
    chosen = os.environ.get("SROS_PSEUDONYM_KEY_FILE") or configured or DEFAULT_KEY_FILE
    return Path(chosen).expanduser().resolve()


class MissingKeyError(ConfigError):
    """No pseudonym key yet: `sros init` creates it."""


def pseudonym_key(config: Config | None = None) -> bytes:
    """The pseudonym key's bytes. Refuses a key file others can read."""
    path = (config or load_config()).pseudonym_key_file
    if not path.exists():
        raise MissingKeyError(
            f"no pseudonym key at {path}: run `sros init` once to create it "
            "(or set SROS_PSEUDONYM_KEY_FILE to the key your team keeps)"
        )
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigError(
            f"pseudonym key {path} is readable by others (mode {mode:o}): chmod 600 {path}"
        )
    key = bytes.fromhex(path.read_text().strip())
    if len(key) < KEY_BYTES:
        raise ConfigError(f"pseudonym key {path} is shorter than {KEY_BYTES} bytes")
    return key


CONFIG_TEMPLATE = """\
# SROS configuration for one installation (written by `sros init`; edit freely).
# Every setting is optional: what is commented out takes the default shown. `sros run`,
# `sros mappings` and Dagster read this file; for a plain dbt command pass its dbt vars:
#   dbt build --profiles-dir . --vars "$(sros dbt-vars)"

# Source systems are all on. Switch off those you do not have: their staging models, and
# everything built only on them, are disabled (marts built on several systems stay).
# systems:
#   salesforce: true
#   hubspot: false
#   marketing: false       # marketing-automation touches and identities
#   ads: false             # ad spend
#   finance: false         # go-to-market expenses
#   billing: false         # subscriptions (MRR, NRR)
#   intent: false          # third-party intent signals

# The currency every mart reports amounts in (ISO 4217). Salesforce's dated conversion
# rates must be quoted per one unit of it.
# corporate_currency: USD

# The day every KPI is "as of". Default: the day of the latest CRM sync in the data (so
# rebuilding the same data gives the same numbers). Pin it to rebuild a past period.
# as_of_date: 2017-12-31

# The calendar (dim_dates, and every daily or period mart) runs from calendar_start_date to
# the day before calendar_end_date. Default start: January 1st of the earliest year any CRM,
# marketing, spend, expense or billing record is dated in; default end: 2031-01-01.
# calendar_start_date: 2016-01-01
# calendar_end_date: 2031-01-01

# Per source system: how its landing files are encoded (default utf-8; a file that does not
# decode is quarantined with its exact bytes kept), and where dbt finds its raw tables when
# they are not the ones ingestion loads (default schema raw_<source> in the warehouse), e.g.
# the schema a Fivetran connector maintains.
# sources:
#   salesforce:
#     encoding: cp1252
#     database: fivetran
#     schema: salesforce
#   hubspot:
#     encoding: utf-8

# Any other dbt var of the project (dbt_project.yml lists them with their defaults and
# meaning): thresholds, look-back windows, how strictly unmapped CRM values fail.
# vars:
#   unmapped_value_severity: warn
#   quarantine_max_share: 0.02    # above this share of quarantined CRM records, no publication
#   pipeline_snapshot_lookback_days: 7

# The secret behind the published person ids and email hashes (HMAC-SHA256). Keep it
# outside the repository, owner-only; every installation that must produce the same
# pseudonyms shares the same key file. SROS_PSEUDONYM_KEY_FILE overrides this.
# pseudonym_key_file: ~/.config/sros/pseudonym.key
"""


def init(path: Path | None = None) -> list[str]:
    """Write a commented configuration file and create the pseudonym key, each only if it
    does not exist yet (safe to run again). Returns one line per thing done or found."""
    path = path or config_path()
    lines = []
    if path.exists():
        lines.append(f"configuration: {path} (kept)")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(CONFIG_TEMPLATE)
        lines.append(f"configuration: {path} (written; every setting commented)")
    key_file = load_config(path).pseudonym_key_file
    if key_file.exists():
        lines.append(f"pseudonym key: {key_file} (kept)")
    else:
        key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES).hex() + "\n")
        lines.append(f"pseudonym key: {key_file} (created, owner-only; back it up)")
    return lines
