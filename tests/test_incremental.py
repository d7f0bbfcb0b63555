"""Incremental runs: new and changed records, shared seconds, lookback, resume after a crash."""

from __future__ import annotations

import math
import signal
import time
import typing as t

import pytest
from orderspace_sandbox import Sandbox
from tap_process import TapRun, catalog_selecting, run_tap, tap_config

CREATED = {"customers": "created_at", "orders": "created", "dispatches": "created"}


def first_sync(sb: Sandbox, **config_overrides: object) -> tuple[dict[str, t.Any], TapRun]:
    config = tap_config(sb, **{"lookback_window_days": 0, **config_overrides})
    first = run_tap(config)
    assert first.returncode == 0, first.stderr[-3000:]
    return config, first


def test_second_run_emits_every_change_and_almost_nothing_old() -> None:
    with Sandbox(seed=21, orders=700, rate_limit=None) as sb:
        config, first = first_sync(sb)
        bookmarks = first.final_state["bookmarks"]
        time.sleep(1.1)  # changes land after the first run's extraction began
        changes = sb.mutate(
            new_orders=230,
            new_customers=7,
            new_dispatches=12,
            new_invoices=9,
            update_products=5,
            update_stock=8,
            same_second=True,
        )
        sb.reset_stats()
        second = run_tap(config, state=first.final_state)
        assert second.returncode == 0, second.stderr[-3000:]

        # Change capture re-reads the orders open at the first run, and those a new dispatch
        # or invoice names; nothing else old is read again.
        recaptured = set(bookmarks["orders"]["open_ids"]) | {r["order_id"] for r in second.records["dispatches"]}
        recaptured |= {o["id"] for r in second.records["invoices"] for o in r["orders"] or []}
        for stream, field in CREATED.items():
            created_ids = set(changes["created"][stream])
            emitted = second.records[stream]
            assert created_ids <= {r["id"] for r in emitted}, stream
            old = [r for r in emitted if r["id"] not in created_ids]
            # Only records sharing the bookmark's second are read again.
            assert all(
                r[field] == bookmarks[stream]["replication_key_value"] or (stream == "orders" and r["id"] in recaptured)
                for r in old
            ), stream

        assert set(changes["created"]["invoices"]) <= set(second.keys("invoices"))
        assert set(changes["updated"]["products"]) <= set(second.keys("products"))
        assert set(changes["updated"]["inventory_levels"]) <= set(second.keys("inventory_levels", "sku"))
        assert len(second.records["products"]) < len(first.records["products"])

        # Child tables follow their parents' windows: the lines of the orders read, no others.
        read_orders = {r["id"]: r for r in second.records["orders"]}
        line_parents = [row["order_id"] for row in second.records["order_lines"]]
        assert set(line_parents) <= set(read_orders)
        assert len(line_parents) == sum(len(r["order_lines"] or []) for r in read_orders.values())
        assert len(second.records["order_lines"]) < len(first.records["order_lines"])

        requests = sb.stats()["requests"]
        window_pages = [e for e in sb.stats()["log"] if e["resource"] == "orders" and "created_since" in e["params"]]
        assert len(window_pages) == math.ceil(230 / 200)
        assert requests["orders"] < math.ceil(len(sb.records("orders")) / 200) + 6 + len(recaptured)
        for stream in ("customers", "dispatches", "products", "inventory_levels"):
            assert requests[stream] == 1, stream
        invoice_lists = [e["params"] for e in sb.stats()["log"] if e["resource"] == "invoices"]
        assert sum("created_since" in p for p in invoice_lists) == 1
        assert sum(p.get("paid") == "false" for p in invoice_lists) == 1


def test_records_created_in_the_bookmark_second_after_a_run_are_not_lost() -> None:
    with Sandbox(seed=22, orders=120, rate_limit=None) as sb:
        config, _ = first_sync(sb)
        sb.mutate(new_orders=3, same_second=True)
        middle = run_tap(config, state=run_tap(config).final_state)
        # Whatever happens to the clock, force the boundary case: orders created in
        # the very second the previous run bookmarked, after it ran.
        boundary = middle.final_state["bookmarks"]["orders"]["replication_key_value"]
        late = sb.mutate(new_orders=2, same_second=True, at=boundary)["created"]["orders"]
        last = run_tap(config, state=middle.final_state)
        assert set(late) <= set(last.keys("orders"))
        open_before = set(middle.final_state["bookmarks"]["orders"]["open_ids"])
        assert all(r["created"] >= boundary or r["id"] in open_before for r in last.records["orders"])


def test_changed_orders_and_invoices_are_read_again() -> None:
    with Sandbox(seed=23, orders=300, rate_limit=None) as sb:
        config, first = first_sync(sb, lookback_window_days=10_000)
        changes = sb.mutate(update_orders=4, update_invoices=3)
        second = run_tap(config, state=first.final_state)
        current = {r["id"]: r for r in sb.records("orders")}
        emitted = {r["id"]: r for r in second.records["orders"]}
        for order_id in changes["updated"]["orders"]:
            assert emitted[order_id]["status"] == current[order_id]["status"]
        assert set(changes["updated"]["invoices"]) <= set(second.keys("invoices"))


