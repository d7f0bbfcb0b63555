"""Deletions anywhere in history and late changes to old records, through `meltano run`, in the tables.

After a first sync the sandbox deletes orders, customers, invoices and products spread over the whole
history (the oldest included), and changes orders and invoices more than a year old: releases and
cancels orders, pays invoices, dispatches the rest of old open orders; it edits customers (no time
field moves). One open order and one unpaid invoice are also deleted through `DELETE /v1/...`, as
a user would, so that change capture meets them (a 404 on retrieve).

- With `reconcile_interval_days: 0` the next run reads those streams in full: every deleted record
  (and its child rows) is marked deleted by the database's rule (docs/operations.md), no live
  record is, and the live rows are exactly the sandbox's; the changed old records show their new values.
- With the default interval (7 days) the next run is incremental: the deletions that change capture
  sees (a 404 on retrieving a record that was open) are marked at once, the others stay live until
  the next full read, and late changes to old orders and invoices land all the same; a run with
  `reconcile_interval_days: 0` then marks the rest.

For DuckDB, the dbt staging models are built too: they keep exactly the sandbox's records.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from orderspace_sandbox import Sandbox

from .support import (
    DuckDBWarehouse,
    MeltanoProject,
    PostgresWarehouse,
    Warehouse,
    assert_deletions,
    assert_late_changes_landed,
    assert_tables_match_sandbox,
    change_the_site,
    sandbox_keys,
    seen_by_change_capture,
)

STAGING_SCHEMA = "analytics_staging"


@pytest.fixture(params=["target-duckdb", "target-postgres"], ids=["duckdb", "postgres"])
def loader(request: pytest.FixtureRequest, meltano_project: MeltanoProject) -> tuple[str, Callable[[], Warehouse]]:
    """A loader set up for this test, and how to open what it loaded."""
    if request.param == "target-duckdb":
        path = request.getfixturevalue("duckdb_target")
        return request.param, lambda: DuckDBWarehouse(path)
    url = request.getfixturevalue("postgres_target")
    return request.param, lambda: PostgresWarehouse(url)


def test_reconciling_every_run_marks_every_deletion_and_lands_late_changes(
    meltano_project: MeltanoProject,
    loader: tuple[str, Callable[[], Warehouse]],
    sandbox: Sandbox,
    request: pytest.FixtureRequest,
) -> None:
    name, open_warehouse = loader
    dbt_project = request.getfixturevalue("dbt_project") if name == "target-duckdb" else None
    meltano_project.run("tap-orderspace", name)
    deleted, _ = change_the_site(sandbox)

    meltano_project.env["TAP_ORDERSPACE_RECONCILE_INTERVAL_DAYS"] = "0"
    meltano_project.run("tap-orderspace", name)

    warehouse = open_warehouse()
    try:
        assert_tables_match_sandbox(warehouse, sandbox)
        assert_deletions(warehouse, sandbox, deleted)
        assert_late_changes_landed(warehouse, sandbox, customers=True)
    finally:
        warehouse.close()

    if dbt_project is not None:
        assert_staging_models_keep_live_records(meltano_project, dbt_project, sandbox)


def assert_staging_models_keep_live_records(project: MeltanoProject, dbt_project: Path, sb: Sandbox) -> None:
    models = [f"stg_orderspace__{stream}" for stream in ("orders", "order_lines", "invoices", "customers", "products")]
    project.meltano("invoke", "dbt-duckdb", "run", "--select", *models)
    path = Path(project.env["TARGET_DUCKDB_FILEPATH"])
    warehouse = DuckDBWarehouse(path)
    try:
        for stream in ("orders", "order_lines", "invoices", "customers", "products"):
            table = f'"{warehouse.catalog}"."{STAGING_SCHEMA}"."stg_orderspace__{stream}"'
            # Staging keeps deleted rows, flagged (docs/models.md): the live ones are the sandbox's.
            query = f"select {stream.rstrip('s')}_id from {table} where not is_deleted"  # noqa: S608
            ids = {row[0] for row in warehouse.rows(query)}
            assert ids == {k[0] for k in sandbox_keys(sb, stream)}, stream
    finally:
        warehouse.close()


def test_with_the_default_interval_deletions_seen_by_change_capture_are_marked_at_once(
    meltano_project: MeltanoProject, loader: tuple[str, Callable[[], Warehouse]], sandbox: Sandbox
) -> None:
    name, open_warehouse = loader
    meltano_project.run("tap-orderspace", name)
    deleted, open_before = change_the_site(sandbox)

    # Within the interval: incremental reads and change capture only.
    meltano_project.run("tap-orderspace", name)
    # A record open at the last run is listed again or retrieved: a 404 marks it. Closed orders and
    # paid invoices, customers, products (and their stock) wait for the next full read.
    warehouse = open_warehouse()
    try:
        seen, waiting = seen_by_change_capture(warehouse, deleted, open_before)
        assert seen["orders"] and seen["invoices"] and waiting["orders"] and waiting["customers"], (seen, waiting)
        assert_deletions(warehouse, sandbox, seen, waiting)
        assert_late_changes_landed(warehouse, sandbox, customers=False)
    finally:
        warehouse.close()

    # The next full read marks the rest.
    meltano_project.env["TAP_ORDERSPACE_RECONCILE_INTERVAL_DAYS"] = "0"
    meltano_project.run("tap-orderspace", name)
    warehouse = open_warehouse()
    try:
        assert_tables_match_sandbox(warehouse, sandbox)
        assert_deletions(warehouse, sandbox, deleted)
        assert_late_changes_landed(warehouse, sandbox, customers=True)
    finally:
        warehouse.close()
