"""What the pipeline tests share: the sandbox's expected rows, warehouses to read back, and Meltano.

The tests run the sandbox over real HTTP -> `meltano run` -> a real DuckDB file or PostgreSQL server.
They need Meltano with the tap and the loaders installed as plugins: `python3 scripts/test.py` does
that and exports MELTANO_BIN.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import typing as t
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pytest
from orderspace_sandbox import Sandbox
from psycopg.conninfo import conninfo_to_dict

from tap_orderspace.derived_streams import NestedRowsStream
from tap_orderspace.streams import OPEN_ORDER_STATUSES, STREAM_TYPES

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = "orderspace"
SEED = 7
ORDERS = 300
# Small pages make a few hundred orders span many pages, so every page boundary is crossed.
PAGE_SIZE = 20
RUN_TIMEOUT_SECONDS = 600
DEFAULT_PG_URL = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# `name`: the SDK types it per instance, every stream class sets it.
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {cls.name: tuple(cls.primary_keys or ()) for cls in STREAM_TYPES}  # type: ignore[misc]
CHILD_STREAMS = {cls.name: cls for cls in STREAM_TYPES if issubclass(cls, NestedRowsStream)}  # type: ignore[misc]
# Tables the tap writes itself (deletions it saw, full reads it completed): the sandbox has no totals for them.
TAP_TABLES = ("deleted_records", "reconciliations", "sync_runs")
# The streams read from the API, each with a table to compare with the sandbox.
SYNCED_KEYS = {stream: key for stream, key in PRIMARY_KEYS.items() if stream not in TAP_TABLES}
# A child table's rows go with their parent record: (parent stream, column holding the parent's id).
PARENTS: dict[str, tuple[str, str]] = {
    name: (cls.parent_stream_type.name, cls.parent_key)  # type: ignore[misc]
    for name, cls in CHILD_STREAMS.items()
}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def wait_for_port(
    name: str, port: int, process: subprocess.Popen[bytes], log: Path, *, within: float, host: str = "127.0.0.1"
) -> None:
    """Until a local emulator server (fakesnow, bqemulator) listens; it failing to start fails the test."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{log.read_text()[-3000:]}", pytrace=False)
        with socket.socket() as probe:
            if probe.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"{name} did not listen on {port} within {within:g} s", pytrace=False)


def unavailable(reason: str) -> t.NoReturn:
    """In CI a missing prerequisite is a failure; on a developer's machine, a skip that says what to do."""
    if IN_CI:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


# What the sandbox holds -------------------------------------------------------------------------


def sandbox_rows(sb: Sandbox, stream: str) -> list[dict[str, t.Any]]:
    """The rows `stream` should hold: the sandbox's records, child tables cut from their parents."""
    child = CHILD_STREAMS.get(stream)
    if child is None:
        return list(sb.records(stream))
    rows = []
    for parent in sb.records(child.parent_stream_type.name):  # type: ignore[misc]
        for position, item in enumerate(parent.get(child.nested_array) or ()):
            row = {**item, child.parent_key: parent["id"], "position": position}
            if child.parent_time_column:
                # A class attribute on every parent stream, a property in the SDK's types.
                row[child.parent_time_column] = parent[child.parent_stream_type.replication_key]  # type: ignore[index]
            rows.append(row)
    return rows


def sandbox_keys(sb: Sandbox, stream: str) -> set[tuple[t.Any, ...]]:
    return {tuple(row[key] for key in PRIMARY_KEYS[stream]) for row in sandbox_rows(sb, stream)}


def utc_naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def as_date_text(value: t.Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.date) else value


