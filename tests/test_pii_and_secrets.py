"""No personal data in what BI reads, no credential in the repository or in the logs.

PII: every table and every column (cast to text) of the *published* warehouse (all its
schemas: marts, seeds, meta) is scanned for email addresses, phone numbers and the names of
the leads, contacts and users of the working warehouse's staging tables; no published column
may carry a raw personal-data column name. The scanner is tested on planted values first, so
a scan that finds nothing means something. Its patterns are this file's own, independent of
the ones publication masks with (sros.publish.PII_PATTERNS): publication must mask whatever
this scanner flags as an email or phone number in text, while every other word survives.

Pseudonyms: person ids and email hashes are HMAC-SHA256 under the installation's key
(sros/pseudonyms.py). An md5 or a plain sha256 of every known email finds nobody in the
published marts; the HMAC with the key finds every published email hash (the control that the
check can fail). The key appears in no file dbt writes under target/ and in no dbt log.

Files: the working warehouse, the dlt state and Dagster's storage are owner-only after a run
(sros.paths.protect_private_files), as is the key.

Secrets: credentials come only from the environment. The tracked files hold no
credential-looking literal, every credential key in profiles.yml (commented examples included)
reads a `DBT_ENV_SECRET_*` variable, and dbt scrubs such a variable's value from what it logs
while it logs the same value under another name (the control that shows the check can fail).
dlt takes no credential today (the destination is a DuckDB file path, the landing zone a local
folder): if a remote destination or bucket is added, its credentials belong in environment
variables too (dlt reads `DESTINATION__...__CREDENTIALS` / `SOURCES__...`), never in a
tracked `.dlt/secrets.toml`, which the tracked-file scan forbids.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import duckdb
import pytest

from sros.config import pseudonym_key
from sros.contracts import load_contracts
from sros.paths import PROJECT_DIR
from sros.pseudonyms import hmac_pads, pseudonym
from sros.publish import PII_MASKED_TABLE, PII_PATTERNS, PII_SIGNS, publish

# --------------------------------------------------------------------------------------------
# PII scanner

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# International (+1-555-3330085 as the demo CRMs write it, +44 20 7946 0958, +15551234567) or
# North American with separators ((555) 123-4567, 555.123.4567). Not dates (2024-10-01), not
# the all-digit CRM ids (001000000000000135): those have no plus sign and no 3-3-4 grouping.
PHONE = re.compile(
    r"\+\d[\d ().-]{6,}\d|(?:^|[^\d])\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?:[^\d]|$)",
)
PHONE_SHAPED = re.compile(r"^\+?[\d ().-]{7,}$")  # a value that could be a phone as digits only
WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")

# Raw columns that hold a person's email, phone or name (Salesforce lead/contact/user, HubSpot
# contact/owner, marketing identities): none of these names may reach a published table.
RAW_PII_COLUMNS = frozenset(
    {
        "email",
        "phone",
        "first_name",
        "last_name",
        "name",  # salesforce.user.name: the user's full name
        "property_email",
        "property_phone",
        "property_firstname",
        "property_lastname",
    }
)
PII_COLUMN_NAME = re.compile(
    r"e_?mail|phone|mobile|fax|first_?name|last_?name|full_?name|given_?name|family_?name"
    r"|surname|birth"
)
HASHED = re.compile(r"^[0-9a-f]{16,}$")  # a pseudonymised column (`*_hash`) holds digests only


def _words(text: str) -> tuple[str, ...]:
    return tuple(WORD.findall(text.lower()))


@dataclass(frozen=True)
class PersonalData:
    """What identifies a person in the working warehouse."""

    names: frozenset[str]  # first, last and full names (lower case): matched as a whole value
    full_names: frozenset[tuple[str, ...]]  # full names as words: found anywhere inside a text
    emails: frozenset[str]
    phone_digits: frozenset[str]

    @classmethod
    def of(
        cls,
        people: Iterable[tuple[str | None, str | None, str | None]],
        emails: Iterable[str] = (),
        phones: Iterable[str] = (),
    ) -> PersonalData:
        """From (first name, last name, full name) triples, emails and phone numbers."""
        names: set[str] = set()
        full_names: set[tuple[str, ...]] = set()
        for first, last, full in people:
            parts = [p.strip() for p in (first, last, full) if p and p.strip()]
            names.update(p.lower() for p in parts)
            if first and last:
                names.add(f"{first} {last}".strip().lower())
                full_names.add(_words(f"{first} {last}"))
                full_names.add(_words(f"{last} {first}"))  # "Adams, Ada"
            if full and len(_words(full)) > 1:
                full_names.add(_words(full))
        digits = {re.sub(r"\D", "", p) for p in phones if p}
        digits |= {d[-10:] for d in digits if len(d) > 10}  # without the country code
        return cls(
            frozenset(names),
            frozenset(n for n in full_names if len(n) > 1),
            frozenset(e.lower() for e in emails if e),
            frozenset(d for d in digits if len(d) >= 7),
        )

    @cached_property
    def _name_lengths(self) -> frozenset[int]:
        return frozenset(len(name) for name in self.full_names)

    def problems(self, value: str) -> list[str]:
        """What in one text value is personal data."""
        found = []
        if EMAIL.search(value) or value.strip().lower() in self.emails:
            found.append("email")
        if PHONE.search(value) or (
            PHONE_SHAPED.match(value.strip()) and re.sub(r"\D", "", value) in self.phone_digits
        ):
            found.append("phone")
        if value.strip().lower() in self.names:
            found.append("name")
        else:
            words = _words(value)
            if any(
                words[start : start + length] in self.full_names
                for length in self._name_lengths
                for start in range(len(words) - length + 1)
            ):
                found.append("name")
        return found


def personal_data(working: Path) -> tuple[PersonalData, set[str]]:
    """The people of the working warehouse's staging tables, and the tables they came from.

    Names come from every staging relation with first_name/last_name/full_name columns,
    emails from `email` columns, phones from `phone`/`mobile_phone` columns."""
    people: list[tuple] = []
    emails: list[str] = []
    phones: list[str] = []
    sources: set[str] = set()
    with duckdb.connect(str(working), read_only=True) as connection:
        columns: dict[str, set[str]] = {}
        for table, column in connection.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'staging'"
        ).fetchall():
            columns.setdefault(table, set()).add(column)
        for table, names in sorted(columns.items()):
            relation = f'staging."{table}"'
            if names & {"first_name", "last_name", "full_name"}:
                sources.add(table)
                select = ", ".join(
                    f'"{c}"' if c in names else "null"
                    for c in ("first_name", "last_name", "full_name")
                )
                people += connection.execute(f"select distinct {select} from {relation}").fetchall()
            for column in names & {"email", "phone", "mobile_phone"}:
                values = connection.execute(f'select "{column}" from {relation}').fetchall()
                (emails if column == "email" else phones).extend(v for (v,) in values)
    return PersonalData.of(people, emails, phones), sources


def scan(published: Path, personal: PersonalData) -> list[str]:
    """Every finding of personal data in every table and column of a warehouse file."""
    findings = []
    with duckdb.connect(str(published), read_only=True) as connection:
        columns = connection.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "order by 1, 2, ordinal_position"
        ).fetchall()
        for schema, table, column in columns:
            where = f"{schema}.{table}.{column}"
            lowered = column.lower()
            if lowered in RAW_PII_COLUMNS or (
                PII_COLUMN_NAME.search(lowered) and not lowered.endswith("_hash")
            ):
                findings.append(f"{where}: column name holds personal data")
            values = [
                value
                for (value,) in connection.execute(
                    f'select distinct cast("{column}" as varchar) from "{schema}"."{table}" '
                    f'where "{column}" is not null'
                ).fetchall()
            ]
            if lowered.endswith("_hash"):
                unhashed = [v for v in values if not HASHED.match(v)]
                if unhashed:
                    findings.append(f"{where}: not a digest: {unhashed[:3]}")
            by_kind: dict[str, list[str]] = {}
            for value in values:
                for kind in personal.problems(value):
                    by_kind.setdefault(kind, []).append(value)
            findings += [
                f"{where}: {kind} in {len(found)} values, e.g. {found[:3]}"
                for kind, found in sorted(by_kind.items())
            ]
    return findings


# --------------------------------------------------------------------------------------------
# PII tests

PLANTED = PersonalData.of(
    [("Ada", "Adams", None), ("Wen", "Xu", None), (None, None, "Hiro Ito")],
    ["ada.adams0@northwind.example.com"],
    ["+1-555-3330085"],
)


def _planted_warehouse(path: Path, rows: dict[str, list]) -> Path:
    with duckdb.connect(str(path)) as connection:
        for schema in ("marts", "seeds", "meta"):
            connection.execute(f"create schema {schema}")
        for relation, values in rows.items():
            connection.execute(f"create table {relation} as select * from (values {values[0]})")
    return path


def test_the_scanner_passes_clean_values_and_flags_every_planted_kind(tmp_path: Path) -> None:
    clean = _planted_warehouse(
        tmp_path / "clean.duckdb",
        {
            "marts.dim_accounts": [
                "('001000000000000135', 'Stone Labs Inc', date '2024-10-01', 1234.56, "
                "'51-200', '2024-10-01 11:01:10', 'person-4329ceffe3', '+0.5', "
                "'Adamson Ltd', 'Ada Lovelace Day', 15551234)"
            ],
            "seeds.holidays": ["('Independence Day', 'US', 2025)"],
            "meta.publication": ["(31, 9104)"],
        },
    )
    assert scan(clean, PLANTED) == []

    planted = _planted_warehouse(
        tmp_path / "planted.duckdb",
        {
            "marts.fct_notes": ["('called Ada Adams twice', 'ok')"],
            "marts.dim_owners": ["('Xu, Wen', 'Hiro Ito', 'wen')"],
            "seeds.contacts": ["('write to ADA.ADAMS0@northwind.example.com', 1)"],
            "marts.fct_calls": ["('+1-555-3330085', 15553330085, '(555) 123-4567')"],
            "meta.people": ["('Adams', 'x')"],
            "marts.dim_persons": ["('ok', 'not-a-digest')"],
        },
    )
    with duckdb.connect(str(planted)) as connection:
        connection.execute('alter table marts.fct_notes rename col1 to "email"')
        connection.execute("alter table marts.dim_persons rename col1 to email_hash")
    findings = "\n".join(scan(planted, PLANTED))
    expected = [
        r"marts\.fct_notes\.col0: name in 1 values",
        r"marts\.fct_notes\.email: column name holds personal data",
        r"marts\.dim_owners\.col0: name in 1 values",  # last, first
        r"marts\.dim_owners\.col1: name in 1 values",  # a user's full name
        r"marts\.dim_owners\.col2: name in 1 values",  # a first name alone
        r"seeds\.contacts\.col0: email in 1 values",
        r"seeds\.contacts\.col0: name in 1 values",  # the email spells the name too
        r"marts\.fct_calls\.col0: phone in 1 values",
        r"marts\.fct_calls\.col1: phone in 1 values",  # a number holding the digits
        r"marts\.fct_calls\.col2: phone in 1 values",
        r"meta\.people\.col0: name in 1 values",
        r"marts\.dim_persons\.email_hash: not a digest",
    ]
    for pattern in expected:
        assert re.search(pattern, findings), f"not flagged: {pattern}\n{findings}"
    assert len(findings.splitlines()) == len(expected), findings  # no false positive


@pytest.fixture(scope="module")
def published_company(
    built_company: Callable, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """The demo company's working warehouse and its published copy."""
    built = built_company(leads=2000, seed=42)
    published = tmp_path_factory.mktemp("published") / "warehouse.duckdb"
    publish(built.warehouse, published)
    return built.warehouse, published


