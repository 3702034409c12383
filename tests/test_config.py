"""The installation's configuration file ($SROS_HOME/sros.yml, sros/config.py): what it
turns into dbt vars, and the one-line error each mistake in it gives."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sros.config import CONFIG_TEMPLATE, ConfigError, load_config, project_dbt_vars


def _config(tmp_path: Path, text: str):
    path = tmp_path / "sros.yml"
    path.write_text(text)
    return load_config(path)


def test_the_template_sets_nothing_and_every_setting_in_it_is_valid(tmp_path: Path) -> None:
    assert _config(tmp_path, CONFIG_TEMPLATE).dbt_vars == {}
    # Uncommenting every example line (`# name: value`, indented or not) gives a valid file.
    uncommented = "\n".join(
        line[2:] if re.match(r"# +[a-z_]+:( |$)", line) else line
        for line in CONFIG_TEMPLATE.splitlines()
    )
    config = _config(tmp_path, uncommented)
    assert config.dbt_vars["corporate_currency"] == "USD"
    assert config.dbt_vars["hubspot_enabled"] is False
    assert config.dbt_vars["salesforce_schema"] == "salesforce"
    assert config.source("salesforce").encoding == "cp1252"


def test_settings_become_dbt_vars(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        """
systems: {hubspot: false, intent: false}
corporate_currency: EUR
as_of_date: 2017-12-31
calendar_start_date: "2016-01-01"
sources:
  salesforce: {encoding: cp1252, database: fivetran, schema: salesforce}
vars:
  unmapped_value_severity: warn
""",
    )
    assert config.dbt_vars == {
        "hubspot_enabled": False,
        "intent_enabled": False,
        "corporate_currency": "EUR",
        "as_of_date": "2017-12-31",
        "calendar_start_date": "2016-01-01",
        "salesforce_database": "fivetran",
        "salesforce_schema": "salesforce",
        "unmapped_value_severity": "warn",
    }
    assert config.dbt_args()[0] == "--vars"
    assert _config(tmp_path, "").dbt_args() == []


def test_every_var_the_template_names_is_a_var_of_the_dbt_project() -> None:
    assert {"unmapped_value_severity", "pipeline_snapshot_lookback_days"} <= project_dbt_vars()
    assert {"as_of_date", "calendar_start_date", "hubspot_schema"} <= project_dbt_vars()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("system: {}", "unknown setting(s) ['system']"),
        ("systems: {hubspt: false}", "no source system 'hubspt'"),
        ("systems: {hubspot: no_way}", "systems.hubspot is 'no_way'; write true or false"),
        ("corporate_currency: euro", "not an ISO 4217 code"),
        ("as_of_date: soon", "as_of_date 'soon' is not a date"),
        ("as_of_date: 2017-13-01", "a date must be valid"),
        ("sources: {salesforce: {schemas: x}}", "sources.salesforce: unknown setting(s)"),
        ("sources: {salesforce: {encoding: klingon}}", "is not an encoding Python knows"),
        ("vars: {foo: 1}", "vars.foo is not a var of the dbt project"),
        ("corporate_currency: EUR\nvars: {corporate_currency: EUR}", "keep one"),
        ("systems: [hubspot]", "systems must be a mapping"),
        ("- a list", "expected a mapping of settings"),
        # a dbt var's value: its default's type, and the rule of VAR_RULES
        ('vars: {quarantine_max_share: "2%"}', "vars.quarantine_max_share is '2%'; write a share"),
        ("vars: {quarantine_max_share: -1}", "vars.quarantine_max_share is -1; write a share"),
        ("vars: {unmapped_value_severity: warning}", "write warn or error (default 'error')"),
        ("vars: {pipeline_snapshot_lookback_days: -7}", "write a number of days, 0 or more"),
        ("vars: {pipeline_snapshot_lookback_days: 2.5}", "write a number of days"),
        ("vars: {pipeline_waterfall_period_types: [weeks]}", "write a list of week, month"),
        ("vars: {pipeline_waterfall_period_types: month}", "write a list of week, month"),
        ("vars: {marketing_enabled: 'no'}", "vars.marketing_enabled is 'no'; write true or false"),
        ('vars: {calendar_floor_date: "1990-13-01"}', "vars.calendar_floor_date '1990-13-01'"),
        ("vars: {salesforce_schema: 5}", "vars.salesforce_schema is 5; write text"),
        (
            "calendar_start_date: 2030-01-01\nvars: {calendar_end_date: 2020-01-01}",
            "calendar_start_date 2030-01-01 is not before calendar_end_date 2020-01-01",
        ),
    ],
)
def test_each_mistake_is_one_line_naming_the_file_and_setting(
    tmp_path: Path, text: str, says: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        _config(tmp_path, text)
    message = str(raised.value)
    assert says in message and str(tmp_path / "sros.yml") in message
    assert "\n" not in message


def _sros(home: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "sros"), *arguments],
        env={**os.environ, "SROS_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_plain_dbt_gets_the_settings_through_sros_dbt_and_dbt_vars(tmp_path: Path) -> None:
    (tmp_path / "sros.yml").write_text("systems: {intent: false}\ncorporate_currency: EUR\n")
    printed = _sros(tmp_path, "dbt-vars")
    assert json.loads(printed.stdout) == {"intent_enabled": False, "corporate_currency": "EUR"}
    listed = _sros(
        tmp_path, "dbt", "ls", "--quiet", "--select", "path:models/staging/intent",
        "path:models/staging/ads", "--target-path", str(tmp_path / "target"),
    )  # fmt: skip
    assert listed.returncode == 0, listed.stdout + listed.stderr
    models = [line for line in listed.stdout.splitlines() if line.startswith("sros.staging.")]
    assert models and all(".ads." in line for line in models)  # intent is switched off


def test_a_broken_setting_stops_sros_dbt_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "sros.yml").write_text("corporate_currency: euro\n")
    completed = _sros(tmp_path, "dbt", "build")
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0 and "ISO 4217" in completed.stderr


def test_dbt_vars_of_the_right_kind_pass_as_written(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        "vars: {quarantine_max_share: 0, unmapped_value_severity: warn, "
        "pipeline_snapshot_lookback_days: 0, pipeline_waterfall_period_types: [quarter], "
        "calendar_end_date: 2040-01-01, salesforce_schema: crm}",
    )
    assert config.dbt_vars == {
        "quarantine_max_share": 0,
        "unmapped_value_severity": "warn",
        "pipeline_snapshot_lookback_days": 0,
        "pipeline_waterfall_period_types": ["quarter"],
        "calendar_end_date": "2040-01-01",
        "salesforce_schema": "crm",
    }
