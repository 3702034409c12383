"""Vocabularies for made-up people and companies (deterministic: chosen by index arrays)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sros.demo_company.arrays import cat, join, shard_number

FIRST_NAMES = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Finn",
    "Grace",
    "Hugo",
    "Isla",
    "Jonas",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olivia",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Uma",
    "Victor",
    "Wen",
    "Xavier",
    "Yara",
    "Zoe",
    "Amir",
    "Bea",
    "Carlos",
    "Dana",
    "Emil",
    "Fatima",
    "Greta",
    "Hiro",
    "Ines",
    "Jamal",
    "Kofi",
    "Lena",
    "Marco",
    "Nadia",
]
LAST_NAMES = [
    "Adams",
    "Becker",
    "Chen",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ivanova",
    "Jones",
    "Kowalski",
    "Lopez",
    "Murphy",
    "Nguyen",
    "Okafor",
    "Patel",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Taylor",
    "Umar",
    "Vogel",
    "Walsh",
    "Xu",
    "Young",
    "Zimmer",
    "Brown",
    "Costa",
    "Dietrich",
    "Ellis",
    "Ferreira",
    "Gallagher",
    "Hansen",
    "Ito",
    "Jensen",
    "Khan",
    "Larsen",
    "Meyer",
    "Novak",
    "Olsen",
]
COMPANY_HEADS = [
    "North",
    "Blue",
    "Bright",
    "Clear",
    "Green",
    "Iron",
    "Silver",
    "Swift",
    "True",
    "Red",
    "Stone",
    "Sun",
    "Wave",
    "Peak",
    "Oak",
    "River",
    "Cloud",
    "Star",
    "Core",
    "Nova",
    "Lumen",
    "Vector",
    "Atlas",
    "Orbit",
    "Pixel",
    "Quantum",
    "Summit",
    "Harbor",
    "Maple",
    "Cedar",
]
COMPANY_TAILS = [
    "wind",
    "field",
    "bridge",
    "works",
    "path",
    "line",
    "point",
    "gate",
    "forge",
    "labs",
    "scale",
    "stack",
    "logic",
    "mark",
    "leaf",
    "port",
    "shift",
    "light",
    "base",
    "grid",
]
COMPANY_SUFFIXES = ["Inc", "Ltd", "GmbH", "Group", "Systems", "Partners", "Co", "Solutions"]


def company_names(n: int) -> tuple[pa.Array, pa.Array]:
    """Unique company names and web domains for accounts 0..n-1 (unique across shards too: each
    shard names its accounts from its own range of numbers)."""
    index = np.arange(shard_number(0, width=10), shard_number(n - 1, width=10) + 1)
    heads, tails = len(COMPANY_HEADS), len(COMPANY_TAILS)
    head = index % heads
    tail = (index // heads) % tails
    series = index // (heads * tails)
    stem = join(cat(COMPANY_HEADS, head), cat(COMPANY_TAILS, tail))
    number = pa.array(np.where(series > 0, (series + 1).astype(str), ""))
    name = join(stem, number, " ", cat(COMPANY_SUFFIXES, index % len(COMPANY_SUFFIXES)))
    domain = join(pc.utf8_lower(stem), number, ".example.com")
    return name, domain


def person_names(rng: np.random.Generator, n: int) -> tuple[pa.Array, pa.Array]:
    return (
        cat(FIRST_NAMES, rng.integers(0, len(FIRST_NAMES), n)),
        cat(LAST_NAMES, rng.integers(0, len(LAST_NAMES), n)),
    )


def emails(first: pa.Array, last: pa.Array, tag: np.ndarray, domain: pa.Array) -> pa.Array:
    """first.last<tag>@domain, lower case; the tag keeps emails unique per person."""
    local = pc.utf8_lower(join(first, ".", last, pc.cast(pa.array(np.asarray(tag)), pa.string())))
    return join(local, "@", domain)


def phones(rng: np.random.Generator, n: int) -> pa.Array:
    digits = pc.cast(pa.array(rng.integers(1_000_000, 9_999_999, n)), pa.string())
    return join("+1-555-", digits)