def test_no_published_table_holds_an_email_phone_or_person_name(
    published_company: tuple[Path, Path],
) -> None:
    working, published = published_company
    personal, sources = personal_data(working)
    # The scan knows every kind of person, so finding nothing means something.
    assert sources >= {
        "stg_salesforce__leads",
        "stg_salesforce__contacts",
        "stg_hubspot__contacts",
        "stg_salesforce__users",
        "stg_hubspot__owners",
    }, sources
    assert len(personal.full_names) > 100 and len(personal.emails) > 1000
    assert len(personal.phone_digits) > 1000
    with duckdb.connect(str(published), read_only=True) as connection:
        tables = connection.execute("select schema_name from duckdb_tables()").fetchall()
    assert {schema for (schema,) in tables} == {"marts", "seeds", "meta"}
    assert scan(published, personal) == []


# --------------------------------------------------------------------------------------------
# Masking at publication

ACME = "Acme (jane.doe@acme.com, +1 415 555 0100)"
ACME_PUBLISHED = "Acme ([email], [phone])"
# Text holding an email or a phone number as this file's scanner sees them ...
PLANTED_TEXT = [
    ACME,
    "write to ADA.ADAMS0@northwind.example.com today",
    "+1-555-3330085",
    "call (555) 123-4567 or 555.123.4567",
    "UK office +44 20 7946 0958",
    "x@y.io",
]
# ... and text that is neither, which must be published exactly as it is.
CLEAN_TEXT = [
    "001000000000000135",
    "2024-10-01",
    "2024-10-01 11:01:10",
    "person-4329ceffe3",
    "+0.5",
    "51-200",
    "Ada Lovelace Day",
    "Stone Labs Inc",
    "006BAD000000000002",
    "Q3 2025 (pipeline review)",
]


