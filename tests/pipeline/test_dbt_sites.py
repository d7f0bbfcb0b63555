"""Two Orderspace sites in one set of marts (issue 20): the shipped meltano.yml's second extractor,
tap-orderspace-eu, loads a second sandbox into its own raw schema with its own state; customers with
orders and products with order lines are deleted on that site and reconciled; then `dbt build` with
the var orderspace_union_schemas naming both schemas passes, fct_orders holds every order of both
sites once with its source_relation, dim_customers keeps the deleted customers flagged, and what is
owed per site and currency is the API's unpaid invoices less their payments.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from orderspace_sandbox import Sandbox

from .support import (
    DELETE,
    ORDERS,
    SEED,
    DuckDBWarehouse,
    MeltanoProject,
    assert_dbt_passed,
    mart,
    money,
    require_plugin,
    unpaid_less_payments,
)

SITES = {"orderspace": "tap-orderspace", "orderspace_eu": "tap-orderspace-eu"}


def test_two_sites_union_into_one_set_of_marts(
    meltano_project: MeltanoProject, sandbox: Sandbox, duckdb_target: Path, dbt_project: Path
) -> None:
    require_plugin("utilities", "dbt-duckdb")
    env = meltano_project.env
    # Each site's raw schema comes from its extractor's load_schema in meltano.yml, not from the test.
    env.pop("TARGET_DUCKDB_DEFAULT_TARGET_SCHEMA")
    env["DBT_DUCKDB_PATH"] = str(duckdb_target)

    with Sandbox(seed=SEED, orders=ORDERS, rate_limit=None, site="eu") as eu:
        config = eu.config()
        for setting in ("api_url", "auth_url", "client_id", "client_secret"):
            env[f"TAP_ORDERSPACE_EU_{setting.upper()}"] = config[setting]
        meltano_project.run("tap-orderspace", "target-duckdb")
        meltano_project.run("tap-orderspace-eu", "target-duckdb")

        changes = eu.mutate(**DELETE)
        deleted_customers = set(changes["deleted"]["customers"])
        env["TAP_ORDERSPACE_EU_RECONCILE_INTERVAL_DAYS"] = "0"
        meltano_project.run("tap-orderspace-eu", "target-duckdb")

        union = json.dumps({"orderspace_union_schemas": list(SITES)})
        meltano_project.meltano("invoke", "dbt-duckdb", "build", "--vars", union)
        sites = {"orderspace": sandbox, "orderspace_eu": eu}
        expected_orders = {(schema, o["id"]) for schema, sb in sites.items() for o in sb.records("orders")}
        expected_owed = {
            (schema, currency): amount
            for schema, sb in sites.items()
            for currency, amount in unpaid_less_payments(sb.records("invoices")).items()
        }
        live_customers = {(schema, c["id"]) for schema, sb in sites.items() for c in sb.records("customers")}

    assert_dbt_passed(dbt_project)
    # Each site kept its own bookmarks.
    states = meltano_project.meltano("state", "list").stdout
    assert all(f"{extractor}-to-target-duckdb" in states for extractor in SITES.values()), states

    warehouse = DuckDBWarehouse(duckdb_target)
    try:
        orders = warehouse.rows(f"select source_relation, order_id from {mart(warehouse, 'fct_orders')}")  # noqa: S608
        assert len(orders) == len(set(orders)) == len(expected_orders)
        assert set(orders) == expected_orders
        assert {schema for schema, _ in orders} == set(SITES)

        customers = warehouse.rows(
            f"select source_relation, customer_id, is_deleted from {mart(warehouse, 'dim_customers')}"  # noqa: S608
        )
        assert {(s, c) for s, c, deleted in customers if deleted} == {("orderspace_eu", c) for c in deleted_customers}
        assert {(s, c) for s, c, deleted in customers if not deleted} == live_customers

        owed = warehouse.rows(
            f"select source_relation, currency, sum(amount_outstanding) from {mart(warehouse, 'fct_invoices')} "  # noqa: S608
            "group by 1, 2"
        )
        assert {(s, c): money(total) for s, c, total in owed} == expected_owed
        assert len({currency for _, currency in expected_owed}) > 1, "the sites use one currency only"
    finally:
        warehouse.close()


def test_two_sites_sharing_every_id_never_meet(
    meltano_project: MeltanoProject, sandbox: Sandbox, duckdb_target: Path, dbt_project: Path
) -> None:
    """One site loaded, then copied to a second schema: every id is in both. Unless every key, join and
    test of the project goes by source_relation too, rows would pair across the sites and the
    build or the counts would say so."""
    require_plugin("utilities", "dbt-duckdb")
    meltano_project.env["DBT_DUCKDB_PATH"] = str(duckdb_target)
    meltano_project.run("tap-orderspace", "target-duckdb")
    with duckdb.connect(str(duckdb_target)) as con:
        con.execute("create schema twin")
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'orderspace'"
        ).fetchall()
        for (table,) in tables:
            con.execute(f'create table twin."{table}" as select * from orderspace."{table}"')  # noqa: S608

    union = json.dumps({"orderspace_union_schemas": ["orderspace", "twin"]})
    meltano_project.meltano("invoke", "dbt-duckdb", "build", "--vars", union)

    assert_dbt_passed(dbt_project)
    warehouse = DuckDBWarehouse(duckdb_target)
    try:
        owed = unpaid_less_payments(sandbox.records("invoices"))
        for table, key, count in (
            ("fct_orders", "order_id", len(sandbox.records("orders"))),
            ("fct_order_lines", "order_line_id", sandbox.totals()["order_lines"]),
            ("fct_invoices", "invoice_id", len(sandbox.records("invoices"))),
            ("dim_customers", "customer_id", len(sandbox.records("customers"))),
        ):
            per_site = warehouse.rows(
                f"select source_relation, count(*), count(distinct {key}) from {mart(warehouse, table)} group by 1"  # noqa: S608
            )
            assert sorted(per_site) == [("orderspace", count, count), ("twin", count, count)], table
        sums = warehouse.rows(
            f"select source_relation, currency, sum(amount_outstanding) from {mart(warehouse, 'fct_invoices')} "  # noqa: S608
            "group by 1, 2"
        )
        assert {(s, c): money(total) for s, c, total in sums} == {
            (site, currency): amount for site in ("orderspace", "twin") for currency, amount in owed.items()
        }
    finally:
        warehouse.close()
