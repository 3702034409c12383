"""Core suites: the shared dimensions hold no personal data and no negative sizes. (Their
values come from the seeds by the dbt tests of the models: relationships to
title_seniorities and segments.)"""

from expectations.suite import Definitions, E, MartSuite


def person_query(definitions: Definitions) -> str:
    # GX has no regex support for the duckdb dialect: the engine evaluates it in the batch.
    return (
        "select person_id, "
        f"{definitions.matches('email_hash', '[0-9a-f]{64}')} as is_email_hash "
        "from marts.dim_persons"
    )


def person_expectations(definitions: Definitions) -> list:
    return [
        E.ExpectColumnValuesToBeInSet(
            column="is_email_hash",
            value_set=[True],
            description=(
                "Persons carry an email pseudonym (HMAC-SHA256: 64 hex digits), never an email."
            ),
        ),
    ]


def account_expectations(definitions: Definitions) -> list:
    return [
        E.ExpectColumnValuesToBeBetween(
            column="employee_count", min_value=0, description="Employee counts are not negative."
        ),
    ]


SUITES = (
    MartSuite(
        name="core.dim_persons",
        mart="dim_persons",
        description="Persons hold hashed emails only.",
        query=person_query,
        key=("person_id",),
        expectations=person_expectations,
    ),
    MartSuite(
        name="core.dim_accounts",
        mart="dim_accounts",
        description="Accounts have non-negative sizes.",
        query="select account_id, employee_count from marts.dim_accounts",
        key=("account_id",),
        expectations=account_expectations,
    ),
)
