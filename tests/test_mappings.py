"""`sros mappings`: the CRM values not in the mapping seeds, with counts, as rows to fill in.

On a copy of a built demo warehouse, three new picklist values appear in the raw data (a
touch type, an opportunity type, an opportunity stage). The mapping checks name each with
its seed, where it was seen and how many rows carry it; the fill-in files have the seed's
header with the key filled and the definition columns blank; with the values mapped, the
next run finds nothing and removes the stale files. Filled rows move into the
installation's own copy of the mapping seeds, which dbt then reads.
"""

import csv
from collections.abc import Callable

import duckdb
import pytest

from sros.cli import main
from sros.mappings import (
    MappingsError,
    Unmapped,
    apply_filled_rows,
    find_unmapped,
    installation_copy,
    write_fill_in_files,
)
from sros.paths import MAPPING_SEEDS, REPO_MAPPINGS_DIR


@pytest.fixture(scope="module")
def warehouse_with_new_values(built_company: Callable, tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("mappings")
    warehouse = built_company(leads=2000, seed=42).copy_to(home)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "insert into raw_marketing.touchpoint by name select * replace "
            "('webinar_replay' as touch_type, touchpoint_id || '-replay' as touchpoint_id) "
            "from raw_marketing.touchpoint order by touchpoint_id limit 3"
        )
        connection.execute(
            "update raw_salesforce.opportunity set type = 'Upsell', stage_name = 'Legal Review' "
            "where id = (select min(id) from raw_salesforce.opportunity where not is_closed)"
        )
    return home, warehouse


def test_sros_mappings_lists_them_and_exits_non_zero(
    warehouse_with_new_values, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    home, warehouse = warehouse_with_new_values
    monkeypatch.setenv("SROS_HOME", str(home))
    monkeypatch.setenv("SROS_WAREHOUSE_PATH", str(warehouse))
    assert main(["mappings"]) == 1
    out = capsys.readouterr().out
    assert "touch_type=webinar_replay" in out and "stg_marketing__touchpoints" in out
    assert f"{home / 'mappings_to_fill' / 'touch_types.csv'}: fill in the blank columns" in out
    # the installation's copy of every mapping seed, equal to the repository's
    for seed in MAPPING_SEEDS:
        copy = home / "mappings" / f"{seed}.csv"
        assert copy.read_text() == (REPO_MAPPINGS_DIR / f"{seed}.csv").read_text()


def test_new_values_are_named_with_their_seed_and_counts(warehouse_with_new_values) -> None:
    home, warehouse = warehouse_with_new_values
    unmapped = find_unmapped(warehouse, home / "target")
    found = {(item.seed, tuple(sorted(item.key.items())), item.seen_in): item for item in unmapped}
    seen_in = "stg_marketing__touchpoints.touch_type"
    touch = found[("touch_types", (("touch_type", "webinar_replay"),), seen_in)]
    assert touch.rows_seen == 3
    assert "mappings/touch_types.csv (`sros mappings` writes the row" in touch.problem
    opportunity_type = found[
        (
            "opportunity_types",
            (("crm_value", "Upsell"), ("source_system", "salesforce")),
            "int_opportunities_unioned.crm_opportunity_type",
        )
    ]
    assert opportunity_type.rows_seen == 1
    stage = [
        item
        for item in unmapped
        if item.seed == "crm_stage_mappings" and item.key["crm_value"] == "Legal Review"
    ]
    assert stage and stage[0].key == {
        "source_system": "salesforce",
        "crm_object": "opportunity",
        "crm_field": "stage_name",
        "crm_value": "Legal Review",
    }
    assert {item.seed for item in unmapped} == {
        "touch_types",
        "opportunity_types",
        "crm_stage_mappings",
    }

    to_fill = home / "to_fill"
    files = {path.name: path for path in write_fill_in_files(unmapped, to_fill, REPO_MAPPINGS_DIR)}
    with files["touch_types.csv"].open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [
        {
            "touch_type": "webinar_replay",
            "intent_level": "",
            "routes_to": "",
            "score_points": "",
            "is_attribution_touch": "",
            "description": "",
        }
    ]
    with files["crm_stage_mappings.csv"].open(newline="") as handle:
        assert list(csv.DictReader(handle)) == [
            {
                "source_system": "salesforce",
                "crm_object": "opportunity",
                "crm_field": "stage_name",
                "crm_value": "Legal Review",
                "stage_key": "",
            }
        ]

    # once mapped (here: the values corrected in the CRM), nothing is left and the stale
    # fill-in files are removed
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "delete from raw_marketing.touchpoint where touch_type = 'webinar_replay'"
        )
        connection.execute(
            "update raw_salesforce.opportunity set type = 'New Business', "
            "stage_name = 'Discovery' where type = 'Upsell'"
        )
    assert find_unmapped(warehouse, home / "target") == []
    assert write_fill_in_files([], to_fill, REPO_MAPPINGS_DIR) == []
    assert not list(to_fill.glob("*.csv"))


