"""Change capture and deletions, end to end over HTTP against the sandbox.

Changes of any age (a preorder released, an invoice paid, an order dispatched, a year
after it was created) reach the next incremental run at a cost that grows with what is
open or changed; deletions are marked by a reconciliation (ACTIVATE_VERSION and a
`reconciliations` row) or at once when a retrieve answers 404; no live record is ever
marked deleted.
"""

from __future__ import annotations

import math
import signal
import typing as t

import requests
from orderspace_sandbox import Sandbox
from tap_process import TapRun, catalog_selecting, run_tap, tap_config

OPEN_STATUSES = {"new", "invoiced", "released", "part_fulfilled", "preorder", "standing_order"}


def incremental_config(sb: Sandbox, **overrides: t.Any) -> dict[str, t.Any]:
    # No lookback: every old record re-read below is re-read by change capture alone.
    return tap_config(sb, lookback_window_days=0, **overrides)


def ok(run: TapRun) -> TapRun:
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    return run


def list_requests(sb: Sandbox, resource: str) -> list[dict[str, t.Any]]:
    return [e for e in sb.stats()["log"] if e["resource"] == resource and "id" not in e]


def retrieves(sb: Sandbox, resource: str) -> list[str]:
    return [e["id"] for e in sb.stats()["log"] if e["resource"] == resource and "id" in e]


