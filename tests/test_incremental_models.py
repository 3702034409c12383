"""Every incremental model gives, after an incremental run, the rows of a full refresh.

The models come from the dbt manifest (every model materialized `incremental`), so a model made
incremental later is tested without touching this file. Each says in its yml on which column
"the last N days" of its rows are cut (test_every_incremental_model_says_how_to_cut_it fails
for one that does not):

    config:
      meta:
        incremental_test:
          date_column: snapshot_date

On a copy of a built warehouse (keeping its file name: dbt names the database by it), for
each model:

1. `prepare` (optional, per model in SCENARIOS): make the raw data look as it would have
   arrived over time; then build the model in full (--full-refresh), with the staging and
   intermediate tables it reads (`+<model>`: they are tables, rebuilt from the raw rows);
2. delete the model's rows of the last N_DAYS days of date_column (the table as it stood N_DAYS
   ago) and the rows of its oldest date_column value (history, far older than any lookback);
3. `change` (optional, per model): what reached the CRM after the table was built;
4. `dbt run --select +<model>`, which must run the model incrementally (insert into the
   existing table);
5. `dbt run --full-refresh --select +<model>` on the same data, and compare row for row: the
   incremental run gave every row of the full refresh, except the deleted oldest rows, which
   are still missing: it rebuilt the new days plus its lookback, not the history.

A model rebuilt by changed days (stg_marketing__touchpoints, int_person_touchpoints,
fct_sales_activities, fct_marketing_touchpoints, int_lead_stage_entries) finds
every row that is new, gone, moved or delivered again, at any age, rather than rebuilding a
lookback; its yml says so (`rebuilds_every_changed_day: true` beside date_column), and step 5
then expects every row of the full refresh, the deleted oldest ones included.

The as-of date moves the way it does in production, with the data (the latest sync), not
with var as_of_date. A day of fct_pipeline_snapshots_daily does not depend on the as-of date,
so its cut table is the table as it stood N_DAYS ago.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from sros.incremental import (
    OutdatedIncrementalTables,
    OutdatedTable,
    duckdb_table_columns,
    incremental_models,
    outdated_incremental_tables,
)

pytestmark = pytest.mark.slow  # builds whole warehouses (conftest.py runs these first)

N_DAYS = 20


@dataclass
class Workspace:
    """One warehouse path and one dbt target for every run of the module: dbt re-parses the
    whole project when the profile (the warehouse path) changes, and only then."""

    warehouse: Path
    target: Path
    source: Path  # the built warehouse each model's test starts from
    manifest: dict = field(default_factory=dict)


def _dbt(workspace: Workspace, *args: str) -> str:
    from sros.paths import PROJECT_DIR

    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            *args,
            "--profiles-dir",
            ".",
            "--target-path",
            str(workspace.target),
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, "SROS_WAREHOUSE_PATH": str(workspace.warehouse)},
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    return completed.stdout


@pytest.fixture(scope="module")
def workspace(built_company: Callable, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    built = built_company(leads=2000, seed=42)
    home = tmp_path_factory.mktemp("incremental")
    workspace = Workspace(home / built.warehouse.name, home / "target", built.warehouse)
    _dbt(workspace, "parse")
    workspace.manifest = json.loads((workspace.target / "manifest.json").read_text())
    return workspace


def _date_column(node: dict) -> str | None:
    return node["config"]["meta"].get("incremental_test", {}).get("date_column")


def _rebuilds_every_changed_day(node: dict) -> bool:
    incremental_test = node["config"]["meta"].get("incremental_test", {})
    return bool(incremental_test.get("rebuilds_every_changed_day"))


class Scenario:
    """What a model's test adds to the generic steps (none by default)."""

    def prepare(self, con: duckdb.DuckDBPyConnection) -> None:
        """Raw data as it would have arrived over time (before the first full build)."""

    def change(self, con: duckdb.DuckDBPyConnection) -> None:
        """What reaches the CRM after the table was built (before the incremental run)."""

    def check(self, rows: list[dict]) -> None:
        """Checks of the incremental run's rows beyond the comparison."""