def test_start_date_bounds_history_but_not_reference_data() -> None:
    with Sandbox(seed=24, orders=300, rate_limit=None) as sb:
        orders = sorted(r["created"] for r in sb.records("orders"))
        start = orders[len(orders) // 2]
        run = run_tap(tap_config(sb, start_date=start))
        assert run.returncode == 0, run.stderr[-3000:]
        assert sorted(run.keys("orders")) == sorted(r["id"] for r in sb.records("orders") if r["created"] >= start)
        assert len(run.records["customers"]) == len(sb.records("customers"))
        assert len(run.records["products"]) == len(sb.records("products"))


@pytest.mark.parametrize("where", ["entry", "metadata"])
def test_catalog_can_switch_an_incremental_stream_to_full_table(where: str) -> None:
    """Either the catalog entry's `replication_method` or the `replication-method` metadata
    that Meltano's `metadata:` extra writes."""
    with Sandbox(seed=25, orders=250, rate_limit=None) as sb:
        config, first = first_sync(sb)
        catalog = catalog_selecting(["orders"], config)
        for entry in catalog["streams"]:
            if entry["tap_stream_id"] == "orders":
                if where == "entry":
                    entry["replication_method"] = "FULL_TABLE"
                else:
                    root = next(m for m in entry["metadata"] if m["breadcrumb"] == [])
                    root["metadata"]["replication-method"] = "FULL_TABLE"
        second = run_tap(config, state=first.final_state, catalog=catalog)
        assert sorted(second.keys("orders")) == sorted(r["id"] for r in sb.records("orders"))


def _killed_after_pages(stream: str, pages: int) -> t.Callable[[list[str]], bool]:
    """Kill the tap once it has emitted `pages` in-progress STATE messages for `stream`."""

    def should_stop(lines: list[str]) -> bool:
        line = lines[-1]
        return (
            line.startswith('{"type":"STATE"')
            and f'"{stream}":' in line
            and line.count('"in_progress"') >= 1
            and sum(1 for seen in lines if seen.startswith('{"type":"STATE"') and '"in_progress"' in seen) >= pages
        )

    return should_stop


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_stopped_first_sync_resumes_with_at_most_one_page_repeated(stop: signal.Signals) -> None:
    with Sandbox(seed=26, orders=1900, rate_limit=None) as sb:
        config = tap_config(sb, start_date="2000-01-01T00:00:00Z", max_requests_per_minute=1200)
        catalog = catalog_selecting(["customers", "orders"], config)
        # customers sorts before orders: it completes, then orders stops mid-stream.
        first = run_tap(config, catalog=catalog, stop_after_lines=_killed_after_pages("orders", 5), stop_signal=stop)
        assert first.returncode == (-signal.SIGKILL if stop == signal.SIGKILL else 128 + signal.SIGTERM)
        if stop == signal.SIGTERM:
            assert "stopped by SIGTERM" in first.stderr
            assert "Traceback" not in first.stderr
        last_state = first.final_state
        assert "in_progress" in last_state["bookmarks"]["orders"]
        assert "in_progress" not in last_state["bookmarks"]["customers"]
        delivered = first.keys("orders")
        assert 0 < len(delivered) < len(sb.records("orders"))

        sb.reset_stats()
        resumed = run_tap(config, state=last_state, catalog=catalog)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        union = set(delivered) | set(resumed.keys("orders"))
        assert union == {r["id"] for r in sb.records("orders")}
        repeated = set(delivered) & set(resumed.keys("orders"))
        assert len(repeated) <= 200
        assert "in_progress" not in resumed.final_state["bookmarks"]["orders"]
        # customers had completed: it starts from its bookmark, not from scratch.
        assert len(resumed.records["customers"]) < len(sb.records("customers"))


def test_a_sync_failing_mid_stream_resumes_from_its_last_state() -> None:
    with Sandbox(seed=27, orders=1200, rate_limit=None) as sb:
        config = tap_config(sb)
        catalog = catalog_selecting(["orders", "order_lines"], config)
        sb.add_fault(resource="orders", nth=4, kind="status", status=400)
        first = run_tap(config, catalog=catalog)
        assert first.returncode == 1
        assert len(first.keys("orders")) == 600
        sb.clear_faults()
        sb.reset_stats()
        resumed = run_tap(config, state=first.final_state, catalog=catalog)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert sorted(first.keys("orders") + resumed.keys("orders")) == sorted(r["id"] for r in sb.records("orders"))
        lines = first.keys("order_lines") + resumed.keys("order_lines")
        assert len(lines) == len(set(lines)) == sb.totals()["order_lines"]
        assert sb.stats()["requests"]["orders"] == math.ceil(600 / 200)


def test_a_saved_cursor_the_api_refuses_rereads_the_window_instead_of_failing() -> None:
    with Sandbox(seed=28, orders=500, rate_limit=None) as sb:
        config = tap_config(sb)
        catalog = catalog_selecting(["orders"], config)
        progress = {
            "since": None,
            "starting_after": "or_gone0000",
            "newest_seen": None,
            "started_at": "2026-01-02T00:00:00Z",
        }
        state = {"bookmarks": {"orders": {"in_progress": progress}}}
        run = run_tap(config, state=state, catalog=catalog)
        assert run.returncode == 0, run.stderr[-3000:]
        assert sorted(run.keys("orders")) == sorted(r["id"] for r in sb.records("orders"))
        assert "refused the saved cursor or_gone0000" in run.stderr
        assert "in_progress" not in run.final_state["bookmarks"]["orders"]
