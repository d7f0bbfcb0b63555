"""The shipped BigQuery loader and the dbt project, run for real against bqemulator (docs/warehouses.md).

`meltano run tap-orderspace target-bigquery-emulator`, twice (the second incremental, upserting), then
`meltano invoke dbt-bigquery:build`: the loader is z3-target-bigquery 0.7.2 itself with
`method: streaming_insert`, through tests/warehouses/bqemulator_target.py (the emulator's endpoint
for its client factory); dbt-bigquery talks to the same server through its profile's
`api_endpoint`. Both authenticate with a throwaway service-account key whose token endpoint is a
local stub: nothing here ever reaches Google (NO_GCE_CHECK keeps google-auth off the metadata server).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import typing as t
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from orderspace_sandbox import Sandbox

from .support import (
    IN_CI,
    PRIMARY_KEYS,
    ROOT,
    RUN_TIMEOUT_SECONDS,
    MeltanoProject,
    free_port,
    money,
    require_plugin,
    sandbox_keys,
    wait_for_port,
)

LOADER = "target-bigquery-emulator"
EMULATOR = "bqemulator"
EMULATOR_PYTHON = ROOT / ".meltano" / "utilities" / EMULATOR / "venv" / "bin" / "python"
SERVER_SCRIPT = ROOT / "tests" / "warehouses" / "bqemulator_server.py"
HOST = "127.0.0.1"
PROJECT = "orderspace-test"
RAW_DATASET = "orderspace"
MARTS_DATASET = "analytics"
STATE_SUFFIX = "bigquery-test"
SERVER_START_SECONDS = 90

# A service-account key with a throwaway RSA key, made by the emulator's python (it has cryptography).
_MAKE_KEY = """
import json, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
path, project, token_uri = sys.argv[1:4]
info = {"type": "service_account", "project_id": project, "private_key_id": "test", "private_key": pem.decode(),
        "client_email": f"loader@{project}.iam.gserviceaccount.com", "client_id": "1", "token_uri": token_uri}
open(path, "w").write(json.dumps(info))
"""


class _TokenStub(BaseHTTPRequestHandler):
    """Answers the key's OAuth token request (a signed JWT) with a fixed token; the emulator checks none."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"access_token": "emulator", "expires_in": 3600, "token_type": "Bearer"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: t.Any) -> None:
        return