def _published_text(published: Path) -> dict[str, list[str]]:
    """Every text value of every published table, per `schema.table.column`."""
    values: dict[str, list[str]] = {}
    with duckdb.connect(str(published), read_only=True) as connection:
        for schema, table, column in connection.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' order by 1, 2, ordinal_position"
        ).fetchall():
            values[f"{schema}.{table}.{column}"] = [
                value
                for (value,) in connection.execute(
                    f'select "{column}" from "{schema}"."{table}" where "{column}" is not null'
                ).fetchall()
            ]
    return values


def _matched_without_a_sign(patterns: list[str], n_values: int = 20_000) -> list[str]:
    """Text with none of PII_SIGNS that one of `patterns` matches: random text (mostly
    digits, in runs as long as a phone number's, and the characters of emails and phones
    that are not signs) and the planted emails and phones with their signs taken out."""
    rng = random.Random(7)
    alphabet = [c for c in "0123456789" * 6 + "()/_%#:,;@+ .-abcxyzABC" if c not in PII_SIGNS]
    values = ["".join(rng.choices(alphabet, k=rng.randint(1, 40))) for _ in range(n_values)]
    planted = [*PLANTED_TEXT, "555-123-4567", "555 123 4567"]
    values += ["".join(c for c in text if c not in PII_SIGNS) for text in planted]
    compiled = [re.compile(pattern) for pattern in patterns]
    return [v for v in values if any(pattern.search(v) for pattern in compiled)]


