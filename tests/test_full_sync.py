"""A full sync against the sandbox: every record of every stream, valid, nothing dropped."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import jsonschema
import pytest
from orderspace_sandbox import Sandbox
from tap_process import TapRun, catalog_selecting, run_tap, tap_config

PAGINATED = ["customers", "orders", "dispatches", "invoices", "products", "inventory_levels", "categories"]
UNPAGINATED = ["customer_groups", "price_lists", "payment_terms", "tax_rates", "preorder_windows"]
CHILDREN = {
    "order_lines": ("orders", "order_lines", "order_id"),
    "invoice_lines": ("invoices", "invoice_lines", "invoice_id"),
    "invoice_payments": ("invoices", "payments", "invoice_id"),
    "dispatch_lines": ("dispatches", "dispatch_lines", "dispatch_id"),
    "product_variants": ("products", "product_variants", "product_id"),
}
KEYS = {"inventory_levels": "sku"}


@pytest.fixture(scope="module")
def synced() -> Iterator[tuple[Sandbox, TapRun]]:
    with Sandbox(seed=11, orders=900, rate_limit=None) as sb:
        run = run_tap(tap_config(sb))
        assert run.returncode == 0, run.stderr[-3000:]
        yield sb, run


def test_discovers_exactly_the_streams_with_their_keys(shared_sandbox: Sandbox) -> None:
    catalog = json.loads(run_tap(tap_config(shared_sandbox), "--discover").stdout)
    found = {entry["tap_stream_id"]: entry["key_properties"] for entry in catalog["streams"]}
    assert found == {
        **{name: [KEYS.get(name, "id")] for name in PAGINATED + UNPAGINATED},
        "order_lines": ["id"],
        "invoice_lines": ["invoice_id", "position"],
        "invoice_payments": ["invoice_id", "position"],
        "dispatch_lines": ["dispatch_id", "position"],
        "product_variants": ["id"],
        "deleted_records": ["stream", "id"],
        "reconciliations": ["stream", "version"],
        "sync_runs": ["stream", "run_started_at"],
    }


@pytest.mark.parametrize("stream", PAGINATED + UNPAGINATED)
def test_every_record_arrives_exactly_as_the_api_holds_it(synced: tuple[Sandbox, TapRun], stream: str) -> None:
    sb, run = synced
    expected = sb.records(stream)
    emitted = run.records[stream]
    key = KEYS.get(stream, "id")
    assert len(expected) > 0
    assert sorted(r[key] for r in emitted) == sorted(r[key] for r in expected)
    schema = run.schemas[stream]["schema"]
    documented = set(schema["properties"])
    by_key = {r[key]: r for r in emitted}
    for record in expected:
        got = by_key[record[key]]
        # Every documented field arrives with the API's value; the others in `undocumented_fields`.
        undocumented = {k: v for k, v in record.items() if k not in documented}
        assert got == {
            **{k: v for k, v in record.items() if k in documented},
            **({"undocumented_fields": undocumented} if undocumented else {}),
        }


@pytest.mark.parametrize("stream", PAGINATED + UNPAGINATED + list(CHILDREN))
def test_every_record_is_valid_against_the_emitted_schema(synced: tuple[Sandbox, TapRun], stream: str) -> None:
    sb, run = synced
    records = run.records[stream]
    # Every row the sandbox holds, so that no stream passes for having emitted nothing to check.
    assert len(records) == sb.totals()[stream] > 0
    validator = jsonschema.Draft7Validator(run.schemas[stream]["schema"], format_checker=jsonschema.FormatChecker())
    for record in records:
        validator.validate(record)


@pytest.mark.parametrize("child", list(CHILDREN))
def test_child_rows_equal_the_flattened_nested_arrays(synced: tuple[Sandbox, TapRun], child: str) -> None:
    sb, run = synced
    parent, array, parent_key = CHILDREN[child]
    expected = [
        (parent_record["id"], position, item)
        for parent_record in sb.records(parent)
        for position, item in enumerate(parent_record.get(array) or [])
    ]
    rows = run.records[child]
    assert len(rows) == len(expected) == sb.totals()[child]
    got = {(row[parent_key], row["position"]): row for row in rows}
    for parent_id, position, item in expected:
        row = got[(parent_id, position)]
        assert {k: row[k] for k in item if k in row} == {k: v for k, v in item.items() if k in row}
    primary_key = run.schemas[child]["key_properties"]
    assert len({tuple(row[k] for k in primary_key) for row in rows}) == len(rows)


def test_requests_per_paginated_stream_are_the_minimum(synced: tuple[Sandbox, TapRun]) -> None:
    sb, _ = synced
    stats = sb.stats()["requests"]
    for stream in PAGINATED:
        assert stats[stream] == max(1, math.ceil(len(sb.records(stream)) / 200)), stream
    for stream in UNPAGINATED:
        assert stats[stream] == 1


def test_final_state_holds_bookmarks_and_no_progress(synced: tuple[Sandbox, TapRun]) -> None:
    _, run = synced
    bookmarks = run.final_state["bookmarks"]
    for stream in ("customers", "orders", "dispatches"):
        assert bookmarks[stream]["replication_key_value"]
    for stream in ("invoices", "products", "inventory_levels"):
        assert bookmarks[stream]["extraction_started_at"]
    assert not any("in_progress" in entry or "progress_markers" in entry for entry in bookmarks.values())


def test_a_first_sync_is_a_complete_read_activated_as_one_table_version(synced: tuple[Sandbox, TapRun]) -> None:
    _, run = synced
    activated = {m["stream"]: m["version"] for m in run.messages if m["type"] == "ACTIVATE_VERSION"}
    assert set(activated) >= {*PAGINATED, *UNPAGINATED, *CHILDREN}
    for stream, version in activated.items():
        assert {r.get("version") for r in run.messages if r["type"] == "RECORD" and r["stream"] == stream} == {version}
        last_record = max(i for i, m in enumerate(run.messages) if m["type"] == "RECORD" and m["stream"] == stream)
        activation = next(
            i for i, m in enumerate(run.messages) if m["type"] == "ACTIVATE_VERSION" and m["stream"] == stream
        )
        assert activation > last_record, f"{stream}: a version is activated only after its last record"
    reconciled = {row["stream"] for row in run.records["reconciliations"]}
    assert reconciled == set(activated)


def test_the_run_log_counts_what_each_stream_emitted(synced: tuple[Sandbox, TapRun]) -> None:
    sb, run = synced
    rows = run.records["sync_runs"]
    completed = {row["stream"]: row for row in rows if row["completed_at"] is not None}
    assert set(completed) == {*PAGINATED, *UNPAGINATED, *CHILDREN}
    assert len({row["run_started_at"] for row in rows}) == 1
    for stream, row in completed.items():
        assert row["records"] == len(run.records[stream]) > 0, row
        assert row["requests"] == (sb.stats()["requests"].get(stream, 0) if stream not in CHILDREN else 0), row
    # Each stream's row goes out as its read starts (completed_at null), then again when it completes.
    started = [row["stream"] for row in rows if row["completed_at"] is None]
    assert sorted(started) == sorted(completed)
    assert completed["orders"]["mode"] == "reconcile"
    assert completed["categories"]["mode"] == "full_table"


def test_selecting_only_a_child_reads_its_parent_without_emitting_it(sandbox: Sandbox) -> None:
    config = tap_config(sandbox)
    run = run_tap(config, catalog=catalog_selecting(["order_lines"], config))
    assert run.returncode == 0, run.stderr[-3000:]
    assert set(run.records) == {"order_lines"}
    assert len(run.records["order_lines"]) == sandbox.totals()["order_lines"]
    assert sandbox.stats()["requests"].get("orders") == math.ceil(len(sandbox.records("orders")) / 200)
    assert set(sandbox.stats()["requests"]) == {"orders"}