def plain(value: t.Any) -> t.Any:
    """A value as comparable Python, whichever warehouse returned it: numbers to 6 places, UTC times."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        return round(float(value), 6)
    if isinstance(value, dt.datetime):
        return utc_naive(value)
    return as_date_text(value)


def assert_same(loaded: dict[t.Any, t.Any], expected: dict[t.Any, t.Any], what: str) -> None:
    """Two {key: values} maps are equal; otherwise name a few of the keys that differ, and how."""
    differing = sorted(
        (str(key), loaded.get(key, "<missing>"), expected.get(key, "<missing>"))
        for key in set(loaded) | set(expected)
        if loaded.get(key, "<missing>") != expected.get(key, "<missing>")
    )
    assert not differing, f"{what}: {len(differing)} of {len(expected)} differ; (key, loaded, expected): " + "; ".join(
        map(str, differing[:5])
    )


def as_json(value: t.Any) -> t.Any:
    """A JSON column as Python: DuckDB hands back text, psycopg parsed values."""
    return json.loads(value) if isinstance(value, str) else value


def money(value: t.Any) -> Decimal:
    """An amount as an exact decimal, whether the API, a driver or a cast to text gave it; null as 0."""
    return Decimal(str(value or 0))


# Warehouses -------------------------------------------------------------------------------------


class Warehouse:
    """Just enough SQL to compare a loaded schema with the sandbox, for DuckDB and PostgreSQL alike."""

    name: str

    def rows(self, sql: str, params: t.Sequence[t.Any] = ()) -> list[tuple[t.Any, ...]]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def table(self, name: str) -> str:
        return f'"{SCHEMA}"."{name}"'

    def stored(self, value: t.Any) -> t.Any:
        """What a value the sandbox served reads back as from this warehouse."""
        return plain(value)

    def tables(self) -> set[str]:
        found = self.rows("select table_name from information_schema.tables where table_schema = %s", [SCHEMA])
        return {name for (name,) in found}

    def column_type(self, table: str, column: str) -> str:
        found = self.rows(
            "select data_type from information_schema.columns "
            "where table_schema = %s and table_name = %s and column_name = %s",
            [SCHEMA, table, column],
        )
        assert found, f"{self.name}: {SCHEMA}.{table} has no column {column}"
        return str(found[0][0]).lower()

    def select(self, table: str, *columns: str) -> list[tuple[t.Any, ...]]:
        names = ", ".join(f'"{column}"' for column in columns)
        return self.rows(f"select {names} from {self.table(table)}")  # noqa: S608

    def by_key(self, table: str, *columns: str) -> dict[t.Any, tuple[t.Any, ...]]:
        """`columns` of every row, by the row's single-column primary key."""
        (key,) = PRIMARY_KEYS[table]
        return {row[0]: row[1:] for row in self.select(table, key, *columns)}

    # Deleted rows: the one query per warehouse that docs/incremental.md ("Telling deleted rows from
    # live ones") gives, with the row's table aliased `o`.

    def deleted_by_change_capture(self, stream: str) -> str:
        """A 404 on retrieve: `deleted_records` names the row's id, or for a child row its parent's."""
        # A record's id is its key (inventory_levels: the SKU); a child row goes with its parent.
        named, column = PARENTS.get(stream) or (stream, PRIMARY_KEYS[stream][0])
        deletions = self.table("deleted_records")
        return f"exists (select 1 from {deletions} d where d.stream = '{named}' and d.id = o.{column})"  # noqa: S608

    def deleted_condition(self, stream: str) -> str:
        """`is_deleted` for a row `o` of `stream`: true for rows of records the source deleted."""
        raise NotImplementedError

    def _select(self, stream: str, columns: t.Sequence[str], deleted: bool) -> list[tuple[t.Any, ...]]:
        names = ", ".join(f'o."{column}"' for column in columns)
        condition = self.deleted_condition(stream) if stream not in TAP_TABLES else "false"
        where = condition if deleted else f"not ({condition})"
        return self.rows(f"select {names} from {self.table(stream)} o where {where}")  # noqa: S608

    def live(self, table: str, *columns: str) -> list[tuple[t.Any, ...]]:
        """`columns` of the rows the documented query does not mark deleted."""
        return self._select(table, columns, deleted=False)

    def deleted(self, table: str, *columns: str) -> list[tuple[t.Any, ...]]:
        """`columns` of the rows the documented query marks deleted."""
        return self._select(table, columns, deleted=True)

    def live_by_key(self, table: str, *columns: str) -> dict[t.Any, tuple[t.Any, ...]]:
        (key,) = PRIMARY_KEYS[table]
        return {row[0]: row[1:] for row in self.live(table, key, *columns)}


