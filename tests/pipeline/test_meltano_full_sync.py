"""A first `meltano run` from the sandbox into DuckDB and into PostgreSQL loads every row exactly once."""

from __future__ import annotations

import json
from pathlib import Path

from orderspace_sandbox import Sandbox

from .support import (
    DuckDBWarehouse,
    MeltanoProject,
    PostgresWarehouse,
    assert_tables_match_sandbox,
    assert_values_round_trip,
)


def test_meltano_run_into_duckdb(meltano_project: MeltanoProject, duckdb_target: Path, sandbox: Sandbox) -> None:
    meltano_project.run("tap-orderspace", "target-duckdb")

    warehouse = DuckDBWarehouse(duckdb_target)
    try:
        assert_tables_match_sandbox(warehouse, sandbox)
        assert_values_round_trip(warehouse, sandbox)
    finally:
        warehouse.close()


def test_meltano_run_into_postgres(meltano_project: MeltanoProject, postgres_target: str, sandbox: Sandbox) -> None:
    meltano_project.run("tap-orderspace", "target-postgres")

    warehouse = PostgresWarehouse(postgres_target)
    try:
        assert_tables_match_sandbox(warehouse, sandbox)
        assert_values_round_trip(warehouse, sandbox)
    finally:
        warehouse.close()


def test_the_daily_schedule_runs_the_duckdb_job(meltano_project: MeltanoProject) -> None:
    listed = json.loads(meltano_project.meltano("schedule", "list", "--format=json").stdout)
    (schedule,) = listed["schedules"]["job"]
    assert schedule["name"] == "orderspace-to-duckdb-daily"
    assert schedule["interval"] == "@daily"
    assert schedule["job"] == {"name": "orderspace-to-duckdb", "tasks": ["tap-orderspace target-duckdb"]}
