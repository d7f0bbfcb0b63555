"""Deletions anywhere in history and late changes to old records, through `meltano run`, in the tables.

After a first sync the sandbox deletes orders, customers, invoices and products spread over the whole
history (the oldest included), and changes orders and invoices more than a year old: releases and
cancels orders, pays invoices, dispatches the rest of old open orders; it edits customers (no time
field moves). One open order and one unpaid invoice are also deleted through `DELETE /v1/...`, as
a user would, so that change capture meets them (a 404 on retrieve).

- With `reconcile_interval_days: 0` the next run reads those streams in full: every deleted record
  (and its child rows) is marked deleted by the database's rule (docs/operations.md), no live
  record is, and the live rows are exactly the sandbox's; the changed old records show their new values.
- With the default interval (7 days) the next run is incremental: the deletions that change capture
  sees (a 404 on retrieving a record that was open) are marked at once, the others stay live until
  the next full read, and late changes to old orders and invoices land all the same; a run with
  `reconcile_interval_days: 0` then marks the rest.

For DuckDB, the dbt staging models are built too: they keep exactly the sandbox's records.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from orderspace_sandbox import Sandbox

from tap_orderspace.streams import OPEN_ORDER_STATUSES

from .support import (
    PARENTS,
    SYNCED_KEYS,
    DuckDBWarehouse,
    MeltanoProject,
    PostgresWarehouse,
    Warehouse,
    assert_same,
    assert_tables_match_sandbox,
    declare_tap_setting,
    plain,
    sandbox_keys,
    sandbox_rows,
)

DELETIONS = {"delete_orders": 4, "delete_customers": 2, "delete_invoices": 3, "delete_products": 1}
LATE_CHANGES = {
    "release_old_orders": 2,
    "cancel_old_orders": 2,
    "pay_old_invoices": 3,
    "dispatch_old_orders": 2,
    "edit_customers": 3,
}
DELETABLE = ("orders", "customers", "invoices", "products", "inventory_levels")
STAGING_SCHEMA = "analytics_staging"


@pytest.fixture(params=["target-duckdb", "target-postgres"], ids=["duckdb", "postgres"])
def loader(request: pytest.FixtureRequest, meltano_project: MeltanoProject) -> tuple[str, Callable[[], Warehouse]]:
    """A loader set up for this test, and how to open what it loaded."""
    declare_tap_setting(meltano_project, "reconcile_interval_days", "integer")
    if request.param == "target-duckdb":
        path = request.getfixturevalue("duckdb_target")
        return request.param, lambda: DuckDBWarehouse(path)
    url = request.getfixturevalue("postgres_target")
    return request.param, lambda: PostgresWarehouse(url)


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
        if gone and not dead_rows and stream != "dispatch_lines":
            problems.append(f"{stream}: no row marked deleted, though {len(gone)} {parent} were")
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


def test_reconciling_every_run_marks_every_deletion_and_lands_late_changes(
    meltano_project: MeltanoProject,
    loader: tuple[str, Callable[[], Warehouse]],
    sandbox: Sandbox,
    request: pytest.FixtureRequest,
) -> None:
    name, open_warehouse = loader
    dbt_project = request.getfixturevalue("dbt_project") if name == "target-duckdb" else None
    meltano_project.run("tap-orderspace", name)
    deleted, _ = change_the_site(sandbox)

    meltano_project.env["TAP_ORDERSPACE_RECONCILE_INTERVAL_DAYS"] = "0"
    meltano_project.run("tap-orderspace", name)

    warehouse = open_warehouse()
    try:
        assert_tables_match_sandbox(warehouse, sandbox)
        assert_deletions(warehouse, sandbox, deleted)
        assert_late_changes_landed(warehouse, sandbox, customers=True)
    finally:
        warehouse.close()

    if dbt_project is not None:
        assert_staging_models_keep_live_records(meltano_project, dbt_project, sandbox)


def assert_staging_models_keep_live_records(project: MeltanoProject, dbt_project: Path, sb: Sandbox) -> None:
    models = [f"stg_orderspace__{stream}" for stream in ("orders", "order_lines", "invoices", "customers", "products")]
    project.meltano("invoke", "dbt-duckdb", "run", "--select", *models)
    path = Path(project.env["TARGET_DUCKDB_FILEPATH"])
    warehouse = DuckDBWarehouse(path)
    try:
        for stream in ("orders", "order_lines", "invoices", "customers", "products"):
            table = f'"{warehouse.catalog}"."{STAGING_SCHEMA}"."stg_orderspace__{stream}"'
            ids = {row[0] for row in warehouse.rows(f"select {stream.rstrip('s')}_id from {table}")}  # noqa: S608
            assert ids == {k[0] for k in sandbox_keys(sb, stream)}, stream
    finally:
        warehouse.close()


def test_with_the_default_interval_deletions_seen_by_change_capture_are_marked_at_once(
    meltano_project: MeltanoProject, loader: tuple[str, Callable[[], Warehouse]], sandbox: Sandbox
) -> None:
    name, open_warehouse = loader
    meltano_project.run("tap-orderspace", name)
    deleted, open_before = change_the_site(sandbox)

    # Within the interval: incremental reads and change capture only.
    meltano_project.run("tap-orderspace", name)
    # A record open at the last run is listed again or retrieved: a 404 marks it. Closed orders and
    # paid invoices, customers, products (and their stock) wait for the next full read.
    seen = {stream: deleted[stream] & open_before.get(stream, set()) for stream in DELETABLE}
    waiting = {stream: deleted[stream] - seen[stream] for stream in DELETABLE}
    assert seen["orders"] and seen["invoices"] and waiting["orders"] and waiting["customers"]
    warehouse = open_warehouse()
    try:
        assert_deletions(warehouse, sandbox, seen, waiting)
        assert_late_changes_landed(warehouse, sandbox, customers=False)
        # What change capture saw is in deleted_records, once per record.
        noted = warehouse.rows(f"select stream, id from {warehouse.table('deleted_records')}")  # noqa: S608
        assert sorted(noted) == sorted((s, i) for s, ids in seen.items() for i in ids)
    finally:
        warehouse.close()

    # The next full read marks the rest.
    meltano_project.env["TAP_ORDERSPACE_RECONCILE_INTERVAL_DAYS"] = "0"
    meltano_project.run("tap-orderspace", name)
    warehouse = open_warehouse()
    try:
        assert_tables_match_sandbox(warehouse, sandbox)
        assert_deletions(warehouse, sandbox, deleted)
        assert_late_changes_landed(warehouse, sandbox, customers=True)
    finally:
        warehouse.close()
