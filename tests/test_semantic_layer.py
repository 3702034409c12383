"""The semantic layer: `mf query` answers with the marts' own numbers.

What `mf` needs: the dbt project file and `<project dir>/target/semantic_manifest.json`
(MetricFlow reads that fixed path, whatever --target-path the build used), the profile from
DBT_PROFILES_DIR (else the working directory), and through it the warehouse
(SROS_WAREHOUSE_PATH). The semantic manifest names relations "warehouse"."marts"."...": the
DuckDB catalog is the warehouse file's stem, so a manifest parsed for any warehouse.duckdb
serves every warehouse of that name. Here the project dir is a temporary folder holding the
project file and the semantic manifest of the built company's own build, so the test writes
nothing into the repository's target/.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from sros.paths import PROJECT_DIR

METRICS = (
    "pipeline_created_amount",
    "sourced_share",
    "mql_count",
    "win_rate",
    "sla_met_rate",
    "cac_payback_months",
    "nrr",
)

# The same numbers from the marts, by month, with the definitions of the metrics' YAML.
MART_QUERIES = {
    "pipeline_created_amount": """
        select date_trunc('month', created_date), sum(amount_corporate)
        from marts.fct_opportunities group by 1 having sum(amount_corporate) is not null
    """,
    "sourced_share": """
        select date_trunc('month', created_date),
            sum(case when is_marketing_sourced then amount_corporate else 0 end)
            / sum(amount_corporate)
        from marts.fct_opportunities group by 1 having sum(amount_corporate) > 0
    """,
    "mql_count": """
        select date_trunc('month', handed_at), count(*) from marts.fct_lead_handoffs group by 1
    """,
    "win_rate": """
        select date_trunc('month', closed_date),
            sum(case when is_won then 1 else 0 end) / sum(case when is_closed then 1 else 0 end)
        from marts.fct_opportunities where is_closed group by 1
    """,
    "sla_met_rate": """
        select date_trunc('month', handed_at),
            sum(case when is_response_sla_met then 1 else 0 end) / count(*)
        from marts.fct_lead_handoffs group by 1
    """,
    "cac_payback_months": """
        select month_start, sum(prior_month_expense) / sum(new_gross_margin_mrr)
        from marts.kpi_cac_payback_monthly where breakdown = 'company'
        group by 1 having sum(new_gross_margin_mrr) > 0
    """,
    "nrr": """
        select month_start, sum(cohort_ending_mrr) / sum(cohort_starting_mrr)
        from marts.kpi_revenue_retention where breakdown = 'company'
        group by 1 having sum(cohort_starting_mrr) > 0
    """,
}


@pytest.mark.slow
def test_mf_query_equals_the_marts(built_company, tmp_path: Path) -> None:
    company = built_company(2000, 42)
    # mf opens the warehouse through dbt's profile, which takes DuckDB's write lock: a copy,
    # so the shared warehouse stays free for the other workers' read-only connections (the
    # Spark parity test's comparison failed on that lock once, in CI on 2026-12-05)
    warehouse = company.copy_to(tmp_path)
    project = tmp_path / "project"
    (project / "target").mkdir(parents=True)
    (project / "dbt_project.yml").symlink_to(PROJECT_DIR / "dbt_project.yml")
    shutil.copy(
        company.warehouse.parent / "target" / "semantic_manifest.json",
        project / "target" / "semantic_manifest.json",
    )
    output = tmp_path / "metrics.csv"
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "mf"),
            "query",
            "--metrics",
            ",".join(METRICS),
            "--group-by",
            "metric_time__month",
            "--order",
            "metric_time__month",
            "--csv",
            str(output),
        ],
        cwd=project,
        env={
            **os.environ,
            "SROS_HOME": str(tmp_path),
            "SROS_WAREHOUSE_PATH": str(warehouse),
            "DBT_PROFILES_DIR": str(PROJECT_DIR),
            "DBT_PROJECT_DIR": str(project),
        },
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0 and output.exists(), (
        completed.stdout[-3000:] + completed.stderr[-3000:]
    )
    with output.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and list(rows[0]) == ["metric_time__month", *METRICS]

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for metric, query in MART_QUERIES.items():
            expected = {
                month.date() if isinstance(month, datetime) else month: float(value)
                for month, value in connection.execute(query).fetchall()
            }
            answered = {
                datetime.fromisoformat(row["metric_time__month"]).date(): float(row[metric])
                for row in rows
                if row[metric] != ""
            }
            assert len(expected) >= 4, metric  # months of data, not an empty comparison
            assert answered.keys() == expected.keys(), metric
            for month, value in expected.items():
                assert answered[month] == pytest.approx(value, abs=0.005), (metric, month)
    # and the governed NRR of the last month is the generator's own
    last = company.truth["unit_economics"]["ending_month"]
    answered_nrr = {row["metric_time__month"][:10]: row["nrr"] for row in rows}
    assert float(answered_nrr[last]) == pytest.approx(
        company.truth["unit_economics"]["nrr"]["company"], abs=1e-6
    )
