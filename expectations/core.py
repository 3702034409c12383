"""Core suites: the shared dimensions hold defined values and no personal data."""

from expectations.suite import Definitions, E, MartSuite


def person_query(definitions: Definitions) -> str:
    # GX has no regex support for the duckdb dialect: the engine evaluates it in the batch.
    return (
        "select person_id, title_seniority, "
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
        E.ExpectColumnValuesToBeInSet(
            column="title_seniority",
            value_set=definitions.values("title_seniorities", "seniority"),
            description="Seniorities come from the title_seniorities seed.",
        ),
    ]


def account_expectations(definitions: Definitions) -> list:
    return [
        E.ExpectColumnValuesToBeInSet(
            column="segment",
            value_set=definitions.values("segments", "segment"),
            description="Every account is in a segment of the segments seed.",
        ),
        E.ExpectColumnValuesToBeBetween(
            column="employee_count", min_value=0, description="Employee counts are not negative."
        ),
    ]


SUITES = (
    MartSuite(
        name="core.dim_persons",
        mart="dim_persons",
        description="Persons hold hashed emails only, and defined seniorities.",
        query=person_query,
        key=("person_id",),
        expectations=person_expectations,
    ),
    MartSuite(
        name="core.dim_accounts",
        mart="dim_accounts",
        description="Accounts are in defined segments with non-negative sizes.",
        query="select account_id, segment, employee_count from marts.dim_accounts",
        key=("account_id",),
        expectations=account_expectations,
    ),
)
