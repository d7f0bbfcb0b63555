"""A second `meltano run`, after the site changed, adds the new rows and updates the changed ones.

Meltano carries the state from the first run to the second (same state ID), so the second run
reads only what its bookmarks, the lookback window and change capture (open orders and unpaid
invoices listed again) let through; every change lands, and nothing is lost or loaded twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from orderspace_sandbox import Sandbox

from .support import (
    DuckDBWarehouse,
    MeltanoProject,
    PostgresWarehouse,
    Warehouse,
    assert_same,
    assert_tables_match_sandbox,
    is_change_capture,
    plain,
    sandbox_rows,
)

STATE_SUFFIX = "pipeline-test"
LOOKBACK_DAYS = 30
# Streams large enough here that a bookmark must save most of their pages on the second run.
INCREMENTAL_PAGED = ("orders", "dispatches", "invoices")
# Streams that fit one page here anyway: the second run must not cost more.
UPDATED_SINCE = ("customers", "products", "inventory_levels")


def parse_utc(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC)


def bookmarks(project: MeltanoProject, loader: str) -> dict[str, dict[str, Any]]:
    state = project.state(f"dev:tap-orderspace-to-{loader}:{STATE_SUFFIX}")
    found = state["singer_state"]["bookmarks"]
    leftovers = {stream: entry for stream, entry in found.items() if "in_progress" in entry}
    assert not leftovers, f"a finished run left progress markers behind: {leftovers}"
    return dict(found)


def page_requests(sb: Sandbox) -> dict[str, int]:
    """List pages read for windows, by resource: change capture's requests left out."""
    pages: dict[str, int] = {}
    for entry in sb.stats()["log"]:
        if not is_change_capture(entry):
            pages[entry["resource"]] = pages.get(entry["resource"], 0) + 1
    return pages


def all_requests(sb: Sandbox) -> int:
    return sum(int(count) for count in sb.stats()["requests"].values())


@pytest.fixture(params=["target-duckdb", "target-postgres"])
def loader(request: pytest.FixtureRequest) -> tuple[str, Callable[[], Warehouse]]:
    """A loader, set up for this test, and how to open what it loaded."""
    if request.param == "target-duckdb":
        path = request.getfixturevalue("duckdb_target")
        # The scheduled job ends with dbt-duckdb:build, which needs the dbt project and the utility.
        request.getfixturevalue("dbt_project")
        return request.param, lambda: DuckDBWarehouse(path)
    url = request.getfixturevalue("postgres_target")
    return request.param, lambda: PostgresWarehouse(url)


def test_second_run_adds_new_rows_and_updates_changed_ones(
    meltano_project: MeltanoProject, loader: tuple[str, Callable[[], Warehouse]], sandbox: Sandbox
) -> None:
    target, open_warehouse = loader
    meltano_project.env["TAP_ORDERSPACE_LOOKBACK_WINDOW_DAYS"] = str(LOOKBACK_DAYS)
    # DuckDB's first run goes through the scheduled job: later manual runs continue from its state.
    first_run = ("orderspace-to-duckdb",) if target == "target-duckdb" else ("tap-orderspace", target)
    meltano_project.run(*first_run, state_id_suffix=STATE_SUFFIX)
    first_pages = page_requests(sandbox)
    first_total = all_requests(sandbox)
    first = bookmarks(meltano_project, target)
    for stream in ("orders", "dispatches", "customers"):
        assert first[stream]["replication_key_value"], f"no bookmark for {stream}: {first[stream]}"
    for stream in ("invoices", "products", "inventory_levels"):
        assert first[stream]["extraction_started_at"], f"no bookmark for {stream}: {first[stream]}"

    orders_before = {order["id"]: order for order in sandbox.records("orders")}
    # What the second run re-reads of the orders: the lookback window before the bookmark, and newer.
    window_start = parse_utc(first["orders"]["replication_key_value"]) - dt.timedelta(days=LOOKBACK_DAYS)

    sandbox.reset_stats()
    changes = sandbox.mutate(
        new_orders=5, update_orders=30, new_invoices=3, update_products=2, update_stock=3, same_second=True
    )
    meltano_project.run("tap-orderspace", target, state_id_suffix=STATE_SUFFIX)
    second_pages = page_requests(sandbox)
    second_total = all_requests(sandbox)

    warehouse = open_warehouse()
    try:
        # New rows are in, changed rows were upserted rather than appended, nothing is lost.
        assert_tables_match_sandbox(warehouse, sandbox)
        for resource, created in changes["created"].items():
            loaded = set(warehouse.by_key(resource))
            assert set(created) <= loaded, f"new {resource} missing: {set(created) - loaded}"

        # Orders: every change lands, inside the lookback window or not: the orders update_orders
        # changes are open ones (new, released, preorder), which change capture lists again each run.
        orders_now = {order["id"]: order for order in sandbox.records("orders")}
        expected = {
            order_id: (warehouse.stored(order["status"]), warehouse.stored(order["internal_note"]))
            for order_id, order in orders_now.items()
        }
        loaded_orders = warehouse.by_key("orders", "status", "internal_note")
        assert_same(loaded_orders, expected, "orders (status, internal_note)")
        changed_before_window = [
            order_id
            for order_id in changes["updated"]["orders"]
            if order_id in orders_before
            and parse_utc(orders_now[order_id]["created"]) < window_start
            and orders_now[order_id]["status"] != orders_before[order_id]["status"]
        ]
        assert changed_before_window, "no changed order was older than the lookback window: the test checks less"

        # Products and stock are read by updated_since: every change lands, whenever it was created.
        variants = {v["id"]: (plain(v["unit_price"]),) for v in sandbox_rows(sandbox, "product_variants")}
        loaded_variants = warehouse.by_key("product_variants", "unit_price")
        assert_same({k: tuple(map(plain, v)) for k, v in loaded_variants.items()}, variants, "product_variants")
        products = {p["id"]: (p["active"],) for p in sandbox.records("products")}
        assert_same(warehouse.by_key("products", "active"), products, "products.active")
        stock = {s["sku"]: (plain(s["on_hand"]), plain(s["available"])) for s in sandbox.records("inventory_levels")}
        loaded_stock = warehouse.by_key("inventory_levels", "on_hand", "available")
        assert_same({k: tuple(map(plain, v)) for k, v in loaded_stock.items()}, stock, "inventory_levels")
        assert changes["updated"]["products"]
        assert changes["updated"]["inventory_levels"]
    finally:
        warehouse.close()

    # The state moved on: the orders bookmark is now the new orders' second.
    second = bookmarks(meltano_project, target)
    newest = max(parse_utc(orders_now[order_id]["created"]) for order_id in changes["created"]["orders"])
    assert parse_utc(second["orders"]["replication_key_value"]) == newest
    assert parse_utc(second["products"]["extraction_started_at"]) > parse_utc(
        first["products"]["extraction_started_at"]
    )

    # And it was used: the second run asked for far fewer window pages of each bookmarked stream.
    for resource in INCREMENTAL_PAGED:
        assert first_pages[resource] >= 5, f"{resource}: the first run read few pages; use more data"
        assert second_pages.get(resource, 0) <= first_pages[resource] / 4, (resource, first_pages, second_pages)
    for resource in UPDATED_SINCE:
        assert second_pages.get(resource, 0) <= first_pages[resource], (resource, first_pages, second_pages)
    assert sum(second_pages.values()) < sum(first_pages.values()) / 2, (first_pages, second_pages)
    # Change capture included (open sets listed again, records that left them retrieved), the run
    # still costs well under a full re-read.
    assert second_total < first_total, (first_total, second_total)