class DuckDBWarehouse(Warehouse):
    name = "DuckDB"

    def __init__(self, path: Path) -> None:
        self.connection = duckdb.connect(str(path), read_only=True)
        # Three-part names stay right whatever the file (the catalog) is called.
        (self.catalog,) = self.connection.execute("select current_database()").fetchone() or ("",)

    def table(self, name: str) -> str:
        return f'"{self.catalog}"."{SCHEMA}"."{name}"'

    def stored(self, value: t.Any) -> t.Any:
        # target-duckdb writes "" as NULL: its CSV staging cannot tell the two apart.
        return None if value == "" else plain(value)

    def deleted_condition(self, stream: str) -> str:
        # target-duckdb ignores ACTIVATE_VERSION: a row that a completed full read of its stream,
        # started after the row was extracted, did not re-read is gone from the source.
        full_reads = self.table("reconciliations")
        return (
            f"{self.deleted_by_change_capture(stream)} or exists (select 1 from {full_reads} r "  # noqa: S608
            f"where r.stream = '{stream}' and r.started_at > o._sdc_extracted_at)"
        )

    def rows(self, sql: str, params: t.Sequence[t.Any] = ()) -> list[tuple[t.Any, ...]]:
        return self.connection.execute(sql.replace("%s", "?"), list(params)).fetchall()

    def close(self) -> None:
        self.connection.close()


class PostgresWarehouse(Warehouse):
    name = "PostgreSQL"

    def __init__(self, url: str) -> None:
        self.connection = psycopg.connect(url, autocommit=True)

    def rows(self, sql: str, params: t.Sequence[t.Any] = ()) -> list[tuple[t.Any, ...]]:
        return self.connection.execute(sql, list(params)).fetchall()

    def close(self) -> None:
        self.connection.close()

    def deleted_condition(self, stream: str) -> str:
        # target-postgres applies ACTIVATE_VERSION: rows a completed full read did not see get _sdc_deleted_at.
        return f"o._sdc_deleted_at is not null or {self.deleted_by_change_capture(stream)}"


# Meltano ----------------------------------------------------------------------------------------


def meltano_executable() -> Path:
    configured = os.environ.get("MELTANO_BIN")
    path = Path(configured) if configured else ROOT / ".venv-meltano" / "bin" / "meltano"
    if not path.exists():
        unavailable(f"Meltano not found at {path}: run `python3 scripts/test.py` once, or set MELTANO_BIN")
    return path


@dataclass
class MeltanoProject:
    """A private copy of the project's meltano.yml whose plugins are the installed ones."""

    directory: Path
    executable: Path
    env: dict[str, str] = field(default_factory=dict)
    runs: int = 0

    def meltano(self, *args: str) -> subprocess.CompletedProcess[str]:
        self.runs += 1
        log = self.directory / f"meltano-{self.runs}.log"
        result = subprocess.run(
            [str(self.executable), *args],
            cwd=self.directory,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
            check=False,
        )
        log.write_text(f"$ meltano {' '.join(args)}\n{result.stdout}\n{result.stderr}", encoding="utf-8")
        assert result.returncode == 0, (
            f"`meltano {' '.join(args)}` exited with {result.returncode}; last output:\n"
            + "\n".join((result.stdout + result.stderr).splitlines()[-40:])
        )
        return result

    def run(self, *blocks: str, state_id_suffix: str | None = None) -> subprocess.CompletedProcess[str]:
        # --no-install: the plugin venvs are the project's own (symlinked), never to be rebuilt from here.
        suffix = ["--state-id-suffix", state_id_suffix] if state_id_suffix else []
        return self.meltano("run", "--no-install", *suffix, *blocks)

    def state(self, state_id: str) -> dict[str, t.Any]:
        output = self.meltano("state", "get", state_id).stdout
        return dict(json.loads(output.strip().splitlines()[-1]))


