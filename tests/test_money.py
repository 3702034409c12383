"""Money on DuckDB: `to_money` takes a 64-bit path for values below 1e9 (duckdb__to_money in
macros/portable_arithmetic.sql) and must give the same cents as the 128-bit cast every engine
uses (default__to_money), halves and binary near-halves included; `credited_money` rounds with
round() (duckdb__credited_money) and must give the cents of the cast (default__credited_money).
"""

from pathlib import Path

import duckdb

# Values where the two paths could part: exact and binary near-halves of a cent at several
# magnitudes (8803.335 is 0.125 * 70426.68, just below the half in binary), negatives, the
# edges of the 64-bit path (below 999,999,999 and above), and random amounts and shares.
VALUES = """
    select x from (
        select 8803.335 as x
        union all select 0.125 * 70426.68
        union all select -0.125 * 70426.68
        union all select -0.005
        union all select 0.0049999999
        union all select 99999999.995
        union all select 999999998.995
        union all select 999999999.005
        union all select 1e15 + 0.25
        union all select cast(null as double)
        union all select round(random() * 1e6, 3) + 0.005 from range(200000)
        union all select -(round(random() * 1e6, 3) + 0.005) from range(200000)
        union all select round(random() * 1e8, 2) + 0.005 from range(200000)
        union all select round(random() * 1e4, 6) + 0.0000005 from range(200000)
        union all select round(random() * 1e6, 2) * random() from range(200000)
        union all select random() * 2e9 from range(100000)
        union all select random() * 1e15 from range(20000)
    )
"""


def _compiled(run_dbt, home: Path, select: str) -> str:
    """`select` compiled by dbt for DuckDB (the in-memory target)."""
    completed = run_dbt("compile", "--target", "memory", "--quiet", "--inline", select, home=home)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    return completed.stdout.strip()


def _differences(connection: duckdb.DuckDBPyConnection, compiled: str, shown: str) -> tuple:
    """Rows of `compiled`, those whose `fast` and `reference` differ, and the first of them."""
    return connection.execute(
        f"select count(*), count(*) filter (where fast is distinct from reference), "
        f"list(struct_pack({shown})) filter (where fast is distinct from reference)"
        f" from ({compiled})"
    ).fetchone()


def test_to_money_on_duckdb_gives_the_cents_of_the_128_bit_cast(run_dbt, tmp_path: Path) -> None:
    compiled = _compiled(
        run_dbt,
        tmp_path,
        "select {{ to_money('x') }} as fast, {{ default__to_money('x') }} as reference from v",
    )
    assert "decimal(18, 9)" in compiled, compiled  # the DuckDB path is the one compiled
    with duckdb.connect() as connection:
        connection.execute(f"create table v as {VALUES}")
        rows, differing, examples = _differences(connection, compiled, "fast, reference")
    assert rows == 1_120_010
    assert differing == 0, examples[:10]


# Credits and amounts whose product falls on a half cent (0.5 times an odd number of cents,
# 0.25 times 2 cents more than a multiple of 4, 0.125 * 70426.68 = 8803.335), negatives, a
# credit of 0 and of 1, the largest amount, credits with 12 decimals, and random pairs.
CREDITED = """
    select credit, cast(amount as decimal(18, 2)) as amount from (
        select 0.125 as credit, 70426.68 as amount
        union all select 0.125, -70426.68
        union all select 0.0, 123.45
        union all select cast(null as double), 1.0
        union all select 0.5, cast(null as decimal(18, 2))
        union all select 0.5, (2 * floor(random() * 1e9) + 1) / 100 from range(100000)
        union all select 0.5, -(2 * floor(random() * 1e9) + 1) / 100 from range(100000)
        union all select 0.25, (4 * floor(random() * 1e9) + 2) / 100 from range(100000)
        union all select 0.000000000001 * floor(random() * 1e12), 5000 from range(100000)
        union all select random(), round(random() * 1e7, 2) from range(200000)
        union all select random(), -round(random() * 1e5, 2) from range(100000)
        union all select 1.0 / (1 + floor(random() * 40)), round(random() * 1e6, 2)
        from range(100000)
    )
"""


def test_credited_money_on_duckdb_gives_the_cents_of_the_cast(run_dbt, tmp_path: Path) -> None:
    compiled = _compiled(
        run_dbt,
        tmp_path,
        "select credit, {{ credited_money('credit', 'amount') }} as fast,"
        " {{ default__credited_money('credit', 'amount') }} as reference from v",
    )
    assert "round(" in compiled, compiled  # the DuckDB path is the one compiled
    with duckdb.connect() as connection:
        connection.execute(f"create table v as {CREDITED}")
        # the largest amount, apart: in the union above it would pass through a double
        connection.execute(
            "insert into v values (1.0, cast('9999999999999999.99' as decimal(18, 2)))"
        )
        rows, differing, examples = _differences(connection, compiled, "credit, fast, reference")
        halves = connection.execute("select count(*) from v where credit in (0.5, 0.25)").fetchone()
    assert rows == 800_006
    assert halves[0] >= 300_001  # the crafted halves (and random credits of 1/2 and 1/4)
    assert differing == 0, examples[:10]
