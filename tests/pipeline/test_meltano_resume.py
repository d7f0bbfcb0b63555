"""A `meltano run` killed in the middle of a first sync continues, on the next run, from what landed.

The first run is started as a scheduler would start it, in a process group of its own, and the
whole group (Meltano, the tap, the loader) is sent SIGTERM or SIGKILL once Meltano has stored a
state that is a third of the way through the orders. Nothing here waits for a time: order pages
are slowed down (the sandbox's `slow` fault) only so that the kill lands while orders are still
being read, and the test polls Meltano's own system database for the stored state.

The rerun then asks for no order page before the stored cursor (at most one again), far fewer
pages than a fresh start, and every table ends exactly equal to the sandbox, each key once.

Both loaders run with the shipped settings except for the size of what is at risk, made small so
that a sandbox of a few thousand orders crosses it several times: target-duckdb loads and saves
state every 2,000 rows of one stream here (10,000 as shipped). The SDK-based target-postgres saves
state only when it drains every stream, which the SDK does every 5 minutes, a constant that no
setting reaches; here the loader is started through a wrapper that sets it to 2 seconds.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from orderspace_sandbox import Sandbox

from .support import (
    ROOT,
    RUN_TIMEOUT_SECONDS,
    SEED,
    DuckDBWarehouse,
    MeltanoProject,
    PostgresWarehouse,
    Warehouse,
    assert_tables_match_sandbox,
)

ORDERS = 2000
PAGE = 40
DUCKDB_BATCH_ROWS = 2000
SDK_DRAIN_SECONDS = 2
# Kill once the stored state is at least this far through the orders, so the rerun must save a lot.
KILL_AFTER_FRACTION = 1 / 3
# Every order page waits this long in the first run: the kill then lands while orders are read.
SLOW_PAGE_SECONDS = 0.2
PAGINATED = ("customers", "orders", "dispatches", "invoices", "products", "inventory_levels", "categories")
UNPAGED = ("customer_groups", "price_lists", "payment_terms", "tax_rates", "preorder_windows")

# target-postgres as its console script starts it, with the SDK's drain interval shortened.
POSTGRES_WRAPPER = """#!{python}
from singer_sdk.target_base import Target
from target_postgres.target import TargetPostgres