def require_plugin(kind: str, name: str) -> None:
    if not (ROOT / ".meltano" / kind / name / "venv").is_dir():
        unavailable(f"Meltano plugin {name} is not installed: run `python3 scripts/test.py` once")


# Comparisons shared by the tests ----------------------------------------------------------------


def assert_tables_match_sandbox(warehouse: Warehouse, sb: Sandbox) -> None:
    """Every stream's live rows (those the database's deletion rule keeps, docs/operations.md) are
    each of the sandbox's rows exactly once, and nothing else; no key is stored twice."""
    totals = sb.totals()
    assert set(SYNCED_KEYS) <= set(totals), f"the sandbox reports no totals for {set(SYNCED_KEYS) - set(totals)}"
    missing_tables = set(PRIMARY_KEYS) - warehouse.tables()
    assert not missing_tables, f"tables missing: {missing_tables}"
    problems = []
    for stream, key in SYNCED_KEYS.items():
        stored = Counter(warehouse.select(stream, *key))
        loaded = Counter(warehouse.live(stream, *key))
        expected = sandbox_keys(sb, stream)
        assert len(expected) == totals[stream], f"{stream}: the sandbox's records disagree with its totals"
        duplicated = sorted(k for k, n in stored.items() if n > 1)
        missing = expected - set(loaded)
        extra = set(loaded) - expected
        if sum(loaded.values()) != totals[stream] or duplicated or missing or extra:
            problems.append(
                f"{stream}: {sum(loaded.values())} live rows for {totals[stream]} in the sandbox; "
                f"{len(missing)} missing or marked deleted (e.g. {sorted(missing)[:3]}), "
                f"{len(extra)} unexpected (e.g. {sorted(extra)[:3]}), "
                f"{len(duplicated)} keys duplicated (e.g. {duplicated[:3]})"
            )
    assert not problems, f"{warehouse.name} differs from the sandbox:\n" + "\n".join(problems)


def assert_values_round_trip(warehouse: Warehouse, sb: Sandbox) -> None:
    """Spot values of each awkward kind read back as the sandbox served them."""
    orders = {order["id"]: order for order in sb.records("orders")}

    # Nested order lines: every one as a row of order_lines, and inside its order's JSON column.
    columns = ("order_id", "position", "sku", "name", "quantity", "unit_price", "order_created")
    loaded_lines = {k: tuple(map(plain, v)) for k, v in warehouse.by_key("order_lines", *columns).items()}
    expected_lines = {
        line["id"]: (
            *(warehouse.stored(line[c]) for c in columns[:-1]),
            plain(dt.datetime.fromisoformat(line["order_created"])),
        )
        for line in sandbox_rows(sb, "order_lines")
    }
    assert_same(loaded_lines, expected_lines, "order_lines")
    order = next(o for o in orders.values() if len(o["order_lines"]) >= 2)
    (nested,) = warehouse.rows(f"select order_lines from {warehouse.table('orders')} where id = %s", [order["id"]])  # noqa: S608
    assert as_json(nested[0]) == order["order_lines"]

    loaded = warehouse.by_key("orders", "delivery_date", "created", "gross_total", "company_name")

    # A date: every delivery date, null ones included.
    assert any(o["delivery_date"] for o in orders.values())
    assert_same(
        {k: as_date_text(v[0]) for k, v in loaded.items()},
        {k: warehouse.stored(o["delivery_date"]) for k, o in orders.items()},
        "orders.delivery_date",
    )

    # A timestamp, stored as one (UTC).
    assert "timestamp" in warehouse.column_type("orders", "created")
    assert_same(
        {k: plain(v[1]) for k, v in loaded.items()},
        {k: plain(dt.datetime.fromisoformat(o["created"])) for k, o in orders.items()},
        "orders.created",
    )

    # Money, stored as a number: to the penny, whether the API sent 30, 30.0 or 30.95.
    money_type = warehouse.column_type("orders", "gross_total")
    assert any(kind in money_type for kind in ("double", "numeric", "decimal", "real")), money_type
    assert_same(
        {k: plain(v[2]) for k, v in loaded.items()},
        {k: plain(o["gross_total"]) for k, o in orders.items()},
        "orders.gross_total",
    )

    # Text beyond ASCII (accents, CJK, emoji, quotes, backslashes) in every company name.
    expected_names = {k: warehouse.stored(o["company_name"]) for k, o in orders.items()}
    assert_same({k: v[3] for k, v in loaded.items()}, expected_names, "orders.company_name")
    customers = {c["id"]: warehouse.stored(c["company_name"]) for c in sb.records("customers")}
    assert any(name and not name.isascii() for name in customers.values()), "the sandbox has no non-ASCII names"
    loaded_customers = {k: v[0] for k, v in warehouse.by_key("customers", "company_name").items()}
    assert_same(loaded_customers, customers, "customers.company_name")


