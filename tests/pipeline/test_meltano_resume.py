"""A `meltano run` killed in the middle of a first sync continues, on the next run, from what landed.

The first run is started as a scheduler would start it, in a process group of its own, and the
whole group (Meltano, the tap, the loader) is sent SIGTERM or SIGKILL once Meltano has stored a
state that is a third of the way through the orders. Nothing here waits for a time: order pages
are slowed down (the sandbox's `slow` fault) only so that the kill lands while orders are still
being read, and the test polls Meltano's own system database for the stored state.

The rerun then asks for no order page before the stored cursor (at most one again), far fewer
pages than a fresh start, and every table ends exactly equal to the sandbox, each key once.

Both loaders run with the shipped settings except for the size of what is at risk, made small so
that a sandbox of a few hundred orders crosses it several times: target-duckdb loads and saves
state every 500 rows of one stream here (10,000 as shipped). The SDK-based target-postgres saves
state only when it drains every stream, which the SDK does every 5 minutes, a constant that no
setting reaches; here the loader is started through a wrapper that sets it to 2 seconds.
"""

from __future__ import annotations

import math
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from orderspace_sandbox import Sandbox

from .support import (
    SEED,
    MeltanoProject,
    Warehouse,
    assert_deletions,
    assert_late_changes_landed,
    assert_tables_match_sandbox,
    change_the_site,
    kill_when,
    loader_saving_state_often,
    seen_by_change_capture,
)

ORDERS = 600
PAGE = 20
DUCKDB_BATCH_ROWS = 500
SDK_DRAIN_SECONDS = 2
# Kill once the stored state is at least this far through the orders, so the rerun must save a lot.
KILL_AFTER_FRACTION = 1 / 3
# Every order page waits this long in the first run: the kill then lands while orders are read.
SLOW_PAGE_SECONDS = 0.2
PAGINATED = ("customers", "orders", "dispatches", "invoices", "products", "inventory_levels", "categories")
UNPAGED = ("customer_groups", "price_lists", "payment_terms", "tax_rates", "preorder_windows")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """Large enough that orders span 30 pages and both loaders save state several times during them."""
    with Sandbox(seed=SEED, orders=ORDERS, rate_limit=None) as sb:
        yield sb


def orders_done(sb: Sandbox, state: dict[str, Any]) -> int:
    """How many orders, in list order, the state's orders cursor says were delivered."""
    entry = state.get("bookmarks", {}).get("orders", {})
    cursor = (entry.get("in_progress") or {}).get("starting_after")
    if not cursor:
        return 0
    ids = [order["id"] for order in sb.records("orders")]
    return ids.index(cursor) + 1


def kill_mid_sync(project: MeltanoProject, sb: Sandbox, loader: str, sig: signal.Signals) -> dict[str, Any]:
    """Kill a first sync once Meltano has stored a state a third of the way through the orders."""
    target = math.ceil(ORDERS * KILL_AFTER_FRACTION)
    state = kill_when(project, loader, sig, lambda s: orders_done(sb, s) >= target, f"a state {target} orders in")
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
    opener, _ = loader_saving_state_often(
        request,
        meltano_project,
        tmp_path,
        request.param,
        duckdb_batch_rows=DUCKDB_BATCH_ROWS,
        drain_seconds=SDK_DRAIN_SECONDS,
    )
    return request.param, opener


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


# Killed while applying deletions and late changes -----------------------------------------------


def change_capture_requests(sb: Sandbox) -> int:
    """Order requests of change capture so far: open-set lists (`status=`) and retrieves by id."""
    return sum(
        1
        for entry in sb.stats()["log"]
        if entry["resource"] == "orders" and ("status" in (entry.get("params") or {}) or entry.get("id"))
    )


@pytest.mark.parametrize(
    ("loader", "sig", "phase"),
    [
        ("target-duckdb", signal.SIGKILL, "reconciliation"),
        ("target-postgres", signal.SIGTERM, "reconciliation"),
        ("target-duckdb", signal.SIGTERM, "change-capture"),
        ("target-postgres", signal.SIGKILL, "change-capture"),
    ],
    ids=[
        "duckdb-sigkill-reconciliation",
        "postgres-sigterm-reconciliation",
        "duckdb-sigterm-cc",
        "postgres-sigkill-cc",
    ],
    indirect=["loader"],
)
def test_run_killed_while_applying_changes_loses_nothing_and_marks_no_live_record(
    meltano_project: MeltanoProject,
    sandbox: Sandbox,
    loader: tuple[str, Callable[[], Warehouse]],
    sig: signal.Signals,
    phase: str,
) -> None:
    """Killed mid full read of the orders (reconcile_interval_days 0), or mid change capture of the
    orders (the default interval): the rerun ends with every live record, the deletions marked, and
    no live record marked deleted."""
    name, open_warehouse = loader
    meltano_project.run("tap-orderspace", name)
    deleted, open_before = change_the_site(sandbox)
    sandbox.reset_stats()

    if phase == "reconciliation":
        meltano_project.env["TAP_ORDERSPACE_RECONCILE_INTERVAL_DAYS"] = "0"
        sandbox.add_fault("orders", 1, kind="slow", seconds=SLOW_PAGE_SECONDS, times=10**6)
        total = len(sandbox.records("orders"))
        target = math.ceil(total * KILL_AFTER_FRACTION)
        # The full read's progress reached the warehouse (and Meltano's state), the read is not complete.
        stored = kill_when(
            meltano_project, name, sig, lambda s: orders_done(sandbox, s) >= target, "a full read a third through"
        )
        assert orders_done(sandbox, stored) < total
    else:
        # Every orders request is slow: the kill lands among the open-set lists and retrieves.
        sandbox.add_fault("orders", 1, kind="slow", seconds=2 * SLOW_PAGE_SECONDS, times=10**6)
        kill_when(
            meltano_project, name, sig, lambda _: change_capture_requests(sandbox) >= 2, "change capture of orders"
        )

    sandbox.clear_faults()
    sandbox.reset_stats()
    force = ("--force",) if sig == signal.SIGKILL else ()
    meltano_project.run(*force, "tap-orderspace", name)

    warehouse = open_warehouse()
    try:
        if phase == "reconciliation":
            order_pages = [entry["params"] for entry in sandbox.stats()["log"] if entry["resource"] == "orders"]
            assert order_pages[0].get("starting_after"), f"the rerun read orders from the start: {order_pages[0]}"
            assert_tables_match_sandbox(warehouse, sandbox)
            assert_deletions(warehouse, sandbox, deleted)
            assert_late_changes_landed(warehouse, sandbox, customers=True)
        else:
            seen, waiting = seen_by_change_capture(warehouse, deleted, open_before)
            assert_deletions(warehouse, sandbox, seen, waiting)
            assert_late_changes_landed(warehouse, sandbox, customers=False)
    finally:
        warehouse.close()
