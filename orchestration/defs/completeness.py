"""No silently empty marts (sros/completeness.py) as one blocking asset check per mart: a
mart that is empty while its inputs have rows stops publication with the reason."""

from collections.abc import Iterator

import dagster as dg

from orchestration.defs.dbt import DBT_PROJECT, sros_dbt_assets
from sros import paths
from sros.completeness import MART_SCHEMA, find_silent_empties

_MART_KEYS = {
    key.path[-1]: key
    for key in sros_dbt_assets.keys
    if sros_dbt_assets.group_names_by_key.get(key) == MART_SCHEMA
}


@dg.multi_asset_check(
    name="marts_not_silently_empty",
    specs=[
        dg.AssetCheckSpec(
            "not_silently_empty",
            asset=key,
            blocking=True,
            description=(
                "The mart has rows whenever its inputs do (unless its config says "
                "meta.may_be_empty, with the reason)."
            ),
        )
        for key in _MART_KEYS.values()
    ],
    can_subset=True,
)
def marts_not_silently_empty(
    context: dg.AssetCheckExecutionContext,
) -> Iterator[dg.AssetCheckResult]:
    selected = {key.asset_key.path[-1] for key in context.selected_asset_check_keys}
    empties = {
        empty.mart: empty
        for empty in find_silent_empties(
            paths.warehouse_path(), DBT_PROJECT.manifest_path, sorted(selected)
        )
    }
    for mart in sorted(selected):
        empty = empties.get(mart)
        if empty:
            context.log.error(empty.message())
        yield dg.AssetCheckResult(
            asset_key=_MART_KEYS[mart],
            check_name="not_silently_empty",
            passed=empty is None,
            metadata={"reason": empty.message() if empty else "has rows, or its inputs are empty"},
        )
