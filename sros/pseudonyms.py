"""Keyed pseudonyms: person ids and email hashes are HMAC-SHA256 digests under a secret key.

An unsalted hash of an email (md5, sha256) is no pseudonym: whoever holds a list of emails
hashes it and finds those persons in the marts. With HMAC-SHA256 under the installation's
secret key (sros/config.py `pseudonym_key()`, created by `sros init`), the same list finds
nobody unless the key is known too. The ids stay stable from build to build as long as the
key does; a new key gives every person a new id at the next build.

The key never appears in SQL text, in dbt's compiled files under target/ or in any log: it is
installed as DATA. `install_key` writes the key's two HMAC pads (key XOR 0x36.., key XOR
0x5c..) as bound parameters into a one-row table of the WORKING warehouse,
`_sros_private.pseudonym_key` (inner_pad, outer_pad blobs, and a short fingerprint that names
the key without revealing it). dbt declares that table as the source
`sros_private.pseudonym_key`, and the macro `pseudonym(expression)` computes

    sha256(outer_pad || unhex(sha256(inner_pad || utf8(expression))))

which is HMAC-SHA256(key, expression), hex (RFC 2104; the key is 32 bytes, shorter than
SHA-256's 64-byte block, so it is only zero-padded). The pads are as secret as the key
(either gives the key back): the working warehouse already holds the raw emails and is an
owner-only file (sros.paths.protect_private_files); publication copies only the marts and
seeds, never `_sros_private`.

Where it is installed: at the end of every `sros.ingest.pipeline.ingest()` (scripts, tests,
benchmarks) and by the Dagster asset `sros_private/pseudonym_key`
(orchestration/defs/pseudonyms.py), upstream of every dbt model that computes a pseudonym.
Installing is idempotent; a changed key file replaces the row.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import duckdb

from sros.config import pseudonym_key

SCHEMA = "_sros_private"  # never published: sros.publish copies marts and seeds only
TABLE = "pseudonym_key"
BLOCK_SIZE = 64  # SHA-256's block: HMAC pads the key to it
_FINGERPRINT_MESSAGE = b"sros pseudonym key fingerprint"


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer pads of `key` (RFC 2104)."""
    if len(key) > BLOCK_SIZE:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK_SIZE, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def pseudonym(value: str, key: bytes | None = None) -> str:
    """HMAC-SHA256 of `value` (UTF-8) under `key` (default: the installation's key), hex:
    what the dbt macro `pseudonym` computes for the same text."""
    key = pseudonym_key() if key is None else key
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def fingerprint(key: bytes) -> str:
    """Twelve hex digits naming a key (an HMAC of a fixed text), safe to log and compare."""
    return hmac.new(key, _FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()[:12]


def install_key(warehouse: Path, key: bytes | None = None) -> str:
    """Write the key's HMAC pads into `_sros_private.pseudonym_key` of the working warehouse
    (as bound parameters, so no SQL text holds them); return the key's fingerprint.

    Raises sros.config.MissingKeyError (run `sros init`) when there is no key."""
    key = pseudonym_key() if key is None else key
    inner_pad, outer_pad = hmac_pads(key)
    key_fingerprint = fingerprint(key)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(f"create schema if not exists {SCHEMA}")
        installed = None
        if connection.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [SCHEMA, TABLE],
        ).fetchone()[0]:
            installed = connection.execute(
                f"select min(key_fingerprint), count(*) from {SCHEMA}.{TABLE}"
            ).fetchone()
        if installed != (key_fingerprint, 1):
            connection.execute(
                f"create or replace table {SCHEMA}.{TABLE} as select "
                "cast(? as blob) as inner_pad, cast(? as blob) as outer_pad, "
                "cast(? as varchar) as key_fingerprint",
                [inner_pad, outer_pad, key_fingerprint],
            )
    return key_fingerprint