def test_no_value_without_a_sign_matches_a_publication_pattern() -> None:
    """Publication runs its patterns only on values holding one of PII_SIGNS: every match must
    hold one, or a value would be published unscanned."""
    patterns = [pattern for _, pattern, _ in PII_PATTERNS]
    assert _matched_without_a_sign(patterns) == []
    # the control: a phone pattern without separators would be caught
    assert _matched_without_a_sign([*patterns, r"\d{3}\)?\d{3}\d{4}"])


def test_publication_masks_emails_and_phones_in_every_text_column(tmp_path: Path) -> None:
    assert all(EMAIL.search(v) or PHONE.search(v) for v in PLANTED_TEXT)  # planted: flagged
    assert not any(EMAIL.search(v) or PHONE.search(v) for v in CLEAN_TEXT)  # clean: not
    working = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(working)) as connection:
        for schema in ("marts", "seeds", "raw_salesforce"):
            connection.execute(f"create schema {schema}")
        texts = PLANTED_TEXT + CLEAN_TEXT
        connection.execute(
            "create table marts.dim_accounts as select * from (values "
            + ", ".join("(?, ?, ?, ?)" for _ in texts)
            + ") as accounts(row_number, account_name, note, amount)",
            [v for i, text in enumerate(texts) for v in (i, text, CLEAN_TEXT[0], i * 1.5)],
        )
        connection.execute(
            "create table seeds.contacts as select 'support: help@sros.example.org' as label"
        )
        connection.execute("create table raw_salesforce.lead as select 'ann@example.com' as email")
    publish(working, tmp_path / "published.duckdb")
    published = tmp_path / "published.duckdb"

    with duckdb.connect(str(published), read_only=True) as connection:
        names = dict(
            connection.execute("select row_number, account_name from marts.dim_accounts").fetchall()
        )
        masked = connection.execute(
            "select table_schema || '.' || table_name || '.' || column_name, pii_kind, "
            f"values_masked from meta.{PII_MASKED_TABLE} order by 1, 2"
        ).fetchall()
        other = connection.execute("select distinct note from marts.dim_accounts").fetchall()
    assert names[0] == ACME_PUBLISHED  # the rest of the name survives
    assert names[1] == "write to [email] today"
    assert names[3] == "call [phone] or [phone]"
    assert names[4] == "UK office [phone]"
    for i, text in enumerate(CLEAN_TEXT, start=len(PLANTED_TEXT)):
        assert names[i] == text  # untouched
    assert other == [(CLEAN_TEXT[0],)]
    # Every text column scanned (masked or not), counts per kind; not the number columns.
    assert masked == [
        ("marts.dim_accounts.account_name", "email", 3),
        ("marts.dim_accounts.account_name", "email or phone", 6),
        ("marts.dim_accounts.account_name", "phone", 4),
        ("marts.dim_accounts.note", "email", 0),
        ("marts.dim_accounts.note", "email or phone", 0),
        ("marts.dim_accounts.note", "phone", 0),
        ("seeds.contacts.label", "email", 1),
        ("seeds.contacts.label", "email or phone", 1),
        ("seeds.contacts.label", "phone", 0),
    ]
    findings = [
        f"{column}: {value}"
        for column, values in _published_text(published).items()
        for value in values
        if EMAIL.search(value) or PHONE.search(value)
    ]
    assert findings == []


