"""Dirty-data injection into the text exports, switched by DirtyConfig.

Every kind of dirt except the survivor side of merges is additive: extra rows that staging must
remove (exact duplicates, same-key conflicts, soft-deleted rows, merged-away records, malformed
rows) or must cope with (late files, unmapped picklist values). The clean records stay exactly
as generated, so the realised rates in ground_truth.json hold whether the switches are on or
off. What each switch injected is returned for ground_truth.json["dirty"], including
`removed_in_staging`: per table, the rows staging drops (see `ground_truth.staging_row_counts`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from sros.contracts import TableContract
from sros.demo_company.config import DemoConfig

DUPLICATE_TABLES = [
    ("salesforce", "lead"),
    ("salesforce", "opportunity"),
    ("salesforce", "opportunity_history"),
    ("hubspot", "contact"),
    ("marketing", "touchpoint"),
]
LATE_TABLES = {
    ("salesforce", "lead"): "created_date",
    ("salesforce", "opportunity"): "created_date",
    ("marketing", "touchpoint"): "occurred_at",
}
SOFT_DELETE_TABLES = [
    ("salesforce", "lead"),
    ("salesforce", "contact"),
    ("salesforce", "account"),
    ("salesforce", "opportunity"),
    ("salesforce", "task"),
    ("hubspot", "contact"),
    ("hubspot", "deal"),
]
UNMAPPED_LEAD_STATUS = "Qualifying"
UNMAPPED_DEAL_STAGE = "decisionmakerboughtin"


@dataclass
class Export:
    """A table's text rows: the first export file, an optional late file, and an optional
    byte-level patch applied to the first file (malformed rows)."""

    contract: TableContract
    first: pa.Table
    late: pa.Table | None = None
    patch: Callable[[bytes], bytes] | None = None
    original_rows: int = field(default=0)

    def __post_init__(self) -> None:
        self.original_rows = self.first.num_rows

    @property
    def free_text(self) -> set[str]:
        """Columns that may need CSV quoting: the varchar ones."""
        return {c.name for c in self.contract.columns if c.data_type == "varchar"}


def _key(export: Export) -> str:
    return f"{export.contract.source}.{export.contract.name}"


def _rows(table: pa.Table, indices: np.ndarray) -> list[dict]:
    return table.take(pa.array(indices, type=pa.int64())).to_pylist()


def _append(export: Export, rows: list[dict]) -> None:
    if rows:
        extra = pa.Table.from_pylist(rows, schema=export.first.schema)
        export.first = pa.concat_tables([export.first, extra])


def _pick(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return np.sort(rng.choice(n, size=min(k, n), replace=False)) if n else np.zeros(0, np.int64)


def _new_id(value: str, marker: str) -> str:
    """A fresh id of the same shape: a marker after a Salesforce prefix, or a numeric prefix."""
    return f"9{marker}{value}" if value.isdigit() else f"{value[:3]}{marker}{value[4:]}"


def _id_column(export: Export) -> str:
    return export.contract.primary_key[0]


def _soft_deleted(row: dict) -> dict:
    for column in ("is_deleted", "_fivetran_deleted"):
        if column in row:
            row[column] = "true"
    return row


def inject(config: DemoConfig, exports: dict[tuple[str, str], Export]) -> dict:
    dirty = config.dirty
    rng = np.random.default_rng([config.seed, 41])
    report: dict = {"switches": {k: v for k, v in vars(dirty).items()}, "removed_in_staging": {}}
    removed = report["removed_in_staging"]

    def drop(export: Export, count: int) -> None:
        removed[_key(export)] = removed.get(_key(export), 0) + count

    if dirty.merged_contacts:
        merged = []
        contact = exports[("hubspot", "contact")]
        survivors = _pick(rng, contact.original_rows, 5)
        rows = contact.first.column("id").to_pylist()
        merged_column = contact.first.column("property_hs_merged_object_ids").to_pylist()
        extra = []
        for index in survivors:
            row = _rows(contact.first, np.array([index]))[0]
            loser = _new_id(row["id"], "7")
            merged_column[index] = loser
            extra.append(_soft_deleted({**row, "id": loser}))
            merged.append({"table": "hubspot.contact", "survivor": rows[index], "merged": [loser]})
        position = contact.first.column_names.index("property_hs_merged_object_ids")
        contact.first = contact.first.set_column(
            position, "property_hs_merged_object_ids", pa.array(merged_column, pa.string())
        )
        _append(contact, extra)
        drop(contact, len(extra))
        lead = exports[("salesforce", "lead")]
        extra = []
        for row in _rows(lead.first, _pick(rng, lead.original_rows, 5)):
            loser = _new_id(row["id"], "7")
            extra.append(_soft_deleted({**row, "id": loser, "master_record_id": row["id"]}))
            merged.append({"table": "salesforce.lead", "survivor": row["id"], "merged": [loser]})
        _append(lead, extra)
        drop(lead, len(extra))
        report["merged_contacts"] = merged

    if dirty.soft_deletes:
        deleted = {}
        for key in SOFT_DELETE_TABLES:
            export = exports[key]
            column = _id_column(export)
            extra = [
                _soft_deleted({**row, column: _new_id(row[column], "8")})
                for row in _rows(export.first, _pick(rng, export.original_rows, 3))
            ]
            _append(export, extra)
            drop(export, len(extra))
            deleted[_key(export)] = [row[column] for row in extra]
        report["soft_deletes"] = deleted

    if dirty.unmapped_values:
        lead = exports[("salesforce", "lead")]
        row = _rows(lead.first, np.array([0]))[0]
        new_lead = {
            **row,
            "id": _new_id(row["id"], "6"),
            "status": UNMAPPED_LEAD_STATUS,
            "is_converted": "false",
            "converted_date": None,
            "converted_account_id": None,
            "converted_contact_id": None,
            "converted_opportunity_id": None,
        }
        _append(lead, [new_lead])
        history = exports[("salesforce", "lead_history")]
        template = _rows(history.first, np.array([0]))[0]
        _append(
            history,
            [
                {
                    **template,
                    "id": _new_id(template["id"], "6"),
                    "lead_id": new_lead["id"],
                    "field": "Status",
                    "data_type": "Picklist",
                    "old_value": row["status"],
                    "new_value": UNMAPPED_LEAD_STATUS,
                }
            ],
        )
        deal = exports[("hubspot", "deal")]
        deal_row = _rows(deal.first, np.array([0]))[0]
        new_deal = {
            **deal_row,
            "deal_id": _new_id(deal_row["deal_id"], "6"),
            "deal_pipeline_stage_id": UNMAPPED_DEAL_STAGE,
        }
        _append(deal, [new_deal])
        stage = exports[("hubspot", "deal_stage")]
        stage_row = _rows(stage.first, np.array([0]))[0]
        _append(
            stage,
            [
                {
                    **stage_row,
                    "deal_id": new_deal["deal_id"],
                    "value": UNMAPPED_DEAL_STAGE,
                    "_fivetran_active": "true",
                    "_fivetran_end": "9999-12-31T23:59:59Z",
                }
            ],
        )
        stages = exports[("hubspot", "deal_pipeline_stage")]
        stage_template = _rows(stages.first, np.array([0]))[0]
        _append(
            stages,
            [
                {
                    **stage_template,
                    "stage_id": UNMAPPED_DEAL_STAGE,
                    "label": "Decision Maker Bought-In",
                    "probability": "0.6",
                    "closed_won": "false",
                }
            ],
        )
        report["unmapped_values"] = [
            {
                "table": "salesforce.lead",
                "column": "status",
                "value": UNMAPPED_LEAD_STATUS,
                "ids": [new_lead["id"]],
            },
            {
                "table": "salesforce.lead_history",
                "column": "new_value",
                "value": UNMAPPED_LEAD_STATUS,
                "ids": [new_lead["id"]],
            },
            {
                "table": "hubspot.deal",
                "column": "deal_pipeline_stage_id",
                "value": UNMAPPED_DEAL_STAGE,
                "ids": [new_deal["deal_id"]],
            },
            {
                "table": "hubspot.deal_stage",
                "column": "value",
                "value": UNMAPPED_DEAL_STAGE,
                "ids": [new_deal["deal_id"]],
            },
        ]

    if dirty.duplicates:
        duplicated = {}
        for key in DUPLICATE_TABLES:
            export = exports[key]
            column = _id_column(export)
            n = export.original_rows
            chosen = _pick(rng, n, max(2, min(20, n // 200)))
            exact, conflicting = chosen[::2], chosen[1::2]
            copies = _rows(export.first, exact)
            changed = []
            for row in _rows(export.first, conflicting):
                target = "_fivetran_synced" if "_fivetran_synced" in row else None
                if target is None:
                    target = next(
                        c for c in export.first.column_names if c != column and row[c] is not None
                    )
                changed.append({**row, target: _changed(row[target])})
            _append(export, copies + changed)
            drop(export, len(copies) + len(changed))
            duplicated[_key(export)] = {
                "exact": [r[column] for r in copies],
                "conflicting": [r[column] for r in changed],
            }
        report["duplicates"] = duplicated

    if dirty.late_rows:
        late = {}
        for key, time_column in LATE_TABLES.items():
            export = exports[key]
            n = export.original_rows
            times = export.first.column(time_column).to_pylist()[:n]
            older = np.flatnonzero(np.array([t is not None and t < times[n // 2] for t in times]))
            moved = np.sort(
                rng.choice(older, size=min(len(older), max(1, n // 500)), replace=False)
            )
            keep = np.ones(export.first.num_rows, dtype=bool)
            keep[moved] = False
            export.late = export.first.take(pa.array(moved, type=pa.int64()))
            export.first = export.first.filter(pa.array(keep))
            export.original_rows = n - len(moved)
            late[_key(export)] = {
                "file": "export_0002.csv",
                "ids": export.late.column(_id_column(export)).to_pylist(),
            }
        report["late_rows"] = late

    if dirty.malformed_rows:
        export = exports[("salesforce", "opportunity")]
        rows = _rows(export.first, np.array([0, 1, 2]))
        base = export.first.num_rows
        bad = [
            {**rows[0], "id": _new_id(rows[0]["id"], "5"), "amount": "12.5k"},
            {**rows[1], "id": _new_id(rows[1]["id"], "5"), "close_date": "2025-02-30"},
            {**rows[2], "id": _new_id(rows[2]["id"], "5")},
        ]
        _append(export, bad)
        export.patch = _drop_last_field
        landing = f"{export.contract.landing}/export_0001.csv"
        last_column = export.contract.column_names[-1]
        report["malformed_rows"] = [
            {
                "file": landing,
                "row": base + 1,
                "column": "amount",
                "value": "12.5k",
                "reason": "non-numeric amount",
                "id": bad[0]["id"],
            },
            {
                "file": landing,
                "row": base + 2,
                "column": "close_date",
                "value": "2025-02-30",
                "reason": "impossible date",
                "id": bad[1]["id"],
            },
            {
                "file": landing,
                "row": base + 3,
                "column": last_column,
                "value": None,
                "reason": "missing trailing field",
                "id": bad[2]["id"],
            },
        ]
        drop(export, 3)
    return report


def _changed(value: str) -> str:
    """A different value of the same kind (an earlier sync time, or a marked string)."""
    if len(value) == 20 and value.endswith("Z"):
        return value[:11] + "00:00:00Z"
    return f"{value} (updated)"


def _drop_last_field(payload: bytes) -> bytes:
    """Remove the last field (and its comma) of the file's final record."""
    body = payload[:-1]
    return body[: body.rfind(b",")] + b"\n"