class SalesActivities(Scenario):
    """fct_sales_activities rebuilds the days of every activity that changed, at any age.
    change() brings five activities far older than any lookback: a task logged late (its row
    was not in the table yet), a meeting moved a day, a meeting moved past the as-of date, a
    deleted HubSpot engagement, and a task handed to another owner without a new sync time
    (a source that stamps none: only the row-by-row comparison can see it)."""

    def change(self, con: duckdb.DuckDBPyConnection) -> None:
        (latest,) = con.sql("select max(occurred_at) from marts.fct_sales_activities").fetchone()

        def nth_oldest(source_table: str, n: int) -> tuple:
            row = con.execute(
                """
                select sales_activity_id, activity_id, occurred_at
                from marts.fct_sales_activities where source_table = ?
                order by occurred_at, sales_activity_id limit 1 offset ?
                """,
                [source_table, n],
            ).fetchone()
            # far older than the N_DAYS cut: only a changed-day comparison finds it
            assert row[2] < latest - timedelta(days=30)
            return row

        self.late = nth_oldest("salesforce.task", 10)
        self.moved = nth_oldest("salesforce.event", 10)
        self.rescheduled = nth_oldest("salesforce.event", 20)
        self.deleted = nth_oldest("hubspot.engagement", 10)
        self.handed_over = nth_oldest("salesforce.task", 20)
        (self.new_owner,) = con.execute(
            "select min(owner_user_id) from marts.fct_sales_activities where owner_user_id <> ("
            " select owner_user_id from marts.fct_sales_activities where sales_activity_id = ?)",
            [self.handed_over[0]],
        ).fetchone()
        con.execute(
            "delete from marts.fct_sales_activities where sales_activity_id = ?", [self.late[0]]
        )
        export = "(select max(_fivetran_synced) from raw_salesforce.lead)"
        past_as_of = "(select as_of_date + 3 from intermediate.int_as_of_date)"
        con.execute(
            f"update raw_salesforce.task set _fivetran_synced = {export} where id = ?",
            [self.late[1]],
        )
        con.execute(
            "update raw_salesforce.event set start_date_time = start_date_time + interval 1 day,"
            f" _fivetran_synced = {export} where id = ?",
            [self.moved[1]],
        )
        con.execute(
            f"update raw_salesforce.event set start_date_time = {past_as_of},"
            f" _fivetran_synced = {export} where id = ?",
            [self.rescheduled[1]],
        )
        con.execute(
            "update raw_hubspot.engagement set _fivetran_deleted = true,"
            f" _fivetran_synced = {export} where id = ?",
            [self.deleted[1]],
        )
        con.execute(
            "update raw_salesforce.task set owner_id = ? where id = ?",
            [self.new_owner, self.handed_over[1]],
        )

    def check(self, rows: list[dict]) -> None:
        by_id = {row["sales_activity_id"]: row for row in rows}
        assert self.late[0] in by_id
        assert by_id[self.moved[0]]["occurred_at"] == self.moved[2] + timedelta(days=1)
        assert self.rescheduled[0] not in by_id
        assert self.deleted[0] not in by_id
        assert by_id[self.handed_over[0]]["owner_user_id"] == self.new_owner