def test_an_email_and_phone_typed_into_an_account_name_are_masked_end_to_end(
    built_company: Callable, tmp_path: Path
) -> None:
    """The CRM holds an account named with a contact's email and phone: it lands raw, flows
    through staging into dim_accounts, and is published with both masked, the name kept."""
    built = built_company(leads=2000, seed=42)
    working = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built.warehouse, working)
    account_id = "001BAD000000000001"
    with duckdb.connect(str(working)) as connection:
        connection.execute(
            "insert into raw_salesforce.account select * replace (? as id, ? as name) "
            "from raw_salesforce.account order by id limit 1",
            [account_id, ACME],
        )
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "run",
            "--select",
            "stg_salesforce__accounts dim_accounts",
            "--profiles-dir",
            ".",
            "--target-path",
            str(tmp_path / "target"),
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, "SROS_HOME": str(tmp_path), "SROS_WAREHOUSE_PATH": str(working)},
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    with duckdb.connect(str(working), read_only=True) as connection:
        assert connection.execute(
            "select account_name from marts.dim_accounts where account_id = ?", [account_id]
        ).fetchall() == [(ACME,)]  # the working mart holds it as typed
    published = tmp_path / "published.duckdb"
    publish(working, published)
    with duckdb.connect(str(published), read_only=True) as connection:
        assert connection.execute(
            "select account_name from marts.dim_accounts where account_id = ?", [account_id]
        ).fetchall() == [(ACME_PUBLISHED,)]
        assert connection.execute(
            f"select table_name, column_name, pii_kind, values_masked "
            f"from meta.{PII_MASKED_TABLE} where values_masked > 0 order by all"
        ).fetchall() == [
            ("dim_accounts", "account_name", "email", 1),
            ("dim_accounts", "account_name", "email or phone", 1),
            ("dim_accounts", "account_name", "phone", 1),
        ]
    personal, _ = personal_data(working)
    assert scan(published, personal) == []


def test_the_raw_pii_column_names_are_those_of_the_contracts() -> None:
    """RAW_PII_COLUMNS stays the list of raw columns holding a person's data."""
    raw_columns = {c.name for contract in load_contracts().values() for c in contract.columns}
    assert raw_columns >= RAW_PII_COLUMNS
    person_columns = {
        c.name
        for contract in load_contracts().values()
        for c in contract.columns
        if PII_COLUMN_NAME.search(c.name) and not c.name.endswith("_hash")
    }
    assert person_columns <= RAW_PII_COLUMNS, person_columns - RAW_PII_COLUMNS


# --------------------------------------------------------------------------------------------
# Pseudonyms


