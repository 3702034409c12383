"""Great Expectations suites for the marts, written as code.

One module per mart family (core, funnel, pipeline; sources for freshness); each suite is a
`MartSuite`: a batch query that puts the definition in force beside every mart row, and
expectations built from the definition seeds. The finance marts have none: what they must
hold is arithmetic (GRR in [0, 1], the MRR bridge, allocations summing to the company), which
their dbt tests check where they are built, naming the failing rows; a suite would repeat it.
`SUITES` is every suite; Dagster runs each as an asset check on its mart
(orchestration/defs/expectations.py), and `runner.validate` runs them anywhere else.

Adding a suite for a new mart: write `MartSuite(name="<family>.<mart>", mart="<mart>",
query=..., key=..., expectations=...)` in the family's module and add it to that module's
SUITES. It becomes a blocking asset check (unless blocking=False) and a Data Docs page.
"""

from expectations import core, funnel, pipeline, sources
from expectations.suite import Definitions, MartSuite

SUITES: tuple[MartSuite, ...] = (
    *sources.SUITES,
    *core.SUITES,
    *funnel.SUITES,
    *pipeline.SUITES,
)

__all__ = ["SUITES", "Definitions", "MartSuite"]
