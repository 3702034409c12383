"""Finance export files: after publication, the tables of the dbt exposure finance_exports as
CSV, Parquet and one workbook in $SROS_HOME/exports/<as-of date>/ (sros/exports.py)."""

import dagster as dg

from orchestration.defs.dbt import DBT_PROJECT
from orchestration.defs.publish import published_warehouse
from sros import paths
from sros.exports import EXPOSURE, export_finance_tables, export_tables


@dg.asset(
    deps=[published_warehouse],
    group_name="exports",
    kinds={"csv", "parquet", "excel"},
    description=(
        "The files finance opens, written from the published warehouse after a good build "
        "(SROS_EXPORTS_DIR, default $SROS_HOME/exports/<as-of date>/): one CSV and one Parquet "
        "file per table of the dbt exposure finance_exports and one workbook with a "
        "definitions sheet (each table's dbt description, the column meanings, the as-of "
        "date) and a typed, filterable sheet per table. The same data rewrites the same bytes."
    ),
)
def finance_exports(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    tables = export_tables(DBT_PROJECT.manifest_path, EXPOSURE)
    result = export_finance_tables(paths.published_path(), paths.exports_dir(), tables)
    context.log.info(
        "exported %s tables as of %s to %s", len(tables), result.as_of_date, result.folder
    )
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(result.folder)),
            "as_of_date": result.as_of_date.isoformat(),
            "rows": dg.MetadataValue.json(result.rows),
            "files": dg.MetadataValue.json(
                {path.name: path.stat().st_size for path in result.files}
            ),
            "seconds": round(result.seconds, 2),
        }
    )
