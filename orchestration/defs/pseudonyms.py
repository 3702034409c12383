"""The pseudonym key, installed as data in the working warehouse before dbt builds.

dbt reads it as the source sros_private.pseudonym_key (macro pseudonym: person ids and email
hashes are HMAC-SHA256 under the installation's secret key), so dagster-dbt makes every model
that computes a pseudonym depend on this asset, keyed like that source.
"""

import dagster as dg

from sros import paths
from sros.pseudonyms import install_key


@dg.asset(
    key=dg.AssetKey(["sros_private", "pseudonym_key"]),
    group_name="raw",
    kinds={"duckdb"},
    description=(
        "The HMAC pads of the pseudonym key (sros init; sros/config.py) in "
        "_sros_private.pseudonym_key of the working warehouse: as data, never in SQL text "
        "or logs; never published."
    ),
)
def pseudonym_key(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    key_fingerprint = install_key(paths.warehouse_path())
    context.log.info("pseudonym key %s installed", key_fingerprint)
    return dg.MaterializeResult(metadata={"key_fingerprint": key_fingerprint})
