"""No silently empty marts: a mart with no rows while the models it is built from have rows.

Every dbt test and expectation passes on an empty table, so a setting that filters everything
away (a calendar that starts after the data, an as-of date before it, a source switched off
in one place and not another) would publish empty marts with every gate green. This check
reads the dbt manifest: for each mart (a model in schema `marts`), its direct inputs (models
and sources; not the seeds, which hold definitions) are counted, and a mart that
is empty while every input has rows is a failure naming the inputs with their row counts,
and the calendar's range when the mart is built on it (the usual cause). A mart with an
empty input is explained by it: a CRM export without leads has no lead lifecycle, whatever
the calendar and the accounts hold.

A mart that may legitimately be empty says so, with the reason, in its model config:
`meta: {may_be_empty: "no campaign is marked as an experiment"}`. When the reason is a
missing event that a direct input records, the mart names it, and is empty legitimately
only while that input has no such row:
`meta: {may_be_empty: "no handoff has been rejected yet",
        not_empty_when: {input: fct_lead_handoffs, where: is_rejected}}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

MART_SCHEMA = "marts"
CALENDAR_MODELS = ("model.sros.int_calendar_days", "model.sros.dim_dates")


@dataclass(frozen=True)
class EmptyMart:
    mart: str
    inputs: dict[str, int] = field(default_factory=dict)  # inputs -> rows (all non-zero)
    calendar: tuple[str, str] | None = None  # (first day, last day) when built on it

    def message(self) -> str:
        inputs = ", ".join(f"{name} ({rows:,} rows)" for name, rows in self.inputs.items())
        text = f"{self.mart} is empty although its inputs are not: {inputs}"
        if self.calendar:
            text += (
                f"; its calendar runs from {self.calendar[0]} to {self.calendar[1]}: if the "
                "data is older or newer, set calendar_start_date / calendar_end_date in "
                "$SROS_HOME/sros.yml"
            )
        return text


def mart_nodes(manifest: dict) -> list[dict]:
    """The manifest's enabled models in schema `marts`, by name."""
    return sorted(
        (
            node
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["schema"] == MART_SCHEMA
        ),
        key=lambda node: node["name"],
    )


def find_silent_empties(
    warehouse: Path, manifest_path: Path, marts: list[str] | None = None
) -> list[EmptyMart]:
    """The marts (all, or those named) that are empty while every one of their inputs has
    rows."""
    manifest = json.loads(manifest_path.read_text())
    resources = {**manifest["nodes"], **manifest["sources"]}
    ancestors = _ancestors(manifest["parent_map"])
    empties = []
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        existing = {
            (schema, table)
            for schema, table in connection.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }

        def rows(node: dict) -> int | None:
            schema, table = node["schema"], node.get("alias") or node.get("identifier")
            if (schema, table) not in existing:
                return None
            return connection.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]

        by_name = {resource["name"]: resource for resource in resources.values()}
        for node in mart_nodes(manifest):
            if marts is not None and node["name"] not in marts:
                continue
            meta = node["config"].get("meta", {})
            if rows(node) != 0:
                continue
            if meta.get("may_be_empty"):
                event = meta.get("not_empty_when")
                if event:
                    parents = manifest["parent_map"].get(node["unique_id"], [])
                    input_node = by_name.get(event["input"])
                    if input_node is None or input_node["unique_id"] not in parents:
                        raise ValueError(
                            f"{node['original_file_path']}: meta.not_empty_when.input "
                            f"{event['input']!r} is not a model or source {node['name']} "
                            "reads: name one of its direct inputs"
                        )
                    count = connection.execute(
                        f'select count(*) from "{input_node["schema"]}".'
                        f'"{input_node.get("alias") or input_node.get("identifier")}" '
                        f"where {event['where']}"
                    ).fetchone()[0]
                    if count:
                        name = f"{event['input']} where {event['where']}"
                        empties.append(EmptyMart(node["name"], {name: count}))
                continue
            inputs = {}
            for parent in manifest["parent_map"].get(node["unique_id"], []):
                resource = resources.get(parent)
                if resource is None or resource["resource_type"] == "seed":
                    continue
                inputs[resource["name"]] = rows(resource) or 0
            if not inputs or not all(inputs.values()):
                continue
            calendar = None
            if any(model in ancestors[node["unique_id"]] for model in CALENDAR_MODELS):
                calendar = _calendar_range(connection, resources, existing)
            empties.append(EmptyMart(node["name"], inputs, calendar))
    return empties


def _ancestors(parent_map: dict[str, list[str]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}

    def visit(node: str) -> set[str]:
        if node not in found:
            found[node] = set()
            for parent in parent_map.get(node, []):
                found[node] |= {parent} | visit(parent)
        return found[node]

    for node in parent_map:
        visit(node)
    return found


def _calendar_range(
    connection: duckdb.DuckDBPyConnection, resources: dict, existing: set
) -> tuple[str, str] | None:
    calendar = resources.get(CALENDAR_MODELS[0])
    if calendar is None or (calendar["schema"], calendar["alias"]) not in existing:
        return None
    first, last = connection.execute(
        f'select min(date_day), max(date_day) from "{calendar["schema"]}"."{calendar["alias"]}"'
    ).fetchone()
    return (str(first), str(last)) if first else None