def _published_values(published: Path) -> set[str]:
    """Every distinct value of every column of every published table, as lowercase text."""
    values: set[str] = set()
    with duckdb.connect(str(published), read_only=True) as connection:
        for schema, table, column in connection.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
        ).fetchall():
            values.update(
                str(value).lower()
                for (value,) in connection.execute(
                    f'select distinct cast("{column}" as varchar) from "{schema}"."{table}" '
                    f'where "{column}" is not null'
                ).fetchall()
            )
    return values


def test_an_unkeyed_hash_of_a_known_email_finds_nobody_and_the_keyed_one_finds_everyone(
    published_company: tuple[Path, Path],
) -> None:
    working, published = published_company
    personal, _ = personal_data(working)
    emails = sorted(personal.emails)
    assert len(emails) > 1000
    values = _published_values(published)

    # What someone holding a list of emails would try: md5, sha1 and sha256 of the email and
    # of the identity anchor 'email:<email>' (the former person_id), and the display label.
    digests = set()
    for email in emails:
        for text in (email, email.upper(), f"email:{email}"):
            for algorithm in ("md5", "sha1", "sha256"):
                digest = hashlib.new(algorithm, text.encode()).hexdigest()
                digests |= {digest, f"person-{digest[:10]}"}
    assert values & digests == set()

    # With the key, the same list finds every published email hash and person: the check
    # above is not empty because nothing is there.
    key = pseudonym_key()
    with duckdb.connect(str(published), read_only=True) as connection:
        persons = connection.execute(
            "select person_id, email_hash from marts.dim_persons where email_hash is not null"
        ).fetchall()
    assert len(persons) > 1000
    email_hashes = {pseudonym(email, key) for email in emails}
    anchors = {pseudonym(f"email:{email}", key) for email in emails}
    assert {email_hash for _, email_hash in persons} <= email_hashes
    assert {person_id for person_id, _ in persons} <= anchors
    other_key = bytes(range(32))
    assert not {pseudonym(email, other_key) for email in emails} & values


def _leaks(data: bytes, key: bytes) -> list[str]:
    """The forms of the key (and of its HMAC pads) found in some bytes."""
    forms = {}
    for name, secret in zip(("key", "inner pad", "outer pad"), (key, *hmac_pads(key)), strict=True):
        forms[f"{name} (bytes)"] = secret
        forms[f"{name} (hex)"] = secret.hex().encode()
        forms[f"{name} (HEX)"] = secret.hex().upper().encode()
        forms[f"{name} (base64)"] = base64.b64encode(secret)
    return [name for name, form in forms.items() if form in data]


def test_the_key_appears_in_no_compiled_file_nor_dbt_log(built_company: Callable) -> None:
    built = built_company(leads=2000, seed=42)
    key = pseudonym_key()
    assert _leaks(b"... " + key.hex().encode() + b" ...", key) == ["key (hex)"]  # control
    target = built.warehouse.parent / "target"
    compiled = target / "compiled/sros/models/intermediate/people/int_person_identities.sql"
    assert "_sros_private" in compiled.read_text()  # the model reads the key table, by name
    files = [p for p in target.rglob("*") if p.is_file()]
    # the build's file log at debug level (dbt rotates it at 10 MB: dbt.log, dbt.log.1, ...)
    logs = sorted((built.warehouse.parent / "logs").glob("dbt.log*"))
    assert any(b"_sros_private" in log.read_bytes() for log in logs)  # it logged its SQL
    files += logs
    assert len(files) > 100
    leaks = {str(path): found for path in files if (found := _leaks(path.read_bytes(), key))}
    assert leaks == {}
    assert _leaks(built.dbt_log.encode(), key) == []
    with duckdb.connect(str(built.warehouse), read_only=True) as connection:  # control
        assert connection.execute(
            "select inner_pad, outer_pad from _sros_private.pseudonym_key"
        ).fetchall() == [hmac_pads(key)]


# --------------------------------------------------------------------------------------------
# File modes


