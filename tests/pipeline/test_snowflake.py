"""The shipped Snowflake loader and the dbt project, run for real against fakesnow (docs/warehouses.md).

`meltano run tap-orderspace target-snowflake-fakesnow dbt-snowflake:build`, twice: the loader is
meltanolabs-target-snowflake itself, through the thin wrapper in tests/warehouses/fakesnow_target.py
(connection to the local server, a named stage, the SQL fakesnow lacks); dbt-snowflake talks to the
same server over the real connector. The second run is incremental and upserts.
"""

from __future__ import annotations

import json
import subprocess
import time
import typing as t
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from orderspace_sandbox import Sandbox

from .support import (
    PRIMARY_KEYS,
    ROOT,
    MeltanoProject,
    Warehouse,
    assert_marts_match_sandbox,
    free_port,
    money,
    require_plugin,
    sandbox_keys,
    unavailable,
    wait_for_port,
)

LOADER = "target-snowflake-fakesnow"
# fakesnow lives in the loader's virtualenv, with the connector the test reads through.
VENV_BIN = ROOT / ".meltano" / "loaders" / LOADER / "venv" / "bin"
QUERY_SCRIPT = ROOT / "tests" / "warehouses" / "snowflake_query.py"
HOST = "127.0.0.1"
DATABASE = "ORDERSPACE_TEST"
RAW_SCHEMA = "ORDERSPACE"
MARTS_SCHEMA = "ANALYTICS"
STATE_SUFFIX = "snowflake-test"
SERVER_START_SECONDS = 60

# What the loader makes of each JSON schema type (integer, number, date, date-time, object/array).
LANDED_TYPES = {
    ("order_lines", "position"): "NUMBER(38,0)",
    ("orders", "gross_total"): "FLOAT",
    ("orders", "delivery_date"): "DATE",
    ("orders", "created"): "TIMESTAMP_NTZ",
    ("orders", "order_lines"): "VARIANT",
    ("orders", "billing_address"): "VARIANT",
    ("orders", "id"): "TEXT",
}
# And what the dbt models make of them: exact decimals, dates, integers.
MART_TYPES = {
    ("fct_invoices", "invoice_date"): "DATE",
    ("fct_invoices", "due_date"): "DATE",
    ("fct_invoices", "gross_total"): "NUMBER(18,4)",
    ("fct_invoices", "amount_outstanding"): "NUMBER(18,4)",
    ("fct_orders", "order_number"): "NUMBER(38,0)",
    ("fct_orders", "delivery_date"): "DATE",
    ("fct_orders", "created_at"): "TIMESTAMP_NTZ",
    ("fct_order_lines", "unit_price"): "NUMBER(18,4)",
}