class MarketingTouches(Scenario):
    """Raw touches change after the build, at days far older than any lookback: one is
    deleted (marked by a newer full export), one moved a day, one delivered again in another
    file with a corrected utm_term, and one corrected in place: its landing file rewritten
    under the same name (ingestion loads a rewritten file again) with another utm_term, the
    rest of the row as it was."""

    def change(self, con: duckdb.DuckDBPyConnection) -> None:
        old = con.sql(
            """
            with touches as (select * from staging.stg_marketing__touchpoints)
            select touchpoint_id, occurred_at from touches
            where
                occurred_date < (select max(occurred_date) - 60 from touches)
                -- days that keep touches (the activities' scenario empties a day)
                and occurred_date in (
                    select occurred_date from touches group by all having count(*) >= 4
                )
            order by touchpoint_id limit 3
            """
        ).fetchall()
        self.deleted, self.moved, self.delivered_again = (row[0] for row in old)
        self.moved_to = old[1][1] + timedelta(days=1)
        # on a day no other change rebuilds: only the comparison of its rows can find it
        (self.corrected,) = con.execute(
            """
            with touches as (select * from staging.stg_marketing__touchpoints)
            select min(touchpoint_id) from touches
            where
                occurred_date < (select max(occurred_date) - 60 from touches)
                and occurred_date <> cast(? as date)
                and occurred_date not in (
                    select occurred_date from touches where touchpoint_id in (?, ?, ?)
                )
            """,
            [self.moved_to, self.deleted, self.moved, self.delivered_again],
        ).fetchone()
        con.execute(
            "update raw_marketing.touchpoint set _sros_deleted_at = now() where touchpoint_id = ?",
            [self.deleted],
        )
        con.execute(
            "update raw_marketing.touchpoint set occurred_at = occurred_at + interval 1 day"
            " where touchpoint_id = ?",
            [self.moved],
        )
        con.execute(
            "update raw_marketing.touchpoint set utm_term = 'corrected',"
            " _sros_source_file = 'marketing/touchpoint/redelivered.csv' where touchpoint_id = ?",
            [self.delivered_again],
        )
        con.execute(
            "update raw_marketing.touchpoint set utm_term = 'corrected in place'"
            " where touchpoint_id = ?",
            [self.corrected],
        )

    def check(self, rows: list[dict]) -> None:
        by_id = {row["touchpoint_id"]: row for row in rows}
        assert self.deleted not in by_id
        assert by_id[self.moved]["occurred_at"] == self.moved_to
        assert by_id[self.delivered_again]["_sros_source_file"].endswith("redelivered.csv")
        assert by_id[self.corrected]["utm_term"] == "corrected in place"


class PersonTouches(Scenario):
    """A cookie whose old touches belonged to nobody is identified after the build, as the
    email of a known person: the incremental run must give those touches to the person,
    although nothing about the touches themselves changed. Likewise an old touch that names
    no campaign and carries a utm_campaign no campaign carried when it was built: a
    Salesforce campaign takes that utm_campaign after the build, and the touch is its. And
    an old touch corrected in place (its landing file rewritten under the same name, loaded
    again) with another utm_source: nothing but that column changed."""

    UTM = "utm-taken-up-later"

    def prepare(self, con: duckdb.DuckDBPyConnection) -> None:
        (self.utm_touch,) = con.sql(
            """
            with touches as (select * from staging.stg_marketing__touchpoints)
            select max(touchpoint_id) from touches
            where occurred_date between (select min(occurred_date) + 1 from touches)
                and (select max(occurred_date) - 60 from touches)
            """
        ).fetchone()
        con.execute(
            "update raw_marketing.touchpoint set campaign_id = null, utm_campaign = ?"
            " where touchpoint_id = ?",
            [self.UTM, self.utm_touch],
        )

    def change(self, con: duckdb.DuckDBPyConnection) -> None:
        (self.campaign,) = con.sql(
            "select min(campaign_id) from staging.stg_salesforce__campaigns"
        ).fetchone()
        con.execute(
            "update raw_salesforce.campaign set utm_campaign_c = ? where id = ?",
            [self.UTM, self.campaign],
        )
        self.cookie, self.touch = con.sql(
            """
            select anonymous_id, min(touchpoint_id)
            from intermediate.int_person_touchpoints
            where person_id is null and anonymous_id is not null
            group by anonymous_id
            having max(occurred_date) < (
                select max(occurred_date) - 60 from intermediate.int_person_touchpoints
            )
            order by anonymous_id limit 1
            """
        ).fetchone()
        self.email, self.person = con.sql(
            """
            select touches.email, people.person_id
            from staging.stg_marketing__touchpoints as touches
            inner join intermediate.int_person_touchpoints as people using (touchpoint_id)
            where people.person_id is not null and touches.email is not null
            order by touches.touchpoint_id limit 1
            """
        ).fetchone()
        con.execute(
            "insert into raw_marketing.identity by name"
            " select ? as anonymous_id, ? as email, now() as identified_at",
            [self.cookie, self.email],
        )
        # on a day no other change rebuilds: only the comparison of its rows can find it
        (self.corrected,) = con.execute(
            """
            with touches as (select * from intermediate.int_person_touchpoints)
            select min(touchpoint_id) from touches
            where
                occurred_date < (select max(occurred_date) - 60 from touches)
                and occurred_date not in (
                    select occurred_date from touches
                    where anonymous_id = ? or touchpoint_id = ? or utm_campaign = ?
                )
            """,
            [self.cookie, self.utm_touch, self.UTM],
        ).fetchone()
        con.execute(
            "update raw_marketing.touchpoint set utm_source = 'corrected in place'"
            " where touchpoint_id = ?",
            [self.corrected],
        )

    def check(self, rows: list[dict]) -> None:
        by_id = {row["touchpoint_id"]: row for row in rows}
        assert by_id[self.touch]["person_id"] == self.person
        assert by_id[self.touch]["is_identified_by_cookie"]
        assert by_id[self.utm_touch]["is_campaign_by_utm"]
        assert by_id[self.utm_touch]["campaign_id"] == self.campaign
        assert by_id[self.corrected]["utm_source"] == "corrected in place"