def test_a_run_leaves_the_working_warehouse_dlt_state_and_key_owner_only(tmp_path: Path) -> None:
    """Files an older version left readable by others are closed when the Dagster code
    location loads, and ingestion then creates its files owner-only."""
    from sros.demo_company import DemoConfig, generate

    home = tmp_path / "home"
    generate(DemoConfig(n_leads=200, seed=42), home / "landing")
    previous = os.umask(0o022)
    try:
        with duckdb.connect(str(home / "warehouse.duckdb")) as connection:
            connection.execute("create table leftover as select 1 as x")
        (home / "dagster").mkdir()
        (home / "dagster" / "runs.db").write_text("")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((home / "warehouse.duckdb").stat().st_mode) & 0o044  # readable
    script = (
        "import orchestration.definitions\n"
        "from sros.contracts import source_names\n"
        "from sros.ingest.pipeline import ingest\n"
        "for source in source_names():\n"
        "    ingest(source)\n"
    )
    env = {**os.environ, "SROS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    private = [home / "warehouse.duckdb", home / "dlt", home / "dagster"]
    private += [*(home / "dlt").rglob("*"), *(home / "dagster").rglob("*")]
    assert len(private) > 10  # dlt wrote its state and packages
    loose = {
        str(path.relative_to(home)): oct(stat.S_IMODE(path.stat().st_mode))
        for path in private
        if stat.S_IMODE(path.stat().st_mode) & 0o077
    }
    assert loose == {}
    key_file = Path(os.environ["SROS_PSEUDONYM_KEY_FILE"])
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as connection:
        assert connection.execute("select count(*) from raw_salesforce.lead").fetchone()[0] > 0


# --------------------------------------------------------------------------------------------
# Secrets

CREDENTIAL_KEY = (
    r"(?:password|passwd|pwd|secret|client_secret|token|access_token|auth_token|api_?key"
    r"|access_key|secret_key|private_key|motherduck_token|credentials?)"
)
# `key: value` / `key = value`, quoted or not, in any file.
CREDENTIAL_ASSIGNMENT = re.compile(
    rf"""(?ix)(?<![\w.]){CREDENTIAL_KEY}["']?\s*[:=]\s*(?P<value>"[^"]*"|'[^']*'|[^\s,#)]+)"""
)
TOKEN_SHAPES = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key id
    r"|\bgh[pousr]_[A-Za-z0-9]{36}\b"  # GitHub token
    r"|\bdapi[0-9a-f]{32}\b"  # Databricks token
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"  # Slack token
    r"|\bsk-[A-Za-z0-9]{20,}"  # API keys of the sk-... family
)
SECRET_FILE = re.compile(r"(^|/)(secrets\.toml|\.env|id_rsa|id_ed25519|credentials\.json)$|\.pem$")


ALLOWLISTED = "pragma: allowlist secret"  # a reviewed false positive (detect-secrets' marker)
CODE_SUFFIXES = (".py", ".sql")  # where an unquoted value is a name, not data


def _is_literal(value: str, path: str) -> bool:
    """A credential value written down, not read from the environment or a placeholder."""
    text = value.strip("'\"\\").strip()
    if not text or text.lower() in {"none", "null", "true", "false", "na", "***", "*****"}:
        return False
    if text.startswith(("{{", "$", "<", "env_var(", "os.environ", "os.getenv")):
        return False
    if value[:1] in "'\"" or not path.endswith(CODE_SUFFIXES):
        return True  # a quoted string, or a scalar of YAML, TOML, shell, Markdown...
    # In code an unquoted value names a variable or calls something: data only if not a name.
    return not re.fullmatch(r"[A-Za-z_][\w.\[\]()'\"]*", text)


def credential_findings(path: str, text: str) -> list[str]:
    """Credential-looking literals in one file's text."""
    findings = []
    if SECRET_FILE.search(path):
        findings.append(f"{path}: a secrets file is tracked")
    for number, line in enumerate(text.splitlines(), start=1):
        if TOKEN_SHAPES.search(line):
            findings.append(f"{path}:{number}: a token or private key")
        if ALLOWLISTED in line:
            continue
        for match in CREDENTIAL_ASSIGNMENT.finditer(line):
            if _is_literal(match["value"], path):
                findings.append(f"{path}:{number}: a credential literal: {line.strip()[:80]}")
    return findings


