"""A first `meltano run` from the sandbox into DuckDB, PostgreSQL and JSONL files loads every row exactly once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from orderspace_sandbox import Sandbox

from .support import (
    PRIMARY_KEYS,
    SYNCED_KEYS,
    DuckDBWarehouse,
    MeltanoProject,
    PostgresWarehouse,
    assert_tables_match_sandbox,
    assert_values_round_trip,
    require_plugin,
    sandbox_keys,
)


@pytest.mark.parametrize(
    ("loader", "target_fixture", "warehouse_type"),
    [
        ("target-duckdb", "duckdb_target", DuckDBWarehouse),
        ("target-postgres", "postgres_target", PostgresWarehouse),
    ],
    ids=["duckdb", "postgres"],
)
def test_meltano_run_into_a_database(
    meltano_project: MeltanoProject,
    sandbox: Sandbox,
    request: pytest.FixtureRequest,
    loader: str,
    target_fixture: str,
    warehouse_type: type[DuckDBWarehouse] | type[PostgresWarehouse],
) -> None:
    target = request.getfixturevalue(target_fixture)
    meltano_project.run("tap-orderspace", loader)

    warehouse = warehouse_type(target)
    try:
        assert_tables_match_sandbox(warehouse, sandbox)
        assert_values_round_trip(warehouse, sandbox)
    finally:
        warehouse.close()


def test_meltano_run_into_jsonl_files(meltano_project: MeltanoProject, sandbox: Sandbox, tmp_path: Path) -> None:
    """target-jsonl keeps every record as the tap sent it: one line per row, none twice."""
    require_plugin("loaders", "target-jsonl")
    destination = tmp_path / "jsonl"
    meltano_project.env["TARGET_JSONL_DESTINATION_PATH"] = str(destination)
    meltano_project.run("tap-orderspace", "target-jsonl")

    # The loader names each file <stream>-<run timestamp>.jsonl; one run, one file per stream.
    files = {path.name.rsplit("-", 1)[0]: path for path in destination.glob("*.jsonl")}
    # The tap's own tables get a file once they have a row: reconciliations do (a first sync reads
    # everything in full) and so does the run log, deleted_records not before a deletion is seen.
    assert set(SYNCED_KEYS) | {"reconciliations", "sync_runs"} == set(files)
    for stream in SYNCED_KEYS:
        path = files[stream]
        with path.open(encoding="utf-8") as lines:
            records = [json.loads(line) for line in lines]
        keys = [tuple(record[key] for key in PRIMARY_KEYS[stream]) for record in records]
        assert len(keys) == len(set(keys)) == sandbox.totals()[stream], stream
        assert set(keys) == sandbox_keys(sandbox, stream), stream


def test_the_daily_schedule_runs_the_duckdb_job(meltano_project: MeltanoProject) -> None:
    listed = json.loads(meltano_project.meltano("schedule", "list", "--format=json").stdout)
    (schedule,) = listed["schedules"]["job"]
    assert schedule["name"] == "orderspace-to-duckdb-daily"
    assert schedule["interval"] == "@daily"
    assert schedule["job"] == {
        "name": "orderspace-to-duckdb",
        "tasks": ["tap-orderspace target-duckdb dbt-duckdb:build"],
    }
