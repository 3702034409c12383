"""SQL text built in Python: the one way SROS writes a value into a DuckDB statement where a
parameter cannot go (a file path in COPY or ATTACH, a pattern, a comment)."""

from collections.abc import Iterable


def sql_string(text: str) -> str:
    """`text` as an SQL string literal: single-quoted, each quote doubled (`it's` ->
    `'it''s'`), so a path or comment holding a quote stays one value."""
    return "'" + text.replace("'", "''") + "'"


def sql_string_list(texts: Iterable[str]) -> str:
    """A DuckDB list literal of strings (`['a', 'b']`), e.g. the files of read_parquet."""
    return "[" + ", ".join(sql_string(text) for text in texts) + "]"