def test_the_credential_scanner_flags_literals_and_passes_env_vars() -> None:
    # Built from fragments so that this file holds no credential-looking literal itself.
    databricks = "dapi" + "0123456789abcdef" * 2
    leaks = {
        "profiles.yml": "      to" + f'ken: "{databricks}"\n',
        "a.yml": "      pass" + "word: hunter2hunter2\n",
        "b.py": "API_" + "KEY = '" + "x" * 24 + "'\n",
        "c.toml": "[destination.x.credentials]\nsec" + 'ret = "abc123abc123"\n',
        "d.txt": "-----BEGIN RSA PRIV" + "ATE KEY-----\n",
        ".dlt/secrets.toml": "",
    }
    for path, text in leaks.items():
        assert credential_findings(path, text), path
    fine_yaml = (
        "      token: \"{{ env_var('DBT_ENV_SECRET_SPARK_TOKEN') }}\"\n"
        "    # in production use `method: http` with host and token from env_var().\n"
        "      password: ${SROS_PASSWORD}\n"
        "      password: example-only  # pragma: allowlist secret\n"
    )
    fine_code = (
        "token = os.environ['DBT_ENV_SECRET_SPARK_TOKEN']\n"
        "tokens = words.split()\n"
        "token = next(iterator)\n"
    )
    assert credential_findings("profiles.yml", fine_yaml) == []
    assert credential_findings("sros/settings.py", fine_code) == []


def _tracked_files() -> list[str]:
    completed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=PROJECT_DIR, capture_output=True, check=False
    )
    if completed.returncode != 0:
        pytest.skip("not a git checkout: no tracked files to scan")
    return [name for name in completed.stdout.decode().split("\0") if name]


def test_no_tracked_file_holds_a_credential() -> None:
    files = _tracked_files()
    assert "profiles.yml" in files
    findings = []
    for name in files:
        path = PROJECT_DIR / name
        if not path.is_file():  # deleted in the working tree
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        findings += credential_findings(name, data.decode("utf-8", errors="replace"))
    assert findings == []


def test_profile_credentials_come_from_dbt_env_secret_variables() -> None:
    """Every credential key of profiles.yml, in the targets and in the commented production
    examples, reads an environment variable whose name starts with DBT_ENV_SECRET_."""
    text = (PROJECT_DIR / "profiles.yml").read_text()
    credential_line = re.compile(rf"(?i)^\s*#?\s*{CREDENTIAL_KEY}\s*:\s*(?P<value>.+)$")
    values = [m["value"] for line in text.splitlines() if (m := credential_line.match(line))]
    assert values, "profiles.yml documents no credential: keep the production example"
    for value in values:
        assert re.fullmatch(
            r"""["']\{\{\s*env_var\(['"]DBT_ENV_SECRET_\w+['"]\)\s*\}\}["']""", value.strip()
        ), value


def test_dbt_scrubs_a_dbt_env_secret_value_from_its_output_and_log(tmp_path: Path) -> None:
    """`dbt debug` prints the profile's connection settings. The same value is given twice,
    once through a DBT_ENV_SECRET_ variable (as profiles.yml takes credentials) and once
    through a plain one: the first must appear nowhere, the second shows that it would."""
    secret, plain = "sros-sentinel-7f3a9c1e", "sros-control-52b8d0aa"
    (tmp_path / "profiles.yml").write_text(
        "sros:\n"
        "  target: leak_check\n"
        "  outputs:\n"
        "    leak_check:\n"
        "      type: duckdb\n"
        f'      path: "{tmp_path / "leak_check.duckdb"}"\n'
        "      schema: main\n"
        "      settings:\n"
        "        TimeZone: UTC\n"
        # Two free-text settings stand for a credential (MotherDuck's motherduck_token is a
        # setting too, and dbt-duckdb prints `settings`).
        "        temp_directory: \"{{ env_var('DBT_ENV_SECRET_SROS_SENTINEL') }}\"\n"
        "        home_directory: \"{{ env_var('SROS_CONTROL_SENTINEL') }}\"\n"
    )
    env = {
        **os.environ,
        "DBT_ENV_SECRET_SROS_SENTINEL": str(tmp_path / secret),
        "SROS_CONTROL_SENTINEL": str(tmp_path / plain),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "debug",
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(tmp_path),
            "--log-path",
            str(tmp_path / "logs"),
            "--log-level-file",
            "debug",
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-3000:]
    logged = output + (tmp_path / "logs" / "dbt.log").read_text()
    assert plain in logged, "dbt printed no setting: this check would not see a leak"
    assert secret not in logged
    assert "*****" in output  # scrubbed, not missing