class TouchFact(Scenario):
    """A person's account changes after the build (the one Salesforce contact of a person
    with touches far older than any lookback moves to another account): nothing about the
    touches changed, yet every day holding one of the person's touches must be rebuilt
    with the new account (fct_marketing_touchpoints.account_id comes from dim_persons)."""

    def change(self, con: duckdb.DuckDBPyConnection) -> None:
        self.person, self.contact, self.touch = con.sql(
            """
            with contacts as (
                select person_id, min(crm_record_id) as crm_record_id
                from intermediate.int_person_identities
                where source_system = 'salesforce' and crm_object = 'contact'
                group by person_id
                having count(*) = 1
            ),

            touches as (select * from marts.fct_marketing_touchpoints)

            select contacts.person_id, contacts.crm_record_id, min(touches.touchpoint_id)
            from contacts
            inner join touches on contacts.person_id = touches.person_id
            where touches.occurred_date < (select max(occurred_date) - 60 from touches)
            group by all
            order by 1 limit 1
            """
        ).fetchone()
        (self.account,) = con.execute(
            "select min(account_id) from staging.stg_salesforce__accounts where account_id <> ("
            " select account_id from raw_salesforce.contact where id = ?)",
            [self.contact],
        ).fetchone()
        con.execute(
            "update raw_salesforce.contact set account_id = ? where id = ?",
            [self.account, self.contact],
        )

    def check(self, rows: list[dict]) -> None:
        touches = [row for row in rows if row["person_id"] == self.person]
        assert any(row["touchpoint_id"] == self.touch for row in touches)
        assert {row["account_id"] for row in touches} == {self.account}


class LeadStages(Scenario):
    """Two persons who first entered a stage far earlier than any lookback, on days no other
    change rebuilds, change after the build: one Salesforce Status change of the first is
    corrected in the CRM (Nurturing to Recycled: the person gains a recycled entry, and
    their later entries new neighbours), and the lead of the second is deleted (every entry
    of theirs must go, though nothing new arrived on their day)."""

    def change(self, con: duckdb.DuckDBPyConnection) -> None:
        old_days = """
            with entries as (select * from intermediate.int_lead_stage_entries)
            select crm_record_id, first_entered_date from entries
            where
                first_entered_date < (select max(first_entered_date) - 60 from entries)
                and first_entered_date > (select min(first_entered_date) from entries)
                and source_system = 'salesforce'
        """
        self.corrected, corrected_day, self.person = con.sql(
            f"""
            with salesforce_leads as ({old_days})
            select history.id, salesforce_leads.first_entered_date, identities.person_id
            from raw_salesforce.lead_history as history
            inner join salesforce_leads on history.lead_id = salesforce_leads.crm_record_id
            inner join intermediate.int_person_identities as identities
                on
                    identities.crm_record_id = history.lead_id
                    and identities.source_system = 'salesforce'
            where history.field = 'Status' and history.new_value = 'Nurturing'
            order by history.id limit 1
            """
        ).fetchone()
        # a person of one CRM record, so deleting the lead removes the person
        self.deleted, self.deleted_person = con.execute(
            f"""
            with salesforce_leads as ({old_days}),

            single_records as (
                select person_id, min(crm_record_id) as crm_record_id
                from intermediate.int_person_identities
                group by person_id having count(*) = 1
            )

            select single_records.crm_record_id, single_records.person_id
            from salesforce_leads
            inner join single_records using (crm_record_id)
            where salesforce_leads.first_entered_date <> ?
            order by 1 limit 1
            """,
            [corrected_day],
        ).fetchone()
        con.execute(
            "update raw_salesforce.lead_history set new_value = 'Recycled' where id = ?",
            [self.corrected],
        )
        con.execute("update raw_salesforce.lead set is_deleted = true where id = ?", [self.deleted])

    def check(self, rows: list[dict]) -> None:
        corrected = [
            row
            for row in rows
            if row["status_change_id"] == f"salesforce.lead_history:{self.corrected}"
        ]
        assert [row["stage_key"] for row in corrected] == ["recycled"]
        assert corrected[0]["person_id"] == self.person
        assert not [row for row in rows if row["person_id"] == self.deleted_person]


