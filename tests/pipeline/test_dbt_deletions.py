"""Deleting customers and products that orders still name never breaks the nightly build (issue 20).

`meltano run tap-orderspace target-duckdb`, then customers with orders and products with order lines
are deleted in the sandbox; the next run reconciles (reconcile_interval_days=0) and builds:
`meltano run tap-orderspace target-duckdb dbt-duckdb:build` exits 0, dim_customers and dim_products
keep the deleted members flagged is_deleted, their orders and lines stay, and the receivables are
what the API says is owed, per currency. Then `dbt docs generate`: every column of every source,
staging and mart relation in the catalog has a description; and `dbt source freshness` finds the
tap's run log (sync_runs) fresh.
"""

from __future__ import annotations

import json
import typing as t
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from orderspace_sandbox import Sandbox

from .support import DuckDBWarehouse, MeltanoProject, money, require_plugin
from .test_dbt_build import assert_dbt_passed, mart

DELETE = {"delete_customers_with_orders": 2, "delete_products_with_order_lines": 2}


def unpaid_less_payments(invoices: t.Iterable[dict[str, t.Any]]) -> dict[str, Decimal]:
    """{currency: gross totals of the invoices not marked paid, less their payments}: what is owed,
    computed from the API's records alone."""
    owed: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in invoices:
        if not invoice["paid"]:
            payments = sum((money(p["amount"]) for p in invoice.get("payments") or ()), Decimal(0))
            owed[invoice["currency"]] += money(invoice["gross_total"]) - payments
    return dict(owed)


def outstanding_by_currency(warehouse: DuckDBWarehouse, where: str = "") -> dict[str, Decimal]:
    rows = warehouse.rows(
        f"select currency, sum(amount_outstanding) from {mart(warehouse, 'fct_invoices')} {where} group by 1"  # noqa: S608
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


def test_deleted_customers_and_products_with_orders_keep_the_build_green(
    meltano_project: MeltanoProject, sandbox: Sandbox, duckdb_target: Path, dbt_project: Path
) -> None:
    require_plugin("utilities", "dbt-duckdb")
    meltano_project.env["DBT_DUCKDB_PATH"] = str(duckdb_target)
    meltano_project.run("tap-orderspace", "target-duckdb")

    orders_before = {o["id"]: o for o in sandbox.records("orders")}
    changes = sandbox.mutate(**DELETE)
    customers, products = set(changes["deleted"]["customers"]), set(changes["deleted"]["products"])
    assert len(customers) == len(products) == 2, changes["deleted"]
    their_orders = {i for i, o in orders_before.items() if o["customer_id"] in customers}
    assert their_orders, "the deleted customers have no orders"

    meltano_project.env["TAP_ORDERSPACE_RECONCILE_INTERVAL_DAYS"] = "0"
    meltano_project.run("tap-orderspace", "target-duckdb", "dbt-duckdb:build")

    assert_dbt_passed(dbt_project)
    warehouse = DuckDBWarehouse(duckdb_target)
    try:
        flagged = dict(warehouse.rows(f"select customer_id, is_deleted from {mart(warehouse, 'dim_customers')}"))  # noqa: S608
        assert {c: flagged.get(c) for c in customers} == dict.fromkeys(customers, True)
        live = {c["id"] for c in sandbox.records("customers")}
        assert {c for c, deleted in flagged.items() if not deleted} == live

        # Their orders are still sales of theirs, every one.
        kept = warehouse.rows(f"select order_id, customer_id from {mart(warehouse, 'fct_orders')}")  # noqa: S608
        assert {o for o, c in kept if c in customers} == their_orders
        assert len(kept) == len(sandbox.records("orders"))

        # The deleted products' variants stay, flagged, and the lines naming them still join.
        variants = warehouse.rows(
            f"select product_id, sku, is_deleted from {mart(warehouse, 'dim_products')}"  # noqa: S608
        )
        assert {p for p, _, deleted in variants if deleted} == products
        deleted_skus = {sku for p, sku, _ in variants if p in products}
        assert deleted_skus >= set(changes["deleted"]["inventory_levels"])
        unjoined = warehouse.rows(
            f"select count(*) from {mart(warehouse, 'fct_order_lines')} l "  # noqa: S608
            f"left join {mart(warehouse, 'dim_products')} p on l.source_relation = p.source_relation and l.sku = p.sku "
            "where l.sku in (select unnest(?)) and p.sku is null",
            [sorted(deleted_skus)],
        )
        assert unjoined == [(0,)]
        assert warehouse.rows(
            f"select count(*) from {mart(warehouse, 'fct_order_lines')} where sku in (select unnest(?))",  # noqa: S608
            [sorted(deleted_skus)],
        ) != [(0,)], "no order line names a deleted product's SKU"

        # What is owed: the unpaid invoices' gross totals less their payments, per currency.
        assert outstanding_by_currency(warehouse) == unpaid_less_payments(sandbox.records("invoices"))
    finally:
        warehouse.close()

    meltano_project.meltano("invoke", "dbt-duckdb:docs-generate")
    assert assert_every_column_described(dbt_project) > 600

    # The tap's run log is fresh: `dbt source freshness` reads sync_runs.completed_at.
    meltano_project.meltano("invoke", "dbt-duckdb:freshness")
    freshness = json.loads((dbt_project / "target" / "sources.json").read_text(encoding="utf-8"))["results"]
    statuses = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in freshness}
    assert statuses["sync_runs"] == "pass", statuses