def assert_marts_match_sandbox(warehouse: Warehouse, sb: Sandbox, mart: t.Callable[[str], str]) -> None:
    """The dbt marts (named by `mart`) hold the API's figures: each invoice's amount outstanding to
    the penny (nothing once `paid`, whether or not its payments were recorded; else its gross total
    less the payments made); every order line once; each order's gross total and line count.
    Amounts are read as text and compared as decimals here, because fakesnow sums and subtracts
    through DOUBLE where Snowflake is exact."""
    totals = sb.totals()
    invoices = f"select invoice_id, cast(amount_outstanding as varchar) from {mart('fct_invoices')}"  # noqa: S608
    outstanding = {invoice_id: money(amount) for invoice_id, amount in warehouse.rows(invoices)}
    assert outstanding == {
        i["id"]: Decimal(0)
        if i["paid"]
        else money(i["gross_total"]) - sum((money(p["amount"]) for p in i.get("payments") or ()), Decimal(0))
        for i in sb.records("invoices")
    }
    assert len(outstanding) == totals["invoices"]

    lines = [line for (line,) in warehouse.rows(f"select order_line_id from {mart('fct_order_lines')}")]  # noqa: S608
    assert len(lines) == len(set(lines)) == totals["order_lines"]
    orders = f"select order_id, cast(gross_total as varchar), line_count from {mart('fct_orders')}"  # noqa: S608
    loaded = {order_id: (money(gross), int(count)) for order_id, gross, count in warehouse.rows(orders)}
    assert loaded == {o["id"]: (money(o["gross_total"]), len(o["order_lines"])) for o in sb.records("orders")}


# Deletions and late changes ---------------------------------------------------------------------

DELETIONS = {"delete_orders": 4, "delete_customers": 2, "delete_invoices": 3, "delete_products": 1}
LATE_CHANGES = {
    "release_old_orders": 2,
    "cancel_old_orders": 2,
    "pay_old_invoices": 3,
    "dispatch_old_orders": 2,
    "edit_customers": 3,
}
DELETABLE = ("orders", "customers", "invoices", "products", "inventory_levels")


def api_delete(sb: Sandbox, resource: str, record_id: str) -> None:
    """`DELETE /v1/<resource>/<id>`, as a user of the site would."""
    form = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "client_id": sb.client_id, "client_secret": sb.client_secret}
    )
    with urllib.request.urlopen(sb.auth_url, data=form.encode()) as answer:  # noqa: S310 - the sandbox on 127.0.0.1
        token = json.load(answer)["access_token"]
    request = urllib.request.Request(  # noqa: S310 - the sandbox on 127.0.0.1
        f"{sb.api_url}/{resource}/{record_id}", method="DELETE", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request) as answer:  # noqa: S310 - the sandbox on 127.0.0.1
        assert answer.status == 200