def api_delete(sb: Sandbox, resource: str, record_id: str) -> None:
    """`DELETE /v1/<resource>/<id>`, as a person deleting a record in Orderspace does."""
    credentials = {**sb.config(), "grant_type": "client_credentials"}
    token = requests.post(sb.auth_url, data=credentials, timeout=10).json()["access_token"]
    answer = requests.delete(
        f"{sb.api_url}/{resource}/{record_id}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    answer.raise_for_status()


def activated(run: TapRun) -> dict[str, int]:
    return {m["stream"]: m["version"] for m in run.messages if m["type"] == "ACTIVATE_VERSION"}


def test_late_changes_to_records_older_than_a_year_arrive_in_the_next_run() -> None:
    with Sandbox(seed=41, orders=3000, rate_limit=None) as sb:
        config = incremental_config(sb)
        first = ok(run_tap(config))
        open_orders = {r["id"] for r in sb.records("orders") if r["status"] in OPEN_STATUSES}
        assert set(first.final_state["bookmarks"]["orders"]["open_ids"]) == open_orders
        unpaid = {r["id"] for r in sb.records("invoices") if r["paid"] is False}
        assert set(first.final_state["bookmarks"]["invoices"]["open_ids"]) == unpaid

        changes = sb.mutate(
            release_old_orders=3, cancel_old_orders=3, pay_old_invoices=4, dispatch_old_orders=3, older_than_days=365
        )
        changed_orders = set(changes["updated"]["orders"])
        changed_invoices = set(changes["updated"]["invoices"])
        assert len(changed_orders) >= 6 and len(changed_invoices) >= 4
        sb.reset_stats()
        second = ok(run_tap(config, state=first.final_state))

        current = {r["id"]: r for r in sb.records("orders")}
        emitted = {r["id"]: r for r in second.records["orders"]}
        for order_id in changed_orders:
            assert emitted[order_id]["status"] == current[order_id]["status"], order_id
            assert emitted[order_id]["order_lines"] == current[order_id]["order_lines"], order_id
        current_invoices = {r["id"]: r for r in sb.records("invoices")}
        emitted_invoices = {r["id"]: r for r in second.records["invoices"]}
        for invoice_id in changed_invoices:
            assert emitted_invoices[invoice_id] == {
                k: v for k, v in current_invoices[invoice_id].items() if k in emitted_invoices[invoice_id]
            }
        # The lines of every re-read order come along, with their new quantities.
        lines = {row["id"]: row for row in second.records["order_lines"]}
        for order_id in changed_orders:
            for line in current[order_id]["order_lines"]:
                assert lines[line["id"]]["dispatched"] == line["dispatched"]

        # The cost grows with what is open or changed, not with history: the window, one
        # list per open status, and one retrieve per order that changed.
        status_pages = sum(
            max(1, math.ceil(sum(1 for r in sb.records("orders") if r["status"] == s) / 200)) for s in OPEN_STATUSES
        )
        assert len(list_requests(sb, "orders")) == 1 + status_pages
        named = {o["id"] for inv in second.records["invoices"] for o in inv["orders"] or []}
        named |= {d["order_id"] for d in second.records["dispatches"]}
        retrieved = retrieves(sb, "orders")
        assert len(retrieved) == len(set(retrieved)) <= len(changed_orders | named) + len(changed_invoices) * 2
        assert changed_orders - set(retrieved) <= {o for o in changed_orders if current[o]["status"] in OPEN_STATUSES}
        assert len(list_requests(sb, "invoices")) == 2
        assert sorted(retrieves(sb, "invoices")) == sorted(changed_invoices)


def test_a_reconciling_run_marks_deletions_anywhere_in_history_and_no_live_record() -> None:
    with Sandbox(seed=42, orders=1500, rate_limit=None) as sb:
        config = incremental_config(sb, reconcile_interval_days=0)
        first = ok(run_tap(config))
        deleted = sb.mutate(delete_orders=5, delete_customers=3, delete_invoices=4, delete_products=2)["deleted"]
        second = ok(run_tap(config, state=first.final_state))

        versions = activated(second)
        for stream in ("orders", "customers", "invoices", "products", "inventory_levels", "order_lines"):
            assert stream in versions, stream
            # The reconciling read emits exactly the live records, all in the activated version:
            # a loader marks every other row deleted, and only those.
            key = "sku" if stream == "inventory_levels" else "id"
            live = {r[key] for r in sb.records(stream)} if stream != "order_lines" else None
            rows = [m for m in second.messages if m["type"] == "RECORD" and m["stream"] == stream]
            assert {m["version"] for m in rows} == {versions[stream]}, stream
            if live is not None:
                assert {m["record"][key] for m in rows} == live, stream
        for stream in ("orders", "customers", "invoices", "products"):
            assert not set(deleted[stream]) & set(second.keys(stream)), stream
        reconciled = {row["stream"]: row for row in second.records["reconciliations"]}
        assert set(reconciled) == set(versions)
        assert all(row["started_at"] <= row["completed_at"] for row in reconciled.values())


def test_a_deleted_open_record_is_marked_at_once_by_the_404_of_its_retrieve() -> None:
    with Sandbox(seed=43, orders=1500, rate_limit=None) as sb:
        config = incremental_config(sb)  # the default interval: no reconciliation on the second run
        first = ok(run_tap(config))
        open_ids = first.final_state["bookmarks"]["orders"]["open_ids"]
        unpaid = first.final_state["bookmarks"]["invoices"]["open_ids"]
        for order_id in open_ids[:2]:
            api_delete(sb, "orders", order_id)
        api_delete(sb, "invoices", unpaid[0])
        second = ok(run_tap(config, state=first.final_state))
        marks = {(row["stream"], row["id"]) for row in second.records["deleted_records"]}
        assert marks == {("orders", open_ids[0]), ("orders", open_ids[1]), ("invoices", unpaid[0])}
        assert "orders" not in activated(second)
        assert not set(open_ids[:2]) & set(second.final_state["bookmarks"]["orders"]["open_ids"])


def test_a_killed_reconciliation_activates_nothing_and_its_resume_one_version() -> None:
    with Sandbox(seed=44, orders=2400, rate_limit=None) as sb:
        config = incremental_config(sb, reconcile_interval_days=0)
        catalog = catalog_selecting(["orders", "order_lines", "reconciliations"], config)
        first = ok(run_tap(config, catalog=catalog))
        sb.mutate(delete_orders=4)

        def after_three_order_pages(lines: list[str]) -> bool:
            return sum('"type":"STATE"' in line and "in_progress" in line for line in lines) >= 3

        killed = run_tap(
            config,
            state=first.final_state,
            catalog=catalog,
            stop_after_lines=after_three_order_pages,
            stop_signal=signal.SIGTERM,
        )
        assert killed.returncode == 128 + signal.SIGTERM
        assert not activated(killed), "a read that did not complete activates nothing"
        progress = killed.final_state["bookmarks"]["orders"]["in_progress"]
        assert progress["version"]

        resumed = ok(run_tap(config, state=killed.final_state, catalog=catalog))
        assert activated(resumed)["orders"] == progress["version"]
        read = set(killed.keys("orders")) | set(resumed.keys("orders"))
        assert read == {r["id"] for r in sb.records("orders")}
        reconciled = {row["stream"]: row for row in resumed.records["reconciliations"]}
        assert reconciled["orders"]["version"] == progress["version"]
        # The bound for loaders that read it: every row of the read was extracted after it.
        first_extracted = min(
            m["time_extracted"] for m in killed.messages if m.get("stream") == "orders" and "time_extracted" in m
        )
        assert reconciled["orders"]["started_at"] <= first_extracted


def test_with_the_server_clock_behind_products_and_stock_changed_between_runs_are_read() -> None:
    with Sandbox(seed=45, orders=400, rate_limit=None, clock_offset=-120) as sb:
        config = incremental_config(sb)
        first = ok(run_tap(config))
        bookmark = first.final_state["bookmarks"]["products"]["extraction_started_at"]
        changes = sb.mutate(update_products=5, update_stock=6)
        second = ok(run_tap(config, state=first.final_state))
        assert set(changes["updated"]["products"]) <= set(second.keys("products"))
        assert set(changes["updated"]["inventory_levels"]) <= set(second.keys("inventory_levels", "sku"))
        # The bookmark is the server's time, two minutes behind this machine's.
        first_page_extracted = next(
            m["time_extracted"] for m in first.messages if m["type"] == "RECORD" and m["stream"] == "products"
        )
        assert bookmark < first_page_extracted[:19]
        assert second.final_state["bookmarks"]["products"]["extraction_started_at"] >= bookmark


def test_a_child_table_selected_later_gets_its_parents_history() -> None:
    with Sandbox(seed=46, orders=700, rate_limit=None) as sb:
        config = incremental_config(sb)
        first = ok(run_tap(config, catalog=catalog_selecting(["orders"], config)))
        both = catalog_selecting(["orders", "order_lines"], config)
        second = ok(run_tap(config, state=first.final_state, catalog=both))
        assert len(second.records["order_lines"]) == sb.totals()["order_lines"]
        third = ok(run_tap(config, state=second.final_state, catalog=both))
        assert len(third.records["order_lines"]) < sb.totals()["order_lines"] / 2


def test_customers_in_the_live_shape_land_their_creation_time_and_bookmark_it() -> None:
    with Sandbox(seed=47, orders=900, rate_limit=None, customer_time_field="created") as sb:
        config = incremental_config(sb)
        catalog = catalog_selecting(["customers"], config)
        first = ok(run_tap(config, catalog=catalog))
        assert all(r["created_at"] for r in first.records["customers"])
        assert all("created" not in r for r in first.records["customers"])
        assert first.final_state["bookmarks"]["customers"]["replication_key_value"]
        new = set(sb.mutate(new_customers=3)["created"]["customers"])
        second = ok(run_tap(config, state=first.final_state, catalog=catalog))
        assert new <= set(second.keys("customers"))
        assert len(second.records["customers"]) <= len(new) + 4
        # Fields no schema lists reach the output, named once in a WARNING.
        assert all(
            r["undocumented_fields"] and "website" in r["undocumented_fields"] for r in first.records["customers"]
        )
        assert "website" in first.stderr and "undocumented_fields" in first.stderr


def test_a_start_date_in_the_future_reads_nothing_and_marks_nothing_deleted() -> None:
    with Sandbox(seed=48, orders=300, rate_limit=None) as sb:
        config = incremental_config(sb, reconcile_interval_days=0)
        first = ok(run_tap(config))
        future = ok(run_tap({**config, "start_date": "2099-01-01T00:00:00Z"}, state=first.final_state))
        assert not {"orders", "dispatches", "invoices", "order_lines"} & set(activated(future))
        assert "start_date 2099-01-01T00:00:00Z of 'orders' is in the future" in future.stderr
        assert not future.records["orders"]
        assert future.final_state["bookmarks"]["invoices"] == first.final_state["bookmarks"]["invoices"]


def test_an_empty_page_that_says_more_follow_in_an_open_list_is_asked_again() -> None:
    with Sandbox(seed=49, orders=600, rate_limit=None) as sb:
        config = incremental_config(sb)
        catalog = catalog_selecting(["orders"], config)
        first = ok(run_tap(config, catalog=catalog))
        sb.reset_stats()
        # The second run's orders requests: the window, then the open-status lists.
        sb.add_fault(resource="orders", nth=3, kind="empty_has_more", times=1)
        second = ok(run_tap(config, state=first.final_state, catalog=catalog))
        open_now = {r["id"] for r in sb.records("orders") if r["status"] in OPEN_STATUSES}
        assert open_now <= set(second.keys("orders"))
        assert set(second.final_state["bookmarks"]["orders"]["open_ids"]) == open_now
