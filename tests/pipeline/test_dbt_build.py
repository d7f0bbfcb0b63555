"""`meltano run tap-orderspace <loader> dbt-<adapter>:build` from the sandbox: the marts hold the API's figures.

DuckDB and PostgreSQL are built here; Snowflake and BigQuery on their local emulators in
test_snowflake.py and test_bigquery.py; the whole project is also parsed with dbt-bigquery here,
without a connection: every model renders with that adapter's macros.
Deletions of customers and products with orders: test_dbt_deletions.py; two sites: test_dbt_sites.py.
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import duckdb
import pytest
from orderspace_sandbox import Sandbox

from . import support
from .support import (
    MARTS_SCHEMA,
    DuckDBWarehouse,
    MeltanoProject,
    PostgresWarehouse,
    Warehouse,
    assert_dbt_passed,
    dbt_postgres_settings,
    mart,
    money,
    require_plugin,
)

MARTS = (
    "fct_order_lines",
    "fct_orders",
    "fct_invoices",
    "invoice_orders",
    "dim_customers",
    "dim_products",
    "inventory_history",
)


def select(warehouse: Warehouse, columns: str, table: str, where: str = "") -> list[tuple[t.Any, ...]]:
    """Rows of a mart; only this module's own literals are formatted in."""
    return warehouse.rows(f"select {columns} from {mart(warehouse, table)} {where}")  # noqa: S608


def scalar(warehouse: Warehouse, columns: str, table: str) -> t.Any:
    ((value,),) = select(warehouse, columns, table)
    return value


def column_types(warehouse: Warehouse, table: str) -> dict[str, str]:
    found = warehouse.rows(
        "select column_name, data_type from information_schema.columns where table_schema = %s and table_name = %s",
        [MARTS_SCHEMA, table],
    )
    return {str(name): str(kind).lower() for name, kind in found}


def assert_marts_match_sandbox(warehouse: Warehouse, sb: Sandbox) -> None:
    totals = sb.totals()
    support.assert_marts_match_sandbox(warehouse, sb, lambda name: mart(warehouse, name))

    # Stock: one current row per SKU in the history, on hand as the API reported it.
    levels = {level["sku"]: money(level["on_hand"]) for level in sb.records("inventory_levels")}
    current = select(warehouse, "sku, on_hand", "inventory_history", "where valid_to is null")
    assert {sku: money(on_hand) for sku, on_hand in current} == levels
    assert scalar(warehouse, "count(*)", "dim_products") == totals["product_variants"]
    assert scalar(warehouse, "count(*)", "dim_customers") == totals["customers"]

    # Exact types: dates are DATE, money DECIMAL/NUMERIC, order numbers integers.
    invoice_types = column_types(warehouse, "fct_invoices")
    for column in ("invoice_date", "due_date"):
        assert invoice_types[column] == "date", (column, invoice_types[column])
    for column in ("gross_total", "amount_paid", "amount_outstanding"):
        assert invoice_types[column].startswith(("decimal", "numeric")), (column, invoice_types[column])
    order_types = column_types(warehouse, "fct_orders")
    assert order_types["delivery_date"] == "date"
    assert order_types["order_number"] in ("bigint", "integer"), order_types["order_number"]
    assert order_types["created_at"].startswith("timestamp"), order_types["created_at"]
    line_types = column_types(warehouse, "fct_order_lines")
    for column in ("quantity", "unit_price", "net_amount", "dispatched_quantity"):
        assert line_types[column].startswith(("decimal", "numeric")), (column, line_types[column])