def change_the_site(sb: Sandbox) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Delete records across history and change old ones; returns (deleted, open before) by stream."""
    orders = sb.records("orders")
    invoices = sb.records("invoices")
    open_before = {
        "orders": {o["id"] for o in orders if o["status"] in OPEN_ORDER_STATUSES},
        "invoices": {i["id"] for i in invoices if i["paid"] is False},
    }
    changes = sb.mutate(**LATE_CHANGES, **DELETIONS)
    deleted = {stream: set(changes["deleted"].get(stream, ())) for stream in DELETABLE}
    # One open order and one unpaid invoice deleted by hand: change capture retrieves them, and gets a 404.
    for stream in ("orders", "invoices"):
        record_id = sorted(open_before[stream] - deleted[stream])[0]
        api_delete(sb, stream, record_id)
        deleted[stream].add(record_id)

    # The scenario is what it claims to be.
    for name, count in DELETIONS.items():
        assert len(changes["deleted"][name.removeprefix("delete_")]) == count, (name, changes["deleted"])
    assert deleted["inventory_levels"], "deleting a product deleted no stock levels"
    assert len(changes["updated"]["orders"]) >= 6, changes["updated"]
    assert len(changes["updated"]["invoices"]) >= 3, changes["updated"]
    assert len(changes["updated"]["customers"]) == 3, changes["updated"]
    assert any(record_id not in open_before["orders"] for record_id in deleted["orders"]), "no closed order deleted"
    return deleted, open_before


def assert_deletions(
    warehouse: Warehouse, sb: Sandbox, marked: dict[str, set[str]], pending: dict[str, set[str]] | None = None
) -> None:
    """By the database's rule (docs/operations.md): the records in `marked` and their child rows are
    deleted and nothing else is; the live rows are the sandbox's plus those of the records in
    `pending` (deleted at the source, not yet seen gone), each key once."""
    pending = pending or {}
    problems = []
    for stream, key in SYNCED_KEYS.items():
        if stream not in PARENTS:
            live = {row[0] for row in warehouse.live(stream, *key)}
            dead = {row[0] for row in warehouse.deleted(stream, *key)}
            expected_live = {k[0] for k in sandbox_keys(sb, stream)} | pending.get(stream, set())
            if dead != marked.get(stream, set()):
                problems.append(f"{stream}: marked deleted {sorted(dead)}, expected {sorted(marked.get(stream, ()))}")
            if live != expected_live:
                problems.append(
                    f"{stream}: live but not expected {sorted(live - expected_live)[:5]}, "
                    f"expected but not live {sorted(expected_live - live)[:5]}"
                )
            continue
        parent, column = PARENTS[stream]
        # (key..., parent id) of every row, live and deleted.
        live_rows = warehouse.live(stream, *key, column)
        dead_rows = warehouse.deleted(stream, *key, column)
        gone, waiting = marked.get(parent, set()), pending.get(parent, set())
        wrongly_dead = {row[-1] for row in dead_rows} - gone
        live_of_gone = {row[-1] for row in live_rows} & gone
        if wrongly_dead or live_of_gone:
            problems.append(
                f"{stream}: rows of live {parent} marked deleted {sorted(wrongly_dead)[:3]}, "
                f"rows of deleted {parent} live {sorted(live_of_gone)[:3]}"
            )
        live_here = {row[:-1] for row in live_rows if row[-1] not in waiting}
        if live_here != sandbox_keys(sb, stream):
            problems.append(f"{stream}: live rows of live {parent} differ from the sandbox's")
    assert not problems, f"{warehouse.name}:\n" + "\n".join(problems)


def assert_late_changes_landed(warehouse: Warehouse, sb: Sandbox, *, customers: bool) -> None:
    """Old orders and invoices (and with a full read, customers) show the sandbox's current values."""
    orders = {o["id"]: (warehouse.stored(o["status"]),) for o in sb.records("orders")}
    loaded = warehouse.live_by_key("orders", "status")
    assert_same({k: v for k, v in loaded.items() if k in orders}, orders, "orders.status")
    lines = {line["id"]: (plain(line["dispatched"]),) for line in sandbox_rows(sb, "order_lines")}
    loaded_lines = {k: tuple(map(plain, v)) for k, v in warehouse.live_by_key("order_lines", "dispatched").items()}
    assert_same({k: v for k, v in loaded_lines.items() if k in lines}, lines, "order_lines.dispatched")
    invoices = {i["id"]: (i["paid"],) for i in sb.records("invoices")}
    loaded_invoices = warehouse.live_by_key("invoices", "paid")
    assert_same({k: v for k, v in loaded_invoices.items() if k in invoices}, invoices, "invoices.paid")
    payments = {(p["invoice_id"], p["position"]) for p in sandbox_rows(sb, "invoice_payments")}
    loaded_payments = {
        row for row in warehouse.live("invoice_payments", "invoice_id", "position") if row[0] in invoices
    }
    assert loaded_payments == payments, "invoice_payments differ from the sandbox's"
    if customers:
        expected = {
            c["id"]: (warehouse.stored(c["phone"]), warehouse.stored(c["status"])) for c in sb.records("customers")
        }
        assert_same(warehouse.live_by_key("customers", "phone", "status"), expected, "customers (phone, status)")


