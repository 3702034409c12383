"""A deployment's configuration, kept outside the repository: `$SROS_HOME/sros.yml`.

The repository holds the definitions everyone shares (seeds, models, contracts); what belongs
to one company's installation lives beside its landing zone and warehouse, in a file
`sros init` writes with every setting commented. A missing file means the defaults below.

    sources:
      salesforce:
        encoding: utf-8        # how the landing files of this source are encoded
    pseudonym_key_file: ~/.config/sros/pseudonym.key

The pseudonym key is the secret behind every published person id and email hash (keyed
HMAC-SHA256, see sros/pseudonyms.py). `sros init` creates it once, owner-only (0600, in a
0700 folder), outside the repository; losing it changes every pseudonym at the next build,
leaking it lets whoever has a list of emails find those persons in the marts.
"""

from __future__ import annotations

import codecs
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sros import paths

DEFAULT_ENCODING = "utf-8"
DEFAULT_KEY_FILE = Path("~/.config/sros/pseudonym.key")
KEY_BYTES = 32  # HMAC-SHA256 key: 256 bits


class ConfigError(ValueError):
    """The configuration file is unreadable or names something that does not exist."""


@dataclass(frozen=True)
class SourceConfig:
    encoding: str = DEFAULT_ENCODING


@dataclass(frozen=True)
class Config:
    path: Path
    sources: dict[str, SourceConfig] = field(default_factory=dict)
    pseudonym_key_file: Path = DEFAULT_KEY_FILE

    def source(self, name: str) -> SourceConfig:
        return self.sources.get(name, SourceConfig())


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
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(document).__name__}")
    unknown = sorted(set(document) - {"sources", "pseudonym_key_file"})
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {unknown}; see `sros init` for the list")
    sources = {}
    for name, settings in (document.get("sources") or {}).items():
        encoding = (settings or {}).get("encoding", DEFAULT_ENCODING)
        try:
            codecs.lookup(encoding)
        except LookupError as error:
            raise ConfigError(
                f"{path}: sources.{name}.encoding {encoding!r} is not an encoding Python "
                "knows (e.g. utf-8, cp1252, latin-1)"
            ) from error
        sources[name] = SourceConfig(encoding=encoding)
    return Config(
        path=path, sources=sources, pseudonym_key_file=_key_file(document.get("pseudonym_key_file"))
    )


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
# Every setting is optional: what is commented out takes the default shown.

# How each source system's landing files are encoded (default utf-8). A file that does not
# decode is quarantined with its exact bytes kept.
# sources:
#   salesforce:
#     encoding: cp1252
#   hubspot:
#     encoding: utf-8

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