def test_meltano_run_builds_the_duckdb_marts(
    meltano_project: MeltanoProject, sandbox: Sandbox, duckdb_target: Path, dbt_project: Path
) -> None:
    require_plugin("utilities", "dbt-duckdb")
    meltano_project.env["DBT_DUCKDB_PATH"] = str(duckdb_target)
    meltano_project.run("tap-orderspace", "target-duckdb", "dbt-duckdb:build")

    assert_dbt_passed(dbt_project)
    warehouse = DuckDBWarehouse(duckdb_target)
    try:
        assert_marts_match_sandbox(warehouse, sandbox)
    finally:
        warehouse.close()

    # The deletion contract, marked by hand as the tap's change capture would mark it.
    order = next(o for o in sandbox.records("orders") if len(o["order_lines"]) >= 2)
    invoice = next(iter(sandbox.records("invoices")))
    with duckdb.connect(str(duckdb_target)) as con:
        con.execute(
            "create table if not exists orderspace.deleted_records (stream varchar, id varchar, deleted_at timestamp)"
        )
        con.execute("insert into orderspace.deleted_records (stream, id) values ('orders', ?)", [order["id"]])
        con.execute(
            "create table if not exists orderspace.reconciliations "
            "(stream varchar, started_at timestamp, completed_at timestamp, version bigint)"
        )
        # A full read of tax_rates that began after every row was extracted: it saw none of them.
        con.execute(
            "insert into orderspace.reconciliations (stream, started_at, completed_at, version) "
            "values ('tax_rates', now()::timestamp + interval 1 day, now()::timestamp + interval 1 day, 1)"
        )
        con.execute("alter table orderspace.invoices add column if not exists _sdc_deleted_at varchar")
        con.execute(
            "update orderspace.invoices set _sdc_deleted_at = '2026-01-01T00:00:00Z' where id = ?", [invoice["id"]]
        )
    meltano_project.meltano("invoke", "dbt-duckdb:build")

    assert_dbt_passed(dbt_project)
    warehouse = DuckDBWarehouse(duckdb_target)
    try:
        where = f"where order_id = '{order['id']}'"
        assert select(warehouse, "count(*)", "fct_orders", where) == [(0,)]
        assert select(warehouse, "count(*)", "fct_order_lines", where) == [(0,)]
        lines = scalar(warehouse, "count(*)", "fct_order_lines")
        assert lines == sandbox.totals()["order_lines"] - len(order["order_lines"])
        assert select(warehouse, "count(*)", "fct_invoices", f"where invoice_id = '{invoice['id']}'") == [(0,)]
        # Staging keeps what was deleted, flagged: every tax rate, each is_deleted.
        staged = warehouse.rows(
            "select is_deleted, count(*) from analytics_staging.stg_orderspace__tax_rates group by 1"
        )
        assert staged == [(True, sandbox.totals()["tax_rates"])]
    finally:
        warehouse.close()


def test_meltano_run_builds_the_postgres_marts(
    meltano_project: MeltanoProject, sandbox: Sandbox, postgres_target: str, dbt_project: Path
) -> None:
    require_plugin("utilities", "dbt-postgres")
    meltano_project.env.update(dbt_postgres_settings(postgres_target))
    meltano_project.run("tap-orderspace", "target-postgres", "dbt-postgres:build")

    assert_dbt_passed(dbt_project)
    warehouse = PostgresWarehouse(postgres_target)
    try:
        assert_marts_match_sandbox(warehouse, sandbox)
    finally:
        warehouse.close()


@pytest.mark.parametrize(
    ("utility", "settings"),
    [("dbt-bigquery", {"DBT_BIGQUERY_PROJECT": "offline", "DBT_BIGQUERY_METHOD": "oauth"})],
    ids=["bigquery"],
)
def test_the_project_parses_for_the_cloud_warehouses(
    meltano_project: MeltanoProject, dbt_project: Path, utility: str, settings: dict[str, str]
) -> None:
    """`dbt parse` needs no connection: every model, test and snapshot renders with the adapter's macros."""
    require_plugin("utilities", utility)
    meltano_project.env.update(settings)
    meltano_project.meltano("invoke", f"{utility}:parse")

    manifest = json.loads((dbt_project / "target" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["metadata"]["adapter_type"] == utility.removeprefix("dbt-")
    names = {node["name"] for node in manifest["nodes"].values() if node["resource_type"] in ("model", "snapshot")}
    assert set(MARTS) <= names
    assert len([n for n in names if n.startswith("stg_orderspace__")]) == 17