def seen_by_change_capture(
    warehouse: Warehouse, deleted: dict[str, set[str]], open_before: dict[str, set[str]]
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Deletions `deleted_records` holds after an incremental run, and those still waiting for a full read.

    Every record open at the last run (an order not fulfilled or cancelled, an unpaid invoice) that
    was deleted must be there; others may be too (a new dispatch names its order, which is then
    retrieved); a record that was not deleted never is, and none is there twice.
    """
    noted = warehouse.rows(f"select stream, id from {warehouse.table('deleted_records')}")  # noqa: S608
    assert len(noted) == len(set(noted)), f"deleted_records holds a record twice: {sorted(noted)}"
    seen = {stream: {i for s, i in noted if s == stream} for stream in DELETABLE}
    unknown = {(s, i) for s, i in noted if i not in deleted.get(s, set())}
    assert not unknown, f"deleted_records names records that were not deleted: {sorted(unknown)}"
    for stream, was_open in open_before.items():
        missed = (deleted[stream] & was_open) - seen[stream]
        assert not missed, f"{stream} open at the last run and deleted since, not in deleted_records: {missed}"
    return seen, {stream: deleted[stream] - seen[stream] for stream in DELETABLE}


# target-postgres as its console script starts it, with the SDK's drain interval shortened.
POSTGRES_WRAPPER = """#!{python}
from singer_sdk.target_base import Target
from target_postgres.target import TargetPostgres

Target._MAX_RECORD_AGE_IN_MINUTES = {minutes}
TargetPostgres.cli()
"""


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


def stored_state(project: MeltanoProject, state_id: str) -> dict[str, t.Any]:
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


# How long a SIGTERM-ed pipeline gets to stop before it is killed, as an orchestrator would.
GRACE_PERIOD_SECONDS = 30


def kill_when(
    project: MeltanoProject, loader: str, sig: signal.Signals, ready: Callable[[dict[str, t.Any]], bool], what: str
) -> dict[str, t.Any]:
    """Start `meltano run tap-orderspace <loader>` in a process group of its own and send the whole
    group `sig` once `ready(stored state)` holds. Returns the state Meltano had stored then."""
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
    try:
        while True:
            state = stored_state(project, state_id)
            if ready(state):
                break
            assert process.poll() is None, (
                f"`meltano run` ended (exit {process.returncode}) before {what}; stored: {state}; see {log.name}"
            )
            assert time.monotonic() < deadline, f"not {what} after {RUN_TIMEOUT_SECONDS} s"
            time.sleep(0.1)
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=GRACE_PERIOD_SECONDS)
        except subprocess.TimeoutExpired:
            # As an orchestrator does after its grace period. The SDK-based loaders' SIGTERM handler
            # calls sys.exit(), which is lost when it lands in a garbage-collector callback
            # ("Exception ignored in: <function _collection_gced ...> SystemExit: 0"): the loader
            # then never exits. docs/operations.md tells users to give `meltano run` a grace period.
            os.killpg(process.pid, signal.SIGKILL)
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
    return state


def is_change_capture(entry: dict[str, t.Any]) -> bool:
    """A retrieve by id, or a list of the open set (`status=` orders, `paid=false` invoices)."""
    return bool(entry.get("id")) or bool({"status", "paid"} & set(entry.get("params") or {}))


MARTS_SCHEMA = "analytics"


def mart(warehouse: Warehouse, name: str) -> str:
    if isinstance(warehouse, DuckDBWarehouse):
        return f'"{warehouse.catalog}"."{MARTS_SCHEMA}"."{name}"'
    return f'"{MARTS_SCHEMA}"."{name}"'


def dbt_postgres_settings(url: str) -> dict[str, str]:
    """The dbt-postgres utility's settings that point it at the database `url` names."""
    parts = conninfo_to_dict(url)
    return {
        "DBT_POSTGRES_HOST": str(parts.get("host") or "127.0.0.1"),
        "DBT_POSTGRES_PORT": str(parts.get("port") or 5432),
        "DBT_POSTGRES_USER": str(parts.get("user") or "postgres"),
        "DBT_POSTGRES_PASSWORD": str(parts.get("password") or ""),
        "DBT_POSTGRES_DBNAME": str(parts["dbname"]),
    }


def assert_dbt_passed(project: Path) -> None:
    results = json.loads((project / "target" / "run_results.json").read_text(encoding="utf-8"))["results"]
    failed = [
        (r["unique_id"], r["status"], r.get("message")) for r in results if r["status"] not in ("success", "pass")
    ]
    assert not failed, f"dbt build: {len(failed)} of {len(results)} nodes did not pass: {failed[:5]}"
    tests = [r for r in results if r["unique_id"].startswith("test.")]
    assert len(tests) >= 130, f"only {len(tests)} dbt tests ran"


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


def loader_saving_state_often(
    request: pytest.FixtureRequest,
    project: MeltanoProject,
    tmp_path: Path,
    name: str,
    *,
    duckdb_batch_rows: int,
    drain_seconds: float,
) -> tuple[Callable[[], Warehouse], str]:
    """Set `project`'s loader `name` (target-duckdb or target-postgres) to store state during the run:
    target-duckdb every `duckdb_batch_rows` rows of a stream, target-postgres through a wrapper that
    shortens the SDK's drain interval to `drain_seconds`. Returns how to open what it loaded, and where."""
    if name == "target-duckdb":
        path = request.getfixturevalue("duckdb_target")
        project.env["TARGET_DUCKDB_BATCH_SIZE_ROWS"] = str(duckdb_batch_rows)
        return (lambda: DuckDBWarehouse(path)), str(path)
    url = request.getfixturevalue("postgres_target")
    # Meltano drops PYTHONPATH from a plugin's environment, so the wrapper is the plugin's executable.
    python = ROOT / ".meltano" / "loaders" / name / "venv" / "bin" / "python"
    wrapper = tmp_path / "target-postgres-draining"
    wrapper.write_text(POSTGRES_WRAPPER.format(python=python, minutes=drain_seconds / 60), encoding="utf-8")
    wrapper.chmod(0o755)
    config = project.directory / "meltano.yml"
    text = config.read_text(encoding="utf-8")
    assert text.count("executable: target-postgres\n") == 1
    config.write_text(text.replace("executable: target-postgres\n", f"executable: {wrapper}\n"), encoding="utf-8")
    return (lambda: PostgresWarehouse(url)), url