SCENARIOS: dict[str, Scenario] = {
    "fct_sales_activities": SalesActivities(),
    "stg_marketing__touchpoints": MarketingTouches(),
    "int_person_touchpoints": PersonTouches(),
    "fct_marketing_touchpoints": TouchFact(),
    "int_lead_stage_entries": LeadStages(),
}


def test_every_incremental_model_says_how_to_cut_it(workspace: Workspace) -> None:
    models = incremental_models(workspace.manifest)
    assert {
        "fct_pipeline_snapshots_daily",
        "fct_sales_activities",
        "stg_marketing__touchpoints",
        "int_person_touchpoints",
        "fct_marketing_touchpoints",
        "int_lead_stage_entries",
    } <= {m["name"] for m in models}
    missing = [m["original_file_path"] for m in models if not _date_column(m)]
    assert not missing, (
        f"incremental models without config.meta.incremental_test.date_column: {missing}; "
        "declare the column their rows are cut on by date (see this module's docstring)"
    )
    for model in models:
        column = _date_column(model)
        assert column in model["columns"], f"{model['name']}: no column {column} in its yml"


def test_a_fresh_build_has_every_column_each_incremental_model_declares(
    workspace: Workspace,
) -> None:
    """The check that stops a run on an incremental table of an older SROS compares the
    table with the model's yml, so every incremental model must declare all its columns."""
    models = incremental_models(workspace.manifest)
    undeclared = [model["name"] for model in models if not model["columns"]]
    assert not undeclared, f"incremental models declaring no columns in their yml: {undeclared}"
    with duckdb.connect(str(workspace.source), read_only=True) as con:
        assert outdated_incremental_tables(workspace.manifest, duckdb_table_columns(con)) == []


def test_an_incremental_table_of_an_older_sros_is_named_with_the_command_that_rebuilds_it(
    workspace: Workspace,
) -> None:
    """A table built before its model gained a column (and with one it no longer builds)
    would fail the model's next run deep in the build; the check names it first, and the
    command it gives rebuilds it."""
    shutil.copy(workspace.source, workspace.warehouse)
    with duckdb.connect(str(workspace.warehouse)) as con:
        con.execute("alter table intermediate.int_person_touchpoints drop is_campaign_by_utm")
        con.execute("alter table intermediate.int_person_touchpoints add legacy_flag boolean")
        outdated = outdated_incremental_tables(workspace.manifest, duckdb_table_columns(con))
    assert outdated == [
        OutdatedTable(
            model="int_person_touchpoints",
            relation="intermediate.int_person_touchpoints",
            missing=("is_campaign_by_utm",),
            extra=("legacy_flag",),
        )
    ]
    message = str(OutdatedIncrementalTables(outdated))
    assert (
        "intermediate.int_person_touchpoints (missing is_campaign_by_utm; no longer built: "
        "legacy_flag)" in message
    )
    command = message.split("sros dbt ", 1)[1].split(", then", 1)[0].split()
    assert command == ["run", "--full-refresh", "--select", "+int_person_touchpoints"]
    _dbt(workspace, *command)  # `sros dbt` adds the installation's vars: the defaults here
    with duckdb.connect(str(workspace.warehouse), read_only=True) as con:
        assert outdated_incremental_tables(workspace.manifest, duckdb_table_columns(con)) == []