Target._MAX_RECORD_AGE_IN_MINUTES = {minutes}
TargetPostgres.cli()
"""


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """Large enough that orders span 50 pages and both loaders save state several times during them."""
    with Sandbox(seed=SEED, orders=ORDERS, rate_limit=None) as sb:
        yield sb


def group_alive(pgid: int) -> bool:
    """Whether any process of the group is still running (zombies do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def stored_state(project: MeltanoProject, state_id: str) -> dict:
    """The state Meltano has stored so far for `state_id` (partial over completed), read without Meltano."""
    database = project.directory / ".meltano" / "meltano.db"
    if not database.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
            row = connection.execute(
                "select partial_state, completed_state from state where state_id = ?", [state_id]
            ).fetchone()
    except sqlite3.OperationalError:  # the table does not exist yet, or Meltano is writing
        return {}
    for value in row or ():
        state = json.loads(value) if value else {}
        if state.get("singer_state"):
            return dict(state["singer_state"])
    return {}


def orders_done(sb: Sandbox, state: dict) -> int:
    """How many orders, in list order, the state's orders cursor says were delivered."""
    entry = state.get("bookmarks", {}).get("orders", {})
    cursor = (entry.get("in_progress") or {}).get("starting_after")
    if not cursor:
        return 0
    ids = [order["id"] for order in sb.records("orders")]
    return ids.index(cursor) + 1


def kill_mid_sync(project: MeltanoProject, sb: Sandbox, loader: str, sig: signal.Signals) -> dict:
    """Start `meltano run tap-orderspace <loader>`, kill its process group once enough is stored.

    Returns the state Meltano had stored when the kill was sent.
    """
    state_id = f"dev:tap-orderspace-to-{loader}"
    log = (project.directory / "meltano-killed.log").open("w", encoding="utf-8")
    process = subprocess.Popen(
        [str(project.executable), "run", "--no-install", "tap-orderspace", loader],
        cwd=project.directory,
        env=project.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    target = math.ceil(ORDERS * KILL_AFTER_FRACTION)
    try:
        while True:
            state = stored_state(project, state_id)
            if orders_done(sb, state) >= target:
                break
            assert process.poll() is None, (
                f"`meltano run` ended (exit {process.returncode}) before it stored a state {target} orders in; "
                f"stored: {state}; see {log.name}"
            )
            assert time.monotonic() < deadline, f"no state {target} orders in after {RUN_TIMEOUT_SECONDS} s"
            time.sleep(0.1)
        os.killpg(process.pid, sig)
        process.wait(timeout=60)
        while group_alive(process.pid):
            assert time.monotonic() < deadline, "the killed pipeline's processes did not exit"
            time.sleep(0.1)
    finally:
        if group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        if process.poll() is None:
            process.wait()
        log.close()
    assert orders_done(sb, state) < ORDERS, "the run was killed after the orders were complete"
    return state


def fresh_start_pages(sb: Sandbox) -> dict[str, int]:
    """The list pages a first sync of the whole sandbox asks for."""
    totals = sb.totals()
    pages = {resource: max(1, math.ceil(totals[resource] / PAGE)) for resource in PAGINATED}
    return {**pages, **dict.fromkeys(UNPAGED, 1)}


def requests_by_resource(sb: Sandbox) -> dict[str, int]:
    return {resource: int(count) for resource, count in sb.stats()["requests"].items()}


@pytest.fixture
def loader(
    request: pytest.FixtureRequest, meltano_project: MeltanoProject, tmp_path: Path
) -> tuple[str, Callable[[], Warehouse]]:
    """A loader set up for this test, and how to open what it loaded."""
    name = request.param
    if name == "target-duckdb":
        path = request.getfixturevalue("duckdb_target")
        meltano_project.env["TARGET_DUCKDB_BATCH_SIZE_ROWS"] = str(DUCKDB_BATCH_ROWS)
        return name, lambda: DuckDBWarehouse(path)
    url = request.getfixturevalue("postgres_target")
    # Meltano drops PYTHONPATH from a plugin's environment, so the wrapper is the plugin's executable.
    python = ROOT / ".meltano" / "loaders" / name / "venv" / "bin" / "python"
    wrapper = tmp_path / "target-postgres-draining"
    wrapper.write_text(POSTGRES_WRAPPER.format(python=python, minutes=SDK_DRAIN_SECONDS / 60), encoding="utf-8")
    wrapper.chmod(0o755)
    config = meltano_project.directory / "meltano.yml"
    text = config.read_text(encoding="utf-8")
    assert text.count("executable: target-postgres\n") == 1
    config.write_text(text.replace("executable: target-postgres\n", f"executable: {wrapper}\n"), encoding="utf-8")
    return name, lambda: PostgresWarehouse(url)


@pytest.mark.parametrize(
    ("loader", "sig"),
    [
        ("target-duckdb", signal.SIGTERM),
        ("target-duckdb", signal.SIGKILL),
        ("target-postgres", signal.SIGKILL),
    ],
    ids=["duckdb-sigterm", "duckdb-sigkill", "postgres-sigkill"],
    indirect=["loader"],
)
def test_killed_first_sync_resumes_from_what_landed(
    meltano_project: MeltanoProject,
    sandbox: Sandbox,
    loader: tuple[str, Callable[[], Warehouse]],
    sig: signal.Signals,
) -> None:
    name, open_warehouse = loader
    meltano_project.env["TAP_ORDERSPACE_PAGE_SIZE"] = str(PAGE)
    sandbox.add_fault("orders", 1, kind="slow", seconds=SLOW_PAGE_SECONDS, times=10**6)
    stored = kill_mid_sync(meltano_project, sandbox, name, sig)

    sandbox.clear_faults()
    sandbox.reset_stats()
    # A SIGKILLed run cannot mark its job ended: until its heartbeat is 5 minutes stale, Meltano
    # refuses to start the same pipeline again unless told to (docs/operations.md).
    force = ("--force",) if sig == signal.SIGKILL else ()
    meltano_project.run(*force, "tap-orderspace", name)
    rerun = requests_by_resource(sandbox)
    fresh = fresh_start_pages(sandbox)

    # Orders: from the stored cursor on, at most one page again; not one page before it.
    remaining = math.ceil((ORDERS - orders_done(sandbox, stored)) / PAGE)
    assert rerun["orders"] <= remaining + 1, (rerun, remaining, stored["bookmarks"]["orders"])
    order_pages = [entry["params"] for entry in sandbox.stats()["log"] if entry["resource"] == "orders"]
    assert order_pages[0].get("starting_after"), f"the rerun read orders from the start: {order_pages[0]}"
    # Customers were complete before the kill: the rerun reads only their lookback window.
    assert rerun.get("customers", 0) < fresh["customers"], (rerun, fresh)
    assert sum(rerun.values()) <= 0.8 * sum(fresh.values()), (rerun, fresh)

    warehouse = open_warehouse()
    try:
        assert_tables_match_sandbox(warehouse, sandbox)
        # Change capture reads these: present, and no row is marked deleted by a resumed first sync.
        deleted = warehouse.rows(f"select count(*) from {warehouse.table('orders')} where _sdc_deleted_at is not null")  # noqa: S608
        assert deleted == [(0,)]
        assert "timestamp" in warehouse.column_type("orders", "_sdc_extracted_at") or name == "target-duckdb"
    finally:
        warehouse.close()
