"""Formatting contract tables as CSV export files.

Every value is turned into its text form first (timestamps `2025-03-04T14:05:09Z`, dates
`YYYY-MM-DD`, booleans `true`/`false`, money with two decimals, null = empty field), then rows
are joined with pyarrow compute and quoted only where RFC 4180 needs it. Working on text
columns also lets the dirty-data injections patch values as a real broken export would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sros.contracts import TableContract

Column = pa.Array | np.ndarray | list


def _as_arrow(values: Column) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    return pa.array(values)


def _money(values: np.ndarray) -> pa.Array:
    cents = np.round(np.asarray(values, dtype=float) * 100)
    missing = np.isnan(cents)
    cents = np.where(missing, 0, cents).astype(np.int64)
    sign = np.where(cents < 0, "-", "")
    whole = pc.cast(pa.array(np.abs(cents) // 100), pa.string())
    fraction = pc.utf8_lpad(pc.cast(pa.array(np.abs(cents) % 100), pa.string()), 2, "0")
    text = pc.binary_join_element_wise(
        pc.binary_join_element_wise(pa.array(sign), whole, ""), fraction, "."
    )
    return pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text)


def format_column(values: Column, data_type: str) -> pa.Array:
    """Text form of one column for a contract data type (see the module docstring)."""
    if isinstance(values, pa.Array | pa.ChunkedArray) and _as_arrow(values).type == pa.string():
        return _as_arrow(values)
    if data_type == "timestamp":
        seconds = np.asarray(values, dtype=np.int64)
        stamps = pa.array(seconds, mask=seconds < 0).cast(pa.timestamp("s"))
        # Casting to text gives "YYYY-MM-DD HH:MM:SS" (much faster than strftime).
        text = pc.replace_substring(pc.cast(stamps, pa.string()), " ", "T")
        return pc.binary_join_element_wise(text, "Z", "")
    if data_type == "date":
        days = np.asarray(values, dtype=np.int64)
        dates = pa.array(days.astype(np.int32), mask=days < 0).cast(pa.date32())
        return pc.cast(dates, pa.string())
    if data_type == "decimal(18,2)":
        return _money(np.asarray(values, dtype=float))
    if data_type == "double":
        numbers = np.asarray(values, dtype=float)
        return pc.cast(pa.array(numbers, mask=np.isnan(numbers)), pa.string())
    return pc.cast(_as_arrow(values), pa.string())


def text_table(contract: TableContract, columns: dict[str, Column]) -> pa.Table:
    """The contract's columns, in contract order, as text; missing columns are all null."""
    lengths = {len(values) for values in columns.values()}
    if len(lengths) != 1:
        raise ValueError(f"{contract.source}.{contract.name}: columns differ in length {lengths}")
    n = lengths.pop()
    unknown = set(columns) - set(contract.column_names)
    if unknown:
        raise ValueError(f"{contract.source}.{contract.name}: not in the contract: {unknown}")
    arrays = [
        format_column(columns[column.name], column.data_type)
        if column.name in columns
        else pa.nulls(n, pa.string())
        for column in contract.columns
    ]
    return pa.table(arrays, names=contract.column_names)


def _quoted(values: pa.Array) -> pa.Array:
    needs = pc.fill_null(pc.match_substring_regex(values, '[",\r\n]'), False)
    if not pc.any(needs).as_py():
        return pc.fill_null(values, "")
    escaped = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
    return pc.fill_null(pc.if_else(needs, escaped, values), "")


CHUNK_ROWS = 250_000


def _lines(table: pa.Table, free_text: set[str]) -> bytes:
    """The CSV lines (each ending in LF) of a slice of a text table. Only `free_text` columns
    can hold a comma, quote or line break; the others (numbers, dates, flags) are not scanned."""
    columns = [
        _quoted(table.column(name).combine_chunks())
        if name in free_text
        else pc.fill_null(table.column(name).combine_chunks(), "")
        for name in table.column_names
    ]
    lines = pc.binary_join_element_wise(*columns, ",")
    lines = pc.binary_join_element_wise(lines, pa.scalar(""), "\n")
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    offsets = offsets[lines.offset : lines.offset + len(lines) + 1]
    return lines.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]]


def csv_chunks(table: pa.Table, free_text: set[str]) -> Iterator[bytes]:
    """RFC 4180 CSV (header, comma, LF, minimal quoting) of a text table, in byte chunks."""
    yield (",".join(table.column_names) + "\n").encode()
    for start in range(0, table.num_rows, CHUNK_ROWS):
        yield _lines(table.slice(start, CHUNK_ROWS), free_text)


def write_table(
    path: Path,
    table: pa.Table,
    free_text: set[str],
    patch: Callable[[bytes], bytes] | None = None,
) -> dict:
    """Write one export file; return its manifest entry (rows and sha256).

    `patch`, if given, maps the whole payload to its final bytes (used by the malformed-rows
    injection on small files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        if patch is None:
            for chunk in csv_chunks(table, free_text):
                digest.update(chunk)
                handle.write(chunk)
        else:
            payload = patch(b"".join(csv_chunks(table, free_text)))
            digest.update(payload)
            handle.write(payload)
    return {"rows": table.num_rows, "sha256": digest.hexdigest()}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