class Emulator:
    """SQL against bqemulator over BigQuery's REST API (jobs.query), read back as Python values."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def rows(self, sql: str) -> list[tuple[t.Any, ...]]:
        request = urllib.request.Request(  # noqa: S310 - the emulator on 127.0.0.1
            f"{self.endpoint}/bigquery/v2/projects/{PROJECT}/queries",
            data=json.dumps({"query": sql, "useLegacySql": False, "timeoutMs": 60000}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
            result = json.load(answer)
        assert not result.get("errors"), f"{sql}: {result['errors']}"
        assert result.get("jobComplete"), f"{sql}: not complete"
        rows = result.get("rows") or []
        assert int(result.get("totalRows") or 0) == len(rows), f"{sql}: paged results are not read here"
        return [tuple(cell["v"] for cell in row["f"]) for row in rows]

    def table(self, name: str, dataset: str = RAW_DATASET) -> str:
        return f"`{PROJECT}`.`{dataset}`.`{name}`"

    def tables(self, dataset: str = RAW_DATASET) -> set[str]:
        return {name for (name,) in self.rows(f"select table_name from `{dataset}`.INFORMATION_SCHEMA.TABLES")}  # noqa: S608

    def select(self, table: str, *columns: str) -> list[tuple[t.Any, ...]]:
        names = ", ".join(f"`{column}`" for column in columns)
        return self.rows(f"select {names} from {self.table(table)}")  # noqa: S608

    def types(self, table: str, dataset: str = RAW_DATASET) -> dict[str, str]:
        found = self.rows(
            f"select column_name, data_type from `{dataset}`.INFORMATION_SCHEMA.COLUMNS where table_name = '{table}'"  # noqa: S608
        )
        return {str(name): str(kind) for name, kind in found}


@pytest.fixture
def bqemulator(meltano_project: MeltanoProject, tmp_path: Path) -> Iterator[Emulator]:
    """A bqemulator server, a token stub and a throwaway key; the loader and dbt-bigquery pointed at them."""
    require_plugin("loaders", LOADER)
    require_plugin("utilities", EMULATOR)
    tokens = ThreadingHTTPServer((HOST, 0), _TokenStub)
    threading.Thread(target=tokens.serve_forever, daemon=True).start()
    keyfile = tmp_path / "service-account.json"
    token_uri = f"http://{HOST}:{tokens.server_address[1]}/token"
    subprocess.run([str(EMULATOR_PYTHON), "-c", _MAKE_KEY, str(keyfile), PROJECT, token_uri], check=True)

    rest_port, grpc_port = free_port(HOST), free_port(HOST)
    log = tmp_path / "bqemulator.log"
    env = {**os.environ, "BQEMU_ENABLE_FORMAT_EXTENSIONS": "false", "BQEMU_LOG_LEVEL": "warning"}
    command = [str(EMULATOR_PYTHON), str(SERVER_SCRIPT), "start", "--ephemeral", "--project", PROJECT]
    ports = ["--rest-host", HOST, "--rest-port", str(rest_port), "--grpc-host", HOST, "--grpc-port", str(grpc_port)]
    with log.open("wb") as output:
        server = subprocess.Popen([*command, *ports], stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for_port("bqemulator", rest_port, server, log, within=SERVER_START_SECONDS, host=HOST)
        endpoint = f"http://{HOST}:{rest_port}"
        meltano_project.env.update(
            {
                "NO_GCE_CHECK": "true",
                "BQEMULATOR_API_ENDPOINT": endpoint,
                "TARGET_BIGQUERY_EMULATOR_PROJECT": PROJECT,
                "TARGET_BIGQUERY_EMULATOR_DATASET": RAW_DATASET,
                "TARGET_BIGQUERY_EMULATOR_CREDENTIALS_PATH": str(keyfile),
                "DBT_BIGQUERY_PROJECT": PROJECT,
                "DBT_BIGQUERY_METHOD": "service-account",
                "DBT_BIGQUERY_KEYFILE": str(keyfile),
                "DBT_BIGQUERY_API_ENDPOINT": endpoint,
                "DBT_BIGQUERY_DATASET": MARTS_DATASET,
                "DBT_SOURCE_SCHEMA": RAW_DATASET,
            }
        )
        yield Emulator(endpoint)
    finally:
        tokens.shutdown()
        tokens.server_close()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def assert_raw_tables_match_sandbox(emulator: Emulator, sb: Sandbox) -> None:
    """Every stream's table holds the sandbox's keys, each once."""
    totals = sb.totals()
    streams = [stream for stream in PRIMARY_KEYS if stream in totals]
    assert len(streams) >= 15, f"the sandbox reports totals for only {streams}"
    tables = emulator.tables()
    assert set(PRIMARY_KEYS) <= tables, f"tables missing: {set(PRIMARY_KEYS) - tables}"
    # An upsert's scratch tables (<stream>__<time>__<uuid>) are dropped once merged.
    assert tables == set(PRIMARY_KEYS), f"tables left behind: {tables - set(PRIMARY_KEYS)}"
    problems = []
    for stream in streams:
        key = PRIMARY_KEYS[stream]
        # The REST API returns every value as text: compare keys as text.
        stored = Counter(emulator.select(stream, *key))
        expected = {tuple(str(part) for part in row) for row in sandbox_keys(sb, stream)}
        duplicated = sorted(k for k, n in stored.items() if n > 1)
        if sum(stored.values()) != totals[stream] or set(stored) != expected or duplicated:
            problems.append(
                f"{stream}: {sum(stored.values())} rows for {totals[stream]} in the sandbox; "
                f"{len(expected - set(stored))} missing, {len(set(stored) - expected)} unexpected, "
                f"{len(duplicated)} keys duplicated (e.g. {duplicated[:3]})"
            )
    assert not problems, "bqemulator differs from the sandbox:\n" + "\n".join(problems)


def invoke_dbt(project: MeltanoProject, *args: str) -> subprocess.CompletedProcess[str]:
    """`meltano invoke dbt-bigquery ...`, its exit code left to the caller."""
    return subprocess.run(
        [str(project.executable), "invoke", "dbt-bigquery", *args],
        cwd=project.directory,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )


def run_results(dbt_project: Path) -> dict[str, tuple[str, str]]:
    results = json.loads((dbt_project / "target" / "run_results.json").read_text(encoding="utf-8"))["results"]
    return {r["unique_id"]: (r["status"], r.get("message") or "") for r in results}


def test_two_loads_into_bigquery_then_the_dbt_build(
    meltano_project: MeltanoProject, sandbox: Sandbox, bqemulator: Emulator, dbt_project: Path
) -> None:
    require_plugin("utilities", "dbt-bigquery")
    started = time.monotonic()
    meltano_project.run("tap-orderspace", LOADER, state_id_suffix=STATE_SUFFIX)
    first_seconds = time.monotonic() - started
    assert_raw_tables_match_sandbox(bqemulator, sandbox)
    # Denormalized: one typed column per field; arrays of objects as repeated records.
    landed = bqemulator.types("orders")
    assert (landed["id"], landed["gross_total"], landed["created"]) == ("STRING", "FLOAT64", "TIMESTAMP"), landed
    assert landed["order_lines"].startswith("ARRAY<STRUCT<id STRING, sku STRING"), landed["order_lines"]

    changes = sandbox.mutate(new_orders=5, update_orders=30, new_invoices=3, update_products=2, update_stock=3)
    started = time.monotonic()
    meltano_project.run("tap-orderspace", LOADER, state_id_suffix=STATE_SUFFIX)
    second_seconds = time.monotonic() - started

    # Upserted by the loader's MERGE, not appended: every key once, the new rows in, stock current.
    assert_raw_tables_match_sandbox(bqemulator, sandbox)
    for resource, created in changes["created"].items():
        loaded = {key for (key,) in bqemulator.select(resource, PRIMARY_KEYS[resource][0])}
        assert set(created) <= loaded, f"new {resource} missing: {set(created) - loaded}"
    stock = {s["sku"]: money(s["on_hand"]) for s in sandbox.records("inventory_levels")}
    assert {sku: money(on_hand) for sku, on_hand in bqemulator.select("inventory_levels", "sku", "on_hand")} == stock
    state = meltano_project.state(f"dev:tap-orderspace-to-{LOADER}:{STATE_SUFFIX}")
    assert state["singer_state"]["bookmarks"]["orders"]["replication_key_value"]

    # dbt-bigquery builds every model and passes every test.
    started = time.monotonic()
    built = invoke_dbt(meltano_project, "build")
    assert built.returncode == 0, "\n".join((built.stdout + built.stderr).splitlines()[-40:])
    results = run_results(dbt_project)
    failed = {node: result for node, result in results.items() if result[0] not in ("success", "pass")}
    assert not failed, failed
    assert len([node for node in results if node.startswith("test.")]) >= 50, len(results)
    assert len([node for node in results if node.startswith("model.orderspace.stg_orderspace__")]) == 17
    dbt_seconds = time.monotonic() - started

    # Receivables invoice by invoice, to the penny: nothing once paid, else the gross total less the payments.
    outstanding = bqemulator.rows(
        f"select invoice_id, amount_outstanding from {bqemulator.table('fct_invoices', MARTS_DATASET)}"  # noqa: S608
    )
    assert {invoice_id: money(amount) for invoice_id, amount in outstanding} == {
        i["id"]: Decimal(0)
        if i["paid"]
        else money(i["gross_total"]) - sum((money(p["amount"]) for p in i.get("payments") or ()), Decimal(0))
        for i in sandbox.records("invoices")
    }

    # The marts hold the API's figures: every order line once, each order's total and lines.
    totals = sandbox.totals()
    lines = bqemulator.rows(f"select order_line_id from {bqemulator.table('fct_order_lines', MARTS_DATASET)}")  # noqa: S608
    assert len(lines) == len(set(lines)) == totals["order_lines"]
    orders = bqemulator.rows(
        f"select order_id, gross_total, line_count from {bqemulator.table('fct_orders', MARTS_DATASET)}"  # noqa: S608
    )
    assert {order_id: (money(gross), int(count)) for order_id, gross, count in orders} == {
        o["id"]: (money(o["gross_total"]), len(o["order_lines"])) for o in sandbox.records("orders")
    }
    marts = bqemulator.types("fct_orders", MARTS_DATASET)
    assert (marts["order_number"], marts["delivery_date"], marts["gross_total"]) == ("INT64", "DATE", "NUMERIC"), marts
    current = bqemulator.rows(
        f"select sku, on_hand from {bqemulator.table('inventory_history', MARTS_DATASET)} where valid_to is null"  # noqa: S608
    )
    assert {sku: money(on_hand) for sku, on_hand in current} == stock
    print(
        f"bqemulator: first load {first_seconds:.1f} s; second load {second_seconds:.1f} s; dbt {dbt_seconds:.1f} s"
        + (" (CI)" if IN_CI else "")
    )