class FakesnowWarehouse(Warehouse):
    """SQL over the real Snowflake connector, run by the loader's python (tests/warehouses/snowflake_query.py)."""

    name = "Snowflake (fakesnow)"

    def __init__(self, port: int) -> None:
        self.process = subprocess.Popen(
            [str(VENV_BIN / "python"), str(QUERY_SCRIPT), HOST, str(port), DATABASE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def rows(self, sql: str, params: t.Sequence[t.Any] = ()) -> list[tuple[t.Any, ...]]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({"sql": sql, "params": list(params)}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the Snowflake query helper stopped (exit {self.process.poll()})"
        answer = json.loads(line)
        assert "error" not in answer, f"{sql}: {answer.get('error')}"
        return [tuple(row) for row in answer["rows"]]

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()

    # Snowflake keeps unquoted names in upper case, and so does the loader.
    def table(self, name: str, schema: str = RAW_SCHEMA) -> str:
        return f'"{schema}"."{name.upper()}"'

    def select(self, table: str, *columns: str, where: str = "true") -> list[tuple[t.Any, ...]]:
        names = ", ".join(f'"{column.upper()}"' for column in columns)
        return self.rows(f"select {names} from {self.table(table)} where {where}")  # noqa: S608

    def tables(self, schema: str = RAW_SCHEMA) -> set[str]:
        found = self.rows("select table_name from information_schema.tables where table_schema = %s", [schema])
        return {str(name).lower() for (name,) in found}

    def types(self, table: str, schema: str = RAW_SCHEMA) -> dict[str, str]:
        """Each column's type as Snowflake names it, with NUMBER's precision and scale."""
        found = self.rows(
            "select column_name, data_type, numeric_precision, numeric_scale from information_schema.columns "
            "where table_schema = %s and table_name = %s",
            [schema, table.upper()],
        )
        return {
            str(name).lower(): f"{kind}({precision},{scale})" if kind == "NUMBER" else str(kind)
            for name, kind, precision, scale in found
        }


@pytest.fixture
def fakesnow(meltano_project: MeltanoProject, tmp_path: Path) -> Iterator[FakesnowWarehouse]:
    """A fakesnow server with an empty database; the loader and dbt-snowflake pointed at it."""
    require_plugin("loaders", LOADER)
    if not (VENV_BIN / "fakesnow").exists():
        unavailable(f"fakesnow is not in {VENV_BIN}: run `python3 scripts/test.py` once")
    port = free_port(HOST)
    log = tmp_path / "fakesnow.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(VENV_BIN / "fakesnow"), "-s", "--host", HOST, "-p", str(port)], stdout=output, stderr=subprocess.STDOUT
        )
    warehouse: FakesnowWarehouse | None = None
    try:
        wait_for_port("fakesnow", port, server, log, within=SERVER_START_SECONDS, host=HOST)
        warehouse = FakesnowWarehouse(port)
        # As on a real account, the database exists before the loader runs; the loader makes the schema.
        warehouse.rows(f"create database if not exists {DATABASE}")
        meltano_project.env.update(
            {
                "FAKESNOW_HOST": HOST,
                "FAKESNOW_PORT": str(port),
                "TARGET_SNOWFLAKE_FAKESNOW_DATABASE": DATABASE,
                "TARGET_SNOWFLAKE_FAKESNOW_DEFAULT_TARGET_SCHEMA": RAW_SCHEMA,
                "DBT_SNOWFLAKE_ACCOUNT": "fakesnow",
                "DBT_SNOWFLAKE_USER": "fake",
                "DBT_SNOWFLAKE_PASSWORD": "snow",
                "DBT_SNOWFLAKE_DATABASE": DATABASE,
                "DBT_SNOWFLAKE_HOST": HOST,
                "DBT_SNOWFLAKE_PORT": str(port),
                "DBT_SNOWFLAKE_PROTOCOL": "http",
                "DBT_SOURCE_SCHEMA": RAW_SCHEMA,
                "DBT_SNOWFLAKE_SCHEMA": MARTS_SCHEMA,
            }
        )
        yield warehouse
    finally:
        if warehouse is not None:
            warehouse.close()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def assert_raw_tables_match_sandbox(warehouse: FakesnowWarehouse, sb: Sandbox) -> None:
    """Every stream's live rows are the sandbox's, once each; no key is stored twice."""
    totals = sb.totals()
    streams = [stream for stream in PRIMARY_KEYS if stream in totals]
    assert len(streams) >= 15, f"the sandbox reports totals for only {streams}"
    assert set(PRIMARY_KEYS) <= warehouse.tables(), f"tables missing: {set(PRIMARY_KEYS) - warehouse.tables()}"
    problems = []
    for stream in streams:
        key = PRIMARY_KEYS[stream]
        stored = Counter(warehouse.select(stream, *key))
        # ACTIVATE_VERSION: the loader marks rows a full read no longer saw, it does not delete them.
        live = Counter(warehouse.select(stream, *key, where="_sdc_deleted_at is null"))
        duplicated = sorted(k for k, n in stored.items() if n > 1)
        expected = sandbox_keys(sb, stream)
        if sum(live.values()) != totals[stream] or set(live) != expected or duplicated:
            problems.append(
                f"{stream}: {sum(live.values())} live rows ({sum(stored.values())} stored) for {totals[stream]} "
                f"in the sandbox; {len(expected - set(live))} missing, {len(set(live) - expected)} unexpected, "
                f"{len(duplicated)} keys duplicated (e.g. {duplicated[:3]})"
            )
    assert not problems, f"{warehouse.name} differs from the sandbox:\n" + "\n".join(problems)


def assert_types(warehouse: FakesnowWarehouse, expected: dict[tuple[str, str], str], schema: str) -> None:
    landed = {(table, column): warehouse.types(table, schema).get(column) for table, column in expected}
    assert landed == expected


def test_two_loads_into_snowflake_then_the_dbt_build(
    meltano_project: MeltanoProject, sandbox: Sandbox, fakesnow: FakesnowWarehouse, dbt_project: Path
) -> None:
    require_plugin("utilities", "dbt-snowflake")
    started = time.monotonic()
    meltano_project.run("tap-orderspace", LOADER, state_id_suffix=STATE_SUFFIX)
    first_seconds = time.monotonic() - started
    assert_raw_tables_match_sandbox(fakesnow, sandbox)
    assert_types(fakesnow, LANDED_TYPES, RAW_SCHEMA)

    changes = sandbox.mutate(new_orders=5, update_orders=30, new_invoices=3, update_products=2, update_stock=3)
    # dbt runs once: its snapshot's second pass stages through a temporary table with a three-part
    # name, which fakesnow cannot create (docs/warehouses.md).
    started = time.monotonic()
    meltano_project.run("tap-orderspace", LOADER, "dbt-snowflake:build", state_id_suffix=STATE_SUFFIX)
    second_seconds = time.monotonic() - started

    # Upserted, not appended: every key once, the new rows in, the changed stock as it is now.
    assert_raw_tables_match_sandbox(fakesnow, sandbox)
    for resource, created in changes["created"].items():
        loaded = {key for (key,) in fakesnow.select(resource, PRIMARY_KEYS[resource][0])}
        assert set(created) <= loaded, f"new {resource} missing: {set(created) - loaded}"
    stock = {s["sku"]: money(s["on_hand"]) for s in sandbox.records("inventory_levels")}
    assert {sku: money(on_hand) for sku, on_hand in fakesnow.select("inventory_levels", "sku", "on_hand")} == stock
    # The second run was incremental: it started from the first one's bookmarks.
    state = meltano_project.state(f"dev:tap-orderspace-to-{LOADER}:{STATE_SUFFIX}")
    assert state["singer_state"]["bookmarks"]["orders"]["replication_key_value"]

    # `dbt build` passed (meltano run would have failed otherwise); the marts hold the API's figures.
    assert_types(fakesnow, MART_TYPES, MARTS_SCHEMA)
    assert_marts_match_sandbox(fakesnow, sandbox, lambda name: fakesnow.table(name, MARTS_SCHEMA))
    print(f"fakesnow: first load {first_seconds:.1f} s; second load and dbt build {second_seconds:.1f} s")
