"""Deleting customers and products that orders still name never breaks the nightly build (issue 20).

On DuckDB and PostgreSQL: `meltano run tap-orderspace <loader>`, then customers with orders and
products with order lines are deleted in the sandbox; the next run reconciles
(reconcile_interval_days=0) and builds in the same `meltano run` (`... target-duckdb dbt-duckdb:build`),
which exits 0; dim_customers and dim_products keep the deleted members flagged is_deleted, their
orders and lines stay, and what is owed per currency is what the API says. On DuckDB then `dbt docs
generate`: every column of every source, staging and mart relation in the catalog has a description;
and `dbt source freshness` finds the tap's run log (sync_runs) fresh."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from orderspace_sandbox import Sandbox

from .support import (
    DELETE,
    DuckDBWarehouse,
    MeltanoProject,
    PostgresWarehouse,
    Warehouse,
    assert_dbt_passed,
    dbt_postgres_settings,
    mart,
    money,
    require_plugin,
    unpaid_less_payments,
)


def outstanding_by_currency(warehouse: Warehouse) -> dict[str, Decimal]:
    rows = warehouse.rows(
        f"select currency, sum(amount_outstanding) from {mart(warehouse, 'fct_invoices')} group by 1"  # noqa: S608
    )
    return {currency: money(total) for currency, total in rows}


def assert_every_column_described(dbt_project: Path) -> int:
    """Every column the catalog found in a source, staging model, mart or snapshot has a description; the count."""
    manifest = json.loads((dbt_project / "target" / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((dbt_project / "target" / "catalog.json").read_text(encoding="utf-8"))
    undescribed, checked = [], 0
    for kind in ("nodes", "sources"):
        for unique_id, entry in catalog[kind].items():
            node = manifest[kind][unique_id]
            modelled = node["name"].startswith("stg_") or node["path"].startswith("marts/")
            if kind == "nodes" and not modelled and node["resource_type"] != "snapshot":
                continue
            documented = {name.lower(): column for name, column in node["columns"].items()}
            for name in entry["columns"]:
                checked += 1
                if not str(documented.get(name.lower(), {}).get("description") or "").strip():
                    undescribed.append(f"{node['name']}.{name}")
    assert not undescribed, f"{len(undescribed)} of {checked} columns have no description: {undescribed[:10]}"
    return checked


def delete_customers_and_products_then_build(
    project: MeltanoProject, sb: Sandbox, loader: str, utility: str
) -> tuple[dict[str, list[str]], set[str]]:
    """Load, delete customers with orders and products with order lines, reconcile and build in one
    `meltano run` (which fails on a failed dbt test); the deletions and the deleted customers' orders."""
    project.run("tap-orderspace", loader)
    orders_before = sb.records("orders")
    deleted = sb.mutate(**DELETE)["deleted"]
    assert len(deleted["customers"]) == len(deleted["products"]) == 2, deleted
    their_orders = {o["id"] for o in orders_before if o["customer_id"] in deleted["customers"]}
    assert their_orders, "the deleted customers have no orders"
    project.env["TAP_ORDERSPACE_RECONCILE_INTERVAL_DAYS"] = "0"
    project.run("tap-orderspace", loader, f"{utility}:build")
    return deleted, their_orders


def assert_deleted_members_kept(
    warehouse: Warehouse, sb: Sandbox, deleted: dict[str, list[str]], their_orders: set[str]
) -> None:
    """The dims keep the deleted customers and products flagged; every order and line still joins;
    what is owed per currency is the API's."""
    customers, products = set(deleted["customers"]), set(deleted["products"])
    flagged = dict(warehouse.rows(f"select customer_id, is_deleted from {mart(warehouse, 'dim_customers')}"))  # noqa: S608
    assert {c: flagged.get(c) for c in customers} == dict.fromkeys(customers, True)
    assert {c for c, is_deleted in flagged.items() if not is_deleted} == {c["id"] for c in sb.records("customers")}

    # Their orders are still sales of theirs, every one.
    kept = warehouse.rows(f"select order_id, customer_id from {mart(warehouse, 'fct_orders')}")  # noqa: S608
    assert {o for o, c in kept if c in customers} == their_orders
    assert len(kept) == len(sb.records("orders"))

    # The deleted products' variants stay, flagged, and the lines naming them still join.
    variants = warehouse.rows(f"select product_id, sku, is_deleted from {mart(warehouse, 'dim_products')}")  # noqa: S608
    assert {p for p, _, is_deleted in variants if is_deleted} == products
    skus = sorted(sku for p, sku, _ in variants if p in products)
    assert set(skus) >= set(deleted["inventory_levels"])
    fct_order_lines, dim_products = mart(warehouse, "fct_order_lines"), mart(warehouse, "dim_products")
    lines = "l.sku in (select unnest(cast(%s as varchar[])))"
    unjoined = warehouse.rows(
        f"select count(*) from {fct_order_lines} l left join {dim_products} p "  # noqa: S608
        f"on l.source_relation = p.source_relation and l.sku = p.sku where {lines} and p.sku is null",
        [skus],
    )
    assert unjoined == [(0,)]
    named = warehouse.rows(f"select count(*) from {fct_order_lines} l where {lines}", [skus])  # noqa: S608
    assert named != [(0,)], "no order line names a deleted product's SKU"

    # What is owed: the unpaid invoices' gross totals less their payments, per currency.
    assert outstanding_by_currency(warehouse) == unpaid_less_payments(sb.records("invoices"))


def test_deleted_customers_and_products_with_orders_keep_the_duckdb_build_green(
    meltano_project: MeltanoProject, sandbox: Sandbox, duckdb_target: Path, dbt_project: Path
) -> None:
    require_plugin("utilities", "dbt-duckdb")
    meltano_project.env["DBT_DUCKDB_PATH"] = str(duckdb_target)
    deleted, their_orders = delete_customers_and_products_then_build(
        meltano_project, sandbox, "target-duckdb", "dbt-duckdb"
    )

    assert_dbt_passed(dbt_project)
    warehouse = DuckDBWarehouse(duckdb_target)
    try:
        assert_deleted_members_kept(warehouse, sandbox, deleted, their_orders)
    finally:
        warehouse.close()

    meltano_project.meltano("invoke", "dbt-duckdb:docs-generate")
    assert assert_every_column_described(dbt_project) > 600

    # The tap's run log is fresh: `dbt source freshness` reads sync_runs.completed_at.
    meltano_project.meltano("invoke", "dbt-duckdb:freshness")
    freshness = json.loads((dbt_project / "target" / "sources.json").read_text(encoding="utf-8"))["results"]
    statuses = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in freshness}
    assert statuses["sync_runs"] == "pass", statuses


def test_deleted_customers_and_products_with_orders_keep_the_postgres_build_green(
    meltano_project: MeltanoProject, sandbox: Sandbox, postgres_target: str, dbt_project: Path
) -> None:
    """target-postgres marks what a full read no longer sees with _sdc_deleted_at (ACTIVATE_VERSION)."""
    require_plugin("utilities", "dbt-postgres")
    meltano_project.env.update(dbt_postgres_settings(postgres_target))
    deleted, their_orders = delete_customers_and_products_then_build(
        meltano_project, sandbox, "target-postgres", "dbt-postgres"
    )

    assert_dbt_passed(dbt_project)
    warehouse = PostgresWarehouse(postgres_target)
    try:
        assert_deleted_members_kept(warehouse, sandbox, deleted, their_orders)
    finally:
        warehouse.close()
