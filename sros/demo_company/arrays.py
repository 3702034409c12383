"""Array helpers shared by the domain modules: seeded random streams, ids, categorical values,
segment-wise cumulative sums and null handling.

Conventions used everywhere in the package: timestamps are int64 UTC epoch seconds and dates
int days since 1970-01-01, with any negative value meaning null; categorical columns are built
from a small vocabulary and an int code array (-1 = null).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NULL = -1
DAY = 86_400

# A company too large to hold in memory is generated in shards (generate.py): companies of their
# own, written one after another into one landing zone. Every key a shard writes is numbered
# apart from the other shards' (shard 0 keeps the unsharded numbers, so a company of one shard
# is the same as before): the helpers below read the shard being generated from this variable.
_SHARD: ContextVar[int] = ContextVar("shard", default=0)
NUMERIC_ID_SHARD_STEP = 10**10  # HubSpot-style numeric ids: shard s adds s * 10**10


@contextmanager
def generating_shard(shard: int) -> Iterator[None]:
    """Number the keys built inside the block as shard `shard`'s."""
    token = _SHARD.set(shard)
    try:
        yield
    finally:
        _SHARD.reset(token)


def shard_tagged(key: str) -> str:
    """A natural key (a UTM campaign, an expense id) as the current shard writes it: unchanged in
    shard 0, `<key>_s<shard>` in the others."""
    shard = _SHARD.get()
    return key if shard == 0 else f"{key}_s{shard:02d}"


def numeric_id(number: int) -> str:
    """One HubSpot-style numeric id, numbered in the current shard (see `numeric_ids`)."""
    return str(number + _SHARD.get() * NUMERIC_ID_SHARD_STEP)


def _shard_offset(width: int, largest: int) -> int:
    """What the current shard adds to the numbers of a key of `width` digits: shard s starts at
    s * 10**(width - 3), so each shard has 10**(width - 3) numbers of its own (`largest`, the
    biggest number to number, must fit them)."""
    shard = _SHARD.get()
    step = 10 ** (width - 3)
    if shard and largest >= step:
        raise ValueError(f"key number {largest} does not fit a shard's {step:,} numbers")
    return shard * step


def shard_number(number: int, width: int = 15) -> int:
    """The number a key of `width` digits gets in the current shard (`_shard_offset`)."""
    return number + _shard_offset(width, number)


def rng_for(seed: int, stream: str) -> np.random.Generator:
    """An independent random stream per concern, so adding draws in one module does not shift
    the numbers another module draws (the names are hashed with a stable CRC, not `hash`)."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


def epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def epoch_day(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def choice(rng: np.random.Generator, n: int, weights: list[float] | np.ndarray) -> np.ndarray:
    """`n` indices drawn with the given (unnormalised) weights."""
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def choice_rows(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One index per row of a (rows x options) probability matrix (rows sum to 1)."""
    cumulative = np.cumsum(probabilities, axis=1)
    draws = rng.random(len(probabilities))[:, None]
    return np.minimum((draws > cumulative).sum(axis=1), probabilities.shape[1] - 1)


def cat(vocabulary: list[str], codes: np.ndarray) -> pa.Array:
    """String array taking vocabulary[code]; code -1 gives null."""
    codes = np.asarray(codes)
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pa.array(vocabulary, type=pa.string()).take(indices)


def const(value: str | None, n: int) -> pa.Array:
    return pa.array([value], type=pa.string()).take(pa.array(np.zeros(n, dtype=np.int32)))


def ids(prefix: str, numbers: np.ndarray, width: int = 15) -> pa.Array:
    """Ids like Salesforce's 18-character ones: prefix + zero-padded number (null when < 0),
    numbered in the current shard (`shard_number`)."""
    numbers = np.asarray(numbers, dtype=np.int64)
    offset = _shard_offset(width, int(numbers.max(initial=0)))
    numbers = np.where(numbers < 0, numbers, numbers + offset)
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0")
    out = pc.binary_join_element_wise(pa.scalar(prefix), digits, "")
    if (numbers < 0).any():
        out = pc.if_else(pa.array(numbers < 0), pa.scalar(None, pa.string()), out)
    return out


def numeric_ids(numbers: np.ndarray, offset: int) -> pa.Array:
    """HubSpot-style numeric string ids (null when the number is < 0), numbered in the current
    shard (plus shard * NUMERIC_ID_SHARD_STEP)."""
    numbers = np.asarray(numbers, dtype=np.int64)
    offset += _SHARD.get() * NUMERIC_ID_SHARD_STEP
    return pc.cast(pa.array(numbers + offset, mask=numbers < 0), pa.string())


def join(*parts: pa.Array | str, separator: str = "") -> pa.Array:
    items = [pa.scalar(part) if isinstance(part, str) else part for part in parts]
    return pc.binary_join_element_wise(*items, separator)


def group_starts(sizes: np.ndarray) -> np.ndarray:
    """Start offset of each group in a flat array built with np.repeat(..., sizes)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    return np.cumsum(sizes) - sizes  # one start per group, also when there are no groups


def position_in_group(sizes: np.ndarray) -> np.ndarray:
    """0, 1, ... within each group of a flat array built with np.repeat(..., sizes)."""
    total = int(sizes.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(group_starts(sizes), sizes)


def cumsum_in_group(values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each group (groups contiguous, sizes may be 0)."""
    total = np.cumsum(values)
    before = np.concatenate([[0], total])[group_starts(sizes)]
    return total - np.repeat(before, sizes)


def first_in_group(mask: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Index of the first True row of each group (group ids sorted), -1 where none."""
    out = np.full(n_groups, NULL, dtype=np.int64)
    rows = np.flatnonzero(mask)
    unique, first = np.unique(group[rows], return_index=True)
    out[unique] = rows[first]
    return out


def clip_null(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Values where `keep`, null (-1) elsewhere."""
    return np.where(keep, values, NULL)