def test_filled_rows_move_into_the_installation_copy_and_typed_values_are_kept(
    tmp_path,
) -> None:
    seeds, to_fill = tmp_path / "mappings", tmp_path / "mappings_to_fill"
    assert len(installation_copy(seeds)) == len(MAPPING_SEEDS)
    assert installation_copy(seeds) == []  # never overwritten
    original = (seeds / "opportunity_types.csv").read_text()
    to_fill.mkdir()
    (to_fill / "opportunity_types.csv").write_text(
        "source_system,crm_value,opportunity_type\n"
        "salesforce,Upsell,expansion\n"
        "salesforce,Legal Hold,\n"
    )
    assert apply_filled_rows(to_fill, seeds) == {"opportunity_types": 1}
    assert (seeds / "opportunity_types.csv").read_text() == (
        original + "salesforce,Upsell,expansion\n"
    )
    assert (to_fill / "opportunity_types.csv").read_text() == (
        "source_system,crm_value,opportunity_type\nsalesforce,Legal Hold,\n"
    )
    # a later run rewrites the file from what is still unmapped, keeping what was typed
    (to_fill / "opportunity_types.csv").write_text(
        "source_system,crm_value,opportunity_type\nsalesforce,Legal Hold,renew\n"
    )
    still = Unmapped(
        "opportunity_types",
        {"source_system": "salesforce", "crm_value": "Legal Hold"},
        "int_opportunities_unioned.crm_opportunity_type",
        2,
        "unmapped",
    )
    write_fill_in_files([still], to_fill, seeds)
    assert "salesforce,Legal Hold,renew" in (to_fill / "opportunity_types.csv").read_text()
    # a fill-in file whose header was changed is refused, naming both files
    (to_fill / "opportunity_types.csv").write_text("crm_value,opportunity_type\nX,renewal\n")
    with pytest.raises(MappingsError, match="keep the header"):
        apply_filled_rows(to_fill, seeds)


def test_a_filled_value_its_seed_would_refuse_moves_nothing(tmp_path) -> None:
    """A stage that does not exist or a type outside the accepted ones used to go into the
    seeds, and fail the next build by a test's name only, after the whole build."""
    seeds, to_fill = tmp_path / "mappings", tmp_path / "mappings_to_fill"
    installation_copy(seeds)
    before = {path.name: path.read_text() for path in seeds.glob("*.csv")}
    to_fill.mkdir()
    (to_fill / "opportunity_types.csv").write_text(
        "source_system,crm_value,opportunity_type\nsalesforce,Upsell,upsell\n"
    )
    (to_fill / "crm_stage_mappings.csv").write_text(
        "source_system,crm_object,crm_field,crm_value,stage_key\n"
        "salesforce,opportunity,stage_name,Verbal Commit,commit\n"
        "salesforce,opportunity,stage_name,Proposal Sent,proposal\n"
    )
    with pytest.raises(MappingsError) as raised:
        apply_filled_rows(to_fill, seeds)
    assert str(raised.value).splitlines() == [
        f"{to_fill / 'crm_stage_mappings.csv'} line 2: stage_key 'commit'; write a stage_key of "
        "seeds/funnel_stages.csv: ['closed_lost', 'closed_won', 'discovery', 'disqualified', "
        "'lead', 'mql', 'negotiation', 'proposal', 'recycled', 'sal', 'solution', 'sql']",
        f"{to_fill / 'opportunity_types.csv'} line 2: opportunity_type 'upsell'; write one of "
        "['expansion', 'new_business', 'renewal']",
        "nothing was moved: correct these, then run `sros mappings` again",
    ]
    assert {path.name: path.read_text() for path in seeds.glob("*.csv")} == before
    (to_fill / "opportunity_types.csv").write_text(
        "source_system,crm_value,opportunity_type\nsalesforce,Upsell,expansion\n"
    )
    (to_fill / "crm_stage_mappings.csv").write_text(
        "source_system,crm_object,crm_field,crm_value,stage_key\n"
        "salesforce,opportunity,stage_name,Verbal Commit,negotiation\n"
    )
    assert apply_filled_rows(to_fill, seeds) == {"crm_stage_mappings": 1, "opportunity_types": 1}
