"""Changes to a site after generation, as tests ask for them: new records and updates, at a clock's time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .site import Site


class Changes:
    """What one `mutate` call created and updated, and the clock its records take their time from."""

    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now
        self.created: dict[str, list[str]] = {
            k: [] for k in ("customers", "products", "inventory_levels", "orders", "dispatches", "invoices")
        }
        self.updated: dict[str, list[str]] = {
            k: [] for k in ("orders", "invoices", "products", "inventory_levels", "categories")
        }

    def touch(self, resource: str, key: str) -> None:
        if key not in self.updated[resource]:
            self.updated[resource].append(key)


def mutate(site: Site, clock: Callable[[], float], **counts: Any) -> dict[str, dict[str, list[str]]]:
    """Create and change records as a live site would, at the real clock's time."""
    unknown = set(counts) - set(MUTATIONS) - {"same_second"}
    if unknown:
        raise ValueError(f"unknown mutation(s): {', '.join(sorted(unknown))}")
    numbers = {k: int(v) for k, v in counts.items() if k != "same_second"}
    if any(v < 0 for v in numbers.values()):
        raise ValueError("mutation counts must not be negative")
    pinned = float(int(clock()))
    same_second = bool(counts.get("same_second", False))
    # Sub-second times, as a database keeps them: a filter bound inside a second then splits it
    # the way the real API's would, while the served timestamps show whole seconds.
    changes = Changes(lambda: pinned if same_second else clock())
    for name, step in _STEPS.items():
        step(site, numbers.get(name, 0), changes)
    return {"created": changes.created, "updated": changes.updated}


def _new_customers(site: Site, count: int, changes: Changes) -> None:
    for _ in range(count):
        when = changes.now()
        row = site.world.row("customers", site.make_customer(when), when)
        site.world.insert("customers", row)
        changes.created["customers"].append(row.key)


def _new_products(site: Site, count: int, changes: Changes) -> None:
    for _ in range(count):
        product, stock, categories = site.add_product(changes.now(), insert=True)
        changes.created["products"].append(product.key)
        changes.created["inventory_levels"].extend(level.key for level in stock)
        for category in categories:
            site.world.rewrite("categories", site.world.by_key["categories"][category["id"]], category)
            changes.touch("categories", category["id"])


def _new_orders(site: Site, count: int, changes: Changes) -> None:
    if count and not (site.customers and site.variants):
        raise ValueError("new orders need at least one customer and one product")
    for _ in range(count):
        when = changes.now()
        order = site.make_order(when, site.rng.choice(site.customers), len(site.variants))
        # A new order is open: a preorder's window is kept but nothing is held.
        if order["status"] == "preorder":
            order["status"] = "new"
        for line in order["order_lines"]:
            line["on_hold"] = False
        site.track(order, invoiced=False)
        row = site.world.row("orders", order, when)
        site.world.insert("orders", row)
        changes.created["orders"].append(row.key)


def _new_dispatches(site: Site, count: int, changes: Changes) -> None:
    for _ in range(count):
        order_id = _recent(site, site.undispatched)
        if order_id is None:
            return
        row = site.world.by_key["orders"][order_id]
        order = row.doc()
        dispatch = site.add_dispatch(order, changes.now(), site.dispatchable(order), insert=True)
        site.undispatched.pop(order_id)
        site.world.rewrite("orders", row, order)
        changes.created["dispatches"].append(dispatch.key)
        changes.touch("orders", order_id)


def _new_invoices(site: Site, count: int, changes: Changes) -> None:
    for _ in range(count):
        order_id = _recent(site, site.uninvoiced)
        if order_id is None:
            return
        row = site.world.by_key["orders"][order_id]
        order = row.doc()
        when = changes.now()
        invoice = site.add_invoice(order, site.customer_by_id[order["customer_id"]], when, when, insert=True)
        site.uninvoiced.pop(order_id)
        site.world.rewrite("orders", row, order)
        changes.created["invoices"].append(invoice.key)
        changes.touch("orders", order_id)


def _recent(site: Site, pool: dict[str, None]) -> str | None:
    if not pool:
        return None
    keys = list(pool)
    # Recent orders are the ones a live site dispatches and invoices.
    return keys[len(keys) - 1 - int(len(keys) * site.rng.random() ** 3)]


def _update_orders(site: Site, count: int, changes: Changes) -> None:
    moves = {"new": "released", "released": "cancelled", "preorder": "released"}
    candidates = [row for row in site.world.rows["orders"] if row.idx["status"] in moves]
    for row in site.rng.sample(candidates, k=min(count, len(candidates))):
        order = row.doc()
        was = order["status"]
        order["status"] = moves[was]
        for line in order["order_lines"]:
            line["on_hold"] = False
        if order["status"] == "cancelled":
            site.undispatched.pop(row.key, None)
            site.uninvoiced.pop(row.key, None)
        elif was == "preorder":
            site.track(order, invoiced=False)
        order["internal_note"] = f"Status changed to {order['status']}"
        site.world.rewrite("orders", row, order)
        changes.touch("orders", row.key)


def _update_invoices(site: Site, count: int, changes: Changes) -> None:
    for _ in range(count):
        invoice_id = _recent(site, site.unpaid)
        if invoice_id is None:
            break
        row = site.world.by_key["invoices"][invoice_id]
        invoice = row.doc()
        order_row = site.world.by_key["orders"][invoice["orders"][0]["id"]]
        order = order_row.doc()
        owed = round(invoice["gross_total"] - sum(p["amount"] for p in invoice["payments"]), 2)
        when = changes.now()
        site.pay(invoice, order, when, owed)
        site.unpaid.pop(invoice_id)
        row.updated = when
        site.world.rewrite("invoices", row, invoice)
        site.world.rewrite("orders", order_row, order)
        changes.touch("invoices", invoice_id)
        changes.touch("orders", order_row.key)


def _update_products(site: Site, count: int, changes: Changes) -> None:
    rows = site.world.rows["products"]
    for row in site.rng.sample(rows, k=min(count, len(rows))):
        product = row.doc()
        for variant in product["product_variants"]:
            variant["unit_price"] = round(variant["unit_price"] * 1.05 + 0.5, 2)
        product["active"] = not product["active"] if site.rng.random() < 0.2 else product["active"]
        row.updated = changes.now()
        site.world.rewrite("products", row, product)
        changes.touch("products", row.key)


def _update_stock(site: Site, count: int, changes: Changes) -> None:
    rows = site.world.rows["inventory_levels"]
    for row in site.rng.sample(rows, k=min(count, len(rows))):
        level = row.doc()
        on_hand = max(0, level["on_hand"] + site.rng.choice((-5, -2, 3, 10, 24)))
        level["available"] += on_hand - level["on_hand"]
        level["on_hand"] = on_hand
        row.updated = changes.now()
        # Not `_rewrite`: a stock row's index holds its product id, which its JSON does not.
        row.replace(level)
        changes.touch("inventory_levels", row.key)


# In the order they are applied: new records first, so updates may pick them too.
_STEPS: dict[str, Callable[[Site, int, Changes], None]] = {
    "new_customers": _new_customers,
    "new_products": _new_products,
    "new_orders": _new_orders,
    "new_dispatches": _new_dispatches,
    "new_invoices": _new_invoices,
    "update_orders": _update_orders,
    "update_invoices": _update_invoices,
    "update_products": _update_products,
    "update_stock": _update_stock,
}
MUTATIONS = tuple(_STEPS)
