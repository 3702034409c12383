"""The signed definitions the generator draws from, read from seeds/*.csv.

Picklist values, reason codes, SLA terms, MQL rules, business hours and the other lookups are
never repeated in the generator: it reads them here, so the data it produces follows the
definitions the marts are judged by.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, time
from functools import cache
from pathlib import Path

from sros.paths import MAPPING_SEEDS, REPO_MAPPINGS_DIR, SEEDS_DIR


def _rows(name: str, seeds_dir: Path) -> list[dict[str, str]]:
    # The demo company's picklist values are the repository's mapping seeds.
    path = (REPO_MAPPINGS_DIR if name in MAPPING_SEEDS else seeds_dir) / f"{name}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _bool(text: str) -> bool:
    return text.strip().lower() == "true"


def _time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class DatedRule:
    """A definition in force from `valid_from` (inclusive) to `valid_to` (exclusive)."""

    key: str
    valid_from: date
    valid_to: date
    values: dict[str, str]


@dataclass(frozen=True)
class RegionHours:
    region: str
    region_name: str
    time_zone: str
    hours: dict[int, tuple[time, time]]  # ISO weekday -> (opens_at, closes_at), local time
    holidays: frozenset[date]


@dataclass(frozen=True)
class Definitions:
    stage_values: tuple[tuple[str, str, str, str, str], ...]  # system, object, field, value, key
    stage_order: dict[str, int]
    rejection_reasons: tuple[tuple[str, str], ...]  # reason_code, disposition
    sla_terms: tuple[DatedRule, ...]
    mql_rules: tuple[DatedRule, ...]
    industries: tuple[tuple[str, bool], ...]  # industry, is_target
    titles: tuple[tuple[str, str, bool], ...]  # title, seniority, is_icp_seniority
    touch_types: tuple[tuple[str, str, int], ...]  # touch_type, intent_level, score_points
    lead_sources: dict[str, tuple[tuple[str, str, str], ...]]  # system -> (source, channel, team)
    segments: tuple[tuple[str, int, int], ...]  # segment, min, max employees
    country_regions: tuple[tuple[str, str], ...]  # country_code, region
    business_hours: dict[str, RegionHours]
    hubspot_teams: tuple[tuple[str, str, str], ...]  # team_name, function, region
    departments: dict[str, str]  # team_function -> Salesforce department
    expense_categories: tuple[tuple[str, bool], ...]  # category, is_advertising_cac

    def crm_values(self, system: str, crm_object: str, crm_field: str) -> dict[str, list[str]]:
        """Stage key -> the CRM picklist values mapped to it, in seed order."""
        out: dict[str, list[str]] = {}
        for row_system, row_object, row_field, value, key in self.stage_values:
            if (row_system, row_object, row_field) == (system, crm_object, crm_field):
                out.setdefault(key, []).append(value)
        return out

    def crm_value(self, system: str, crm_object: str, crm_field: str, stage_key: str) -> str:
        """The first CRM value mapped to a stage (the one the generator writes)."""
        values = self.crm_values(system, crm_object, crm_field).get(stage_key)
        if not values:
            raise KeyError(
                f"crm_stage_mappings.csv has no {system}.{crm_object}.{crm_field} value for "
                f"stage {stage_key!r}"
            )
        return values[0]

    def rule_index(self, rules: tuple[DatedRule, ...], day: date) -> int:
        for index, rule in enumerate(rules):
            if rule.valid_from <= day < rule.valid_to:
                return index
        raise KeyError(f"no rule in force on {day} among {[rule.key for rule in rules]}")


@cache
def load_definitions(seeds_dir: Path = SEEDS_DIR) -> Definitions:
    """Read every seed the generator needs (cached: the seeds do not change during a run)."""

    def rows(name: str) -> list[dict[str, str]]:
        return _rows(name, seeds_dir)

    holidays: dict[str, set[date]] = {}
    for row in rows("region_holidays"):
        holidays.setdefault(row["region"], set()).add(date.fromisoformat(row["holiday_date"]))
    hours: dict[str, dict[int, tuple[time, time]]] = {}
    zones: dict[str, str] = {}
    region_names: dict[str, str] = {}
    for row in rows("business_hours"):
        zones[row["region"]] = row["time_zone"]
        region_names[row["region"]] = row["region_name"]
        hours.setdefault(row["region"], {})[int(row["iso_weekday"])] = (
            _time(row["opens_at"]),
            _time(row["closes_at"]),
        )
    lead_sources: dict[str, list[tuple[str, str, str]]] = {}
    for row in rows("lead_source_channels"):
        lead_sources.setdefault(row["source_system"], []).append(
            (row["lead_source"], row["channel"], row["team"])
        )

    def dated(name: str, key: str) -> tuple[DatedRule, ...]:
        out = [
            DatedRule(
                key=row[key],
                valid_from=date.fromisoformat(row["valid_from"]),
                valid_to=date.fromisoformat(row["valid_to"]),
                values=row,
            )
            for row in rows(name)
        ]
        return tuple(sorted(out, key=lambda rule: (rule.valid_from, rule.key)))

    return Definitions(
        stage_values=tuple(
            (r["source_system"], r["crm_object"], r["crm_field"], r["crm_value"], r["stage_key"])
            for r in rows("crm_stage_mappings")
        ),
        stage_order={r["stage_key"]: int(r["stage_order"]) for r in rows("funnel_stages")},
        rejection_reasons=tuple(
            (r["reason_code"], r["disposition"]) for r in rows("rejection_reasons")
        ),
        sla_terms=dated("sla_terms", "sla_term_id"),
        mql_rules=dated("mql_rules", "mql_rule_id"),
        industries=tuple(
            (r["industry"], _bool(r["is_target_industry"])) for r in rows("icp_industries")
        ),
        titles=tuple(
            (r["title"], r["seniority"], _bool(r["is_icp_seniority"]))
            for r in rows("title_seniorities")
        ),
        touch_types=tuple(
            (r["touch_type"], r["intent_level"], int(r["score_points"]))
            for r in rows("touch_types")
        ),
        lead_sources={system: tuple(values) for system, values in lead_sources.items()},
        segments=tuple(
            (r["segment"], int(r["min_employees"]), int(r["max_employees"]))
            for r in rows("segments")
        ),
        country_regions=tuple((r["country_code"], r["region"]) for r in rows("country_regions")),
        business_hours={
            region: RegionHours(
                region,
                region_names[region],
                zones[region],
                hours[region],
                frozenset(holidays.get(region, ())),
            )
            for region in sorted(hours)
        },
        hubspot_teams=tuple(
            (r["team_name"], r["team_function"], r["region"]) for r in rows("hubspot_teams")
        ),
        departments={r["team_function"]: r["department"] for r in rows("salesforce_departments")},
        expense_categories=tuple(
            (r["category"], _bool(r["is_advertising_cac"])) for r in rows("expense_categories")
        ),
    )


def open_rule(name: str, seeds_dir: Path = SEEDS_DIR, **match: str) -> dict[str, str]:
    """The row of an effective-dated rule seed in force now (valid_to 9999-12-31) whose
    columns equal `match`: the version the generator plants its signals by."""
    rows = [
        row
        for row in _rows(name, seeds_dir)
        if row["valid_to"] >= "9999" and all(row[key] == value for key, value in match.items())
    ]
    if len(rows) != 1:
        raise ValueError(f"seeds/{name}.csv must have exactly one open-ended row for {match}")
    return rows[0]


def campaign_experiment_window_days(seeds_dir: Path = SEEDS_DIR) -> int:
    """conversion_window_days of the campaign_experiment_rules row in force now."""
    return int(open_rule("campaign_experiment_rules", seeds_dir)["conversion_window_days"])
