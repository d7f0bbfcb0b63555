"""`mutate`: records created and changed at the real clock's time, keeping referential integrity."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from orderspace_sandbox import Sandbox


def by_id(sandbox: Sandbox, resource: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in sandbox.records(resource)}


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_new_records_are_listed_first_at_the_current_time(sandbox: Sandbox) -> None:
    before = now_iso()
    made = sandbox.mutate(new_customers=3, new_orders=10, new_dispatches=4, new_invoices=4)["created"]
    after = now_iso()
    assert [len(made[k]) for k in ("customers", "orders", "dispatches", "invoices")] == [3, 10, 4, 4]
    for resource, field in (("customers", "created_at"), ("orders", "created"), ("dispatches", "created")):
        records = sandbox.records(resource)
        newest = records[: len(made[resource])]
        assert {r["id"] for r in newest} == set(made[resource])
        assert all(before <= r[field] <= after for r in newest)
    totals = sandbox.totals()
    assert totals["orders"] == 460
    assert totals["customers"] == len(sandbox.records("customers"))


def test_new_records_keep_referential_integrity(sandbox: Sandbox) -> None:
    made = sandbox.mutate(new_customers=2, new_products=2, new_orders=8, new_dispatches=6, new_invoices=6)["created"]
    customers = by_id(sandbox, "customers")
    orders = by_id(sandbox, "orders")
    skus = {level["sku"] for level in sandbox.records("inventory_levels")}
    for order_id in made["orders"]:
        order = orders[order_id]
        assert order["customer_id"] in customers
        # New, or already dispatched or invoiced by the same call.
        assert order["status"] in ("new", "standing_order", "invoiced", "part_fulfilled", "fulfilled")
        assert all(line["sku"] in skus for line in order["order_lines"] if line["sku"])
    for dispatch in (d for d in sandbox.records("dispatches") if d["id"] in made["dispatches"]):
        order = orders[dispatch["order_id"]]
        lines = {line["id"]: line for line in order["order_lines"]}
        assert dispatch["order_number"] == order["number"]
        for item in dispatch["dispatch_lines"]:
            assert lines[item["order_line_id"]]["sku"] == item["sku"]
            assert lines[item["order_line_id"]]["dispatched"] >= item["quantity"]
        assert order["status"] in ("fulfilled", "part_fulfilled")
    for invoice in (i for i in sandbox.records("invoices") if i["id"] in made["invoices"]):
        order = orders[invoice["orders"][0]["id"]]
        assert invoice["customer_id"] == order["customer_id"]
        lines = {line["id"]: line for line in order["order_lines"]}
        for item in invoice["invoice_lines"]:
            if item["order_line_id"] is not None:
                assert lines[item["order_line_id"]]["invoiced"] == item["quantity"]
    categories = {c["id"]: c for c in sandbox.records("categories")}
    for product in (p for p in sandbox.records("products") if p["id"] in made["products"]):
        for category in product["categories"]:
            assert product["id"] in [p["product_id"] for p in categories[category["id"]]["products"]]
    assert set(made["inventory_levels"]) <= skus


def test_same_second_gives_every_new_record_one_created_second(sandbox: Sandbox) -> None:
    made = sandbox.mutate(new_customers=3, new_orders=5, new_dispatches=3, same_second=True)["created"]
    seconds = {o["created"] for o in sandbox.records("orders") if o["id"] in made["orders"]}
    seconds |= {d["created"] for d in sandbox.records("dispatches") if d["id"] in made["dispatches"]}
    seconds |= {c["created_at"] for c in sandbox.records("customers") if c["id"] in made["customers"]}
    assert len(seconds) == 1


def test_update_orders_changes_status_but_not_created(sandbox: Sandbox) -> None:
    before = by_id(sandbox, "orders")
    changed = sandbox.mutate(update_orders=5)["updated"]["orders"]
    after = by_id(sandbox, "orders")
    assert len(changed) == 5
    for order_id in changed:
        assert after[order_id]["status"] != before[order_id]["status"]
        assert after[order_id]["created"] == before[order_id]["created"]
    assert [o["id"] for o in sandbox.records("orders")] == list(before)


def test_update_invoices_records_a_payment_and_marks_the_invoice_paid(sandbox: Sandbox) -> None:
    before = by_id(sandbox, "invoices")
    result = sandbox.mutate(update_invoices=3)["updated"]
    after = by_id(sandbox, "invoices")
    orders = by_id(sandbox, "orders")
    assert len(result["invoices"]) == 3
    for invoice_id in result["invoices"]:
        assert before[invoice_id]["paid"] is False
        assert after[invoice_id]["paid"] is True
        assert len(after[invoice_id]["payments"]) == len(before[invoice_id]["payments"]) + 1
        paid = round(sum(p["amount"] for p in after[invoice_id]["payments"]), 2)
        assert paid == after[invoice_id]["gross_total"]
        for order in after[invoice_id]["orders"]:
            for line in orders[order["id"]]["order_lines"]:
                assert line["paid"] == line["invoiced"]


def test_mark_paid_invoices_marks_them_paid_without_recording_a_payment(sandbox: Sandbox) -> None:
    before = by_id(sandbox, "invoices")
    result = sandbox.mutate(mark_paid_invoices=4)["updated"]
    after = by_id(sandbox, "invoices")
    orders = by_id(sandbox, "orders")
    assert len(result["invoices"]) == 4
    for invoice_id in result["invoices"]:
        assert (before[invoice_id]["paid"], after[invoice_id]["paid"]) == (False, True)
        assert after[invoice_id]["payments"] == before[invoice_id]["payments"]
        assert round(sum(p["amount"] for p in after[invoice_id]["payments"]), 2) < after[invoice_id]["gross_total"]
        for order in after[invoice_id]["orders"]:
            assert order["id"] in result["orders"]
            for line in orders[order["id"]]["order_lines"]:
                assert line["paid"] == line["invoiced"]
    # Paid is paid: neither mutation picks them again.
    again = sandbox.mutate(update_invoices=1000)["updated"]["invoices"]
    assert not set(again) & set(result["invoices"])


def test_update_products_and_stock_change_a_visible_value(sandbox: Sandbox) -> None:
    products = by_id(sandbox, "products")
    levels = {level["sku"]: level for level in sandbox.records("inventory_levels")}
    changed = sandbox.mutate(update_products=3, update_stock=4)["updated"]
    now_products = by_id(sandbox, "products")
    now_levels = {level["sku"]: level for level in sandbox.records("inventory_levels")}
    assert len(changed["products"]) == 3
    assert len(changed["inventory_levels"]) == 4
    for product_id in changed["products"]:
        assert now_products[product_id] != products[product_id]
    for sku in changed["inventory_levels"]:
        assert now_levels[sku] != levels[sku]
        assert now_levels[sku]["on_hand"] - levels[sku]["on_hand"] == (
            now_levels[sku]["available"] - levels[sku]["available"]
        )


def test_mutate_over_http(client: Any) -> None:
    response = client.sandbox_post("mutate", {"new_orders": 2, "update_stock": 1})
    assert response.status_code == 200
    body = response.json()
    assert len(body["created"]["orders"]) == 2
    assert len(body["updated"]["inventory_levels"]) == 1
    assert [o["id"] for o in client.page("orders", limit=2)["orders"]] == list(reversed(body["created"]["orders"]))


@pytest.mark.parametrize("body", [{"new_orders": -1}, {"delete_everything": 1}, {"new_orders": "many"}])
def test_an_invalid_mutation_is_400(client: Any, body: dict[str, Any]) -> None:
    assert client.sandbox_post("mutate", body).status_code == 400


def test_mutations_use_the_real_clock_not_the_seeded_one(sandbox: Sandbox) -> None:
    started = time.time()
    order_id = sandbox.mutate(new_orders=1)["created"]["orders"][0]
    created = by_id(sandbox, "orders")[order_id]["created"]
    assert abs(datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp() - started) < 5


def test_at_puts_new_records_in_a_chosen_second_in_list_order(sandbox: Sandbox) -> None:
    second = sandbox.records("orders")[100]["created"]
    made = sandbox.mutate(new_orders=2, new_invoices=1, at=second)["created"]["orders"]
    listed = [o["id"] for o in sandbox.records("orders")]
    same_second = [o["id"] for o in sandbox.records("orders") if o["created"] == second]
    assert same_second[:2] == list(reversed(made))
    assert listed.index(made[0]) > 50
    epoch = datetime.fromisoformat(second.replace("Z", "+00:00")).timestamp() + 0.5
    customer_id = sandbox.mutate(new_customers=1, at=epoch)["created"]["customers"][0]
    assert next(c["created_at"] for c in sandbox.records("customers") if c["id"] == customer_id) == second


def test_at_over_http_and_a_bad_at_is_400(client: Any) -> None:
    made = client.sandbox_post("mutate", {"new_orders": 1, "at": "2025-06-01T12:00:00Z"}).json()["created"]["orders"]
    window = {"created_since": "2025-06-01T12:00:00Z", "created_before": "2025-06-01T12:00:01Z"}
    assert made[0] in [o["id"] for o in client.walk("orders", **window)]
    assert client.sandbox_post("mutate", {"new_orders": 1, "at": "noon"}).status_code == 400


DELETIONS = ["orders", "customers", "invoices", "products", "categories", "price_lists"]


def test_deletions_are_spread_over_all_history_and_reported(sandbox: Sandbox) -> None:
    before = {resource: [r["id"] for r in sandbox.records(resource)] for resource in DELETIONS}
    totals = sandbox.totals()
    result = sandbox.mutate(**{f"delete_{resource}": 3 for resource in DELETIONS})
    deleted = result["deleted"]
    for resource in DELETIONS:
        assert len(deleted[resource]) == 3
        assert sandbox.totals()[resource] == totals[resource] - 3
        assert not set(deleted[resource]) & {r["id"] for r in sandbox.records(resource)}
        positions = sorted(before[resource].index(key) for key in deleted[resource])
        # Old records go too, not only the newest.
        assert positions[-1] >= len(before[resource]) // 2
    assert len(deleted["inventory_levels"]) >= 3
    assert sandbox.totals()["inventory_levels"] == totals["inventory_levels"] - len(deleted["inventory_levels"])


def test_deletions_are_deterministic_and_later_changes_survive_them(sandbox: Sandbox) -> None:
    first = sandbox.mutate(delete_orders=5, delete_invoices=5, delete_customers=5, delete_products=2)
    with Sandbox(seed=7, orders=450, rate_limit=None) as twin:
        assert twin.mutate(delete_orders=5, delete_invoices=5, delete_customers=5, delete_products=2) == first
    made = sandbox.mutate(new_orders=20, new_dispatches=10, new_invoices=10, update_invoices=10, update_orders=5)
    assert len(made["created"]["orders"]) == 20


def test_mutate_over_http_deletes_too(client: Any) -> None:
    body = client.sandbox_post("mutate", {"delete_orders": 2}).json()
    assert len(body["deleted"]["orders"]) == 2
    for key in body["deleted"]["orders"]:
        assert client.get(f"orders/{key}").status_code == 404


# `older_than_days`' default.
OLD_DAYS = 180


def created_at(record: dict[str, Any], field: str = "created") -> float:
    return datetime.fromisoformat(record[field].replace("Z", "+00:00")).timestamp()


def test_late_changes_touch_only_old_records(sandbox: Sandbox) -> None:
    cutoff = time.time() - OLD_DAYS * 86400
    before = by_id(sandbox, "orders")
    invoices = by_id(sandbox, "invoices")
    result = sandbox.mutate(release_old_orders=2, cancel_old_orders=2, pay_old_invoices=3, dispatch_old_orders=2)
    updated, created = result["updated"], result["created"]
    after = by_id(sandbox, "orders")
    # Paying an old invoice touches its orders too, cancelled ones among them: only status changes count.
    moved = [
        key
        for key in updated["orders"]
        if after[key]["status"] in ("released", "cancelled") and after[key]["status"] != before[key]["status"]
    ]
    assert moved
    for key in moved:
        assert created_at(before[key]) < cutoff
        assert before[key]["status"] in ("new", "preorder", "released")
    now_invoices = by_id(sandbox, "invoices")
    assert len(updated["invoices"]) <= 3
    for key in updated["invoices"]:
        assert invoices[key]["paid"] is False
        assert now_invoices[key]["paid"] is True
        assert now_invoices[key]["invoice_date"] < datetime.fromtimestamp(cutoff, UTC).strftime("%Y-%m-%d")
    dispatches = {d["id"]: d for d in sandbox.records("dispatches")}
    for key in created["dispatches"]:
        dispatch = dispatches[key]
        assert created_at(dispatch) > cutoff + OLD_DAYS * 86400 - 60
        order = after[dispatch["order_id"]]
        assert created_at(order) < cutoff
        assert order["status"] in ("part_fulfilled", "fulfilled")


def test_older_than_days_moves_the_boundary_and_too_few_candidates_is_not_an_error(sandbox: Sandbox) -> None:
    assert sandbox.mutate(release_old_orders=5, older_than_days=10_000)["updated"]["orders"] == []
    assert sandbox.mutate(pay_old_invoices=10**6)["updated"]["invoices"] is not None


def test_edit_customers_changes_fields_but_no_time(sandbox: Sandbox) -> None:
    before = by_id(sandbox, "customers")
    changed = sandbox.mutate(edit_customers=4)["updated"]["customers"]
    after = by_id(sandbox, "customers")
    assert len(changed) == 4
    for key in changed:
        assert after[key] != before[key]
        assert after[key]["created_at"] == before[key]["created_at"]
    assert list(after) == list(before)