def test_int_lead_stage_entries_hashes_every_column_of_its_input(workspace: Workspace) -> None:
    """int_lead_stage_entries finds the days to rebuild by a hash of its input's rows, whose
    columns it lists by name (hashed_columns): a column added to
    int_lead_status_changes_unioned and not to that list would change without rebuilding
    anything. Every column of the built input must be in the model's hash (macro row_hash
    writes `<column> is null` beside each in the per-day hash)."""
    shutil.copy(workspace.source, workspace.warehouse)
    _dbt(workspace, "compile", "--select", "int_lead_stage_entries")
    compiled = next(workspace.target.glob("compiled/**/int_lead_stage_entries.sql")).read_text()
    # the per-day hash of the input (macro day_hashes), up to its group by
    input_hash = compiled.split("input_days as (", 1)[1].split("group by", 1)[0]
    with duckdb.connect(str(workspace.warehouse), read_only=True) as con:
        columns = duckdb_table_columns(con)("intermediate", "int_lead_status_changes_unioned")
    assert columns
    unhashed = sorted(column for column in columns if f"{column} is null" not in input_hash)
    assert not unhashed, (
        f"int_lead_stage_entries does not hash {unhashed} of int_lead_status_changes_unioned: "
        "add them to hashed_columns in the model"
    )


def _rows(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[list[str], list[tuple]]:
    result = con.sql(f"select * from {relation} order by all")
    return result.columns, result.fetchall()


def test_incremental_models_equal_a_full_refresh(workspace: Workspace, subtests) -> None:
    for model in incremental_models(workspace.manifest):
        with subtests.test(msg=model["name"]):
            _check_incremental_run(workspace, model, SCENARIOS.get(model["name"], Scenario()))


def _check_incremental_run(workspace: Workspace, model: dict, scenario: Scenario) -> None:
    name, date_column = model["name"], _date_column(model)
    assert date_column, f"{name} declares no date_column (see the module docstring)"
    relation = f"{model['schema']}.{model['alias']}"
    shutil.copy(workspace.source, workspace.warehouse)
    with duckdb.connect(str(workspace.warehouse)) as con:
        scenario.prepare(con)
    # +name: the staging and intermediate tables it reads see the changed raw rows too
    _dbt(workspace, "run", "--full-refresh", "--select", f"+{name}")

    with duckdb.connect(str(workspace.warehouse)) as con:
        (last,) = con.sql(f"select max({date_column}) from {relation}").fetchone()
        (cut,) = con.execute(
            f"delete from {relation} where {date_column} > ?", [last - timedelta(days=N_DAYS)]
        ).fetchone()
        (oldest,) = con.sql(f"select min({date_column}) from {relation}").fetchone()
        (history,) = con.execute(
            f"delete from {relation} where {date_column} = ?", [oldest]
        ).fetchone()
        assert cut > 0 and history > 0
        scenario.change(con)

    log = _dbt(workspace, "run", "--select", f"+{name}")
    assert f"incremental model {relation}" in log
    # an incremental run inserts into the existing table; a full one fills a new table
    ran = workspace.target / "run" / model["package_name"] / model["original_file_path"]
    assert f"insert into {model['relation_name']} (" in ran.read_text()
    with duckdb.connect(str(workspace.warehouse), read_only=True) as con:
        columns, incremental = _rows(con, relation)

    _dbt(workspace, "run", "--full-refresh", "--select", f"+{name}")
    with duckdb.connect(str(workspace.warehouse), read_only=True) as con:
        _, full = _rows(con, relation)

    at = columns.index(date_column)
    rebuilt = [row for row in incremental if row[at] == oldest]
    if _rebuilds_every_changed_day(model):
        # the oldest day's rows were missing from the table: the run must have rebuilt it
        assert rebuilt, f"{name}: the run did not rebuild its oldest day, whose rows were gone"
        expected = full
    else:
        assert not rebuilt, f"{name}: rebuilt history older than its lookback: {rebuilt[:3]}"
        expected = [row for row in full if row[at] != oldest]
    if incremental != expected:
        missing, extra = set(expected) - set(incremental), set(incremental) - set(expected)
        pytest.fail(
            f"{name}: {len(incremental)} rows after the incremental run, {len(expected)} in "
            f"the full refresh; missing {len(missing)}, e.g. {list(missing)[:3]}; not in the "
            f"full refresh {len(extra)}, e.g. {list(extra)[:3]} (columns {columns})"
        )
    scenario.check([dict(zip(columns, row, strict=True)) for row in incremental])
