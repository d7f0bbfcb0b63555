"""Changes to a site after generation, as tests ask for them: new records and updates, at a clock's time."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from .site import Site
from .world import DAY, Row

# What `DELETE /v1/<resource>/<id>` exists for, and the key each answers under.
DELETABLE = {
    "categories": "category",
    "customers": "customer",
    "invoices": "invoice",
    "orders": "order",
    "products": "product",
    "price_lists": "price_list",
}


class Changes:
    """What one `mutate` call created and updated, and the clock its records take their time from."""

    def __init__(self, now: Callable[[], float], old_before: float) -> None:
        self.now = now
        # Records created before this are old: the late changes pick only those.
        self.old_before = old_before
        self.created: dict[str, list[str]] = {
            k: [] for k in ("customers", "products", "inventory_levels", "orders", "dispatches", "invoices")
        }
        self.updated: dict[str, list[str]] = {
            k: [] for k in ("orders", "invoices", "products", "inventory_levels", "categories", "customers")
        }
        self.deleted: dict[str, list[str]] = {k: [] for k in (*DELETABLE, "inventory_levels")}

    def touch(self, resource: str, key: str) -> None:
        if key not in self.updated[resource]:
            self.updated[resource].append(key)


def mutate(
    site: Site, clock: Callable[[], float], *, same_second: bool = False, older_than_days: float = 180, **counts: Any
) -> dict[str, dict[str, list[str]]]:
    """Create, change and delete records as a live site would, at `clock`'s time."""
    unknown = set(counts) - set(MUTATIONS)
    if unknown:
        raise ValueError(f"unknown mutation(s): {', '.join(sorted(unknown))}")
    numbers = {k: int(v) for k, v in counts.items()}
    if any(v < 0 for v in numbers.values()) or float(older_than_days) < 0:
        raise ValueError("mutation counts and older_than_days must not be negative")
    started = clock()
    pinned = float(int(started))
    # Sub-second times, as a database keeps them: a filter bound inside a second then splits it
    # the way the real API's would, while the served timestamps show whole seconds.
    changes = Changes(lambda: pinned if same_second else clock(), started - float(older_than_days) * DAY)
    for name, step in _STEPS.items():
        step(site, numbers.get(name, 0), changes)
    return {"created": changes.created, "updated": changes.updated, "deleted": changes.deleted}


def delete(site: Site, resource: str, key: str) -> dict[str, dict[str, list[str]]] | None:
    """Delete one record as `DELETE /v1/<resource>/<id>` does: what else went or changed with it, or
    None if there is no such record."""
    changes = Changes(time.time, 0.0)
    if not _delete(site, resource, key, changes):
        return None
    return {"deleted": changes.deleted, "updated": changes.updated}


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
        _dispatch(site, order_id, changes)


def _dispatch(site: Site, order_id: str, changes: Changes) -> None:
    """Dispatch what is left of an open order, now."""
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
        invoice = site.add_invoice(
            [order], site.customer_by_id[order["customer_id"]], when, _pay_on_the_spot(site, order, when), insert=True
        )
        site.uninvoiced.pop(order_id)
        site.world.rewrite("orders", row, order)
        changes.created["invoices"].append(invoice.key)
        changes.touch("orders", order_id)


def _pay_on_the_spot(site: Site, order: dict[str, Any], when: float) -> Callable[[dict[str, Any]], None]:
    """Most new invoices are paid at once (by card at checkout), some get their deposit, the rest wait."""

    def settle(invoice: dict[str, Any]) -> None:
        r = site.rng.random()
        if r < 0.7:
            site.pay_rest(invoice, [order], when)
        elif r < 0.8:
            site.pay_deposit(invoice, [order], when)

    return settle


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
        _move(site, row, moves[row.idx["status"]], changes)


def _move(site: Site, row: Row, status: str, changes: Changes) -> None:
    """Give an order a new status, as a user does in the admin."""
    order = row.doc()
    was = order["status"]
    order["status"] = status
    for line in order["order_lines"]:
        line["on_hold"] = False
    if status == "cancelled":
        site.undispatched.pop(row.key, None)
        site.uninvoiced.pop(row.key, None)
    elif was == "preorder":
        site.track(order, invoiced=False)
    order["internal_note"] = f"Status changed to {status}"
    site.world.rewrite("orders", row, order)
    changes.touch("orders", row.key)


def _update_invoices(site: Site, count: int, changes: Changes) -> None:
    for _ in range(count):
        invoice_id = _recent(site, site.unpaid)
        if invoice_id is None:
            break
        _settle(site, invoice_id, changes)


def _mark_paid_invoices(site: Site, count: int, changes: Changes) -> None:
    for _ in range(count):
        invoice_id = _recent(site, site.unpaid)
        if invoice_id is None:
            break
        _settle(site, invoice_id, changes, recorded=False)


def _settle(site: Site, invoice_id: str, changes: Changes, *, recorded: bool = True) -> None:
    """Pay what an invoice still owes, now, and mark its orders' lines paid; not `recorded`, the
    invoice is only marked paid, as for a payment taken outside Orderspace."""
    row = site.world.by_key["invoices"][invoice_id]
    invoice = row.doc()
    # An order may have been deleted since; the invoice is paid all the same.
    order_rows = [r for r in (site.world.by_key["orders"].get(o["id"]) for o in invoice["orders"]) if r is not None]
    orders = [r.doc() for r in order_rows]
    when = changes.now()
    if recorded:
        site.pay_rest(invoice, orders, when)
    else:
        site.mark_paid(invoice, orders)
    site.unpaid.pop(invoice_id)
    row.updated = when
    site.world.rewrite("invoices", row, invoice)
    changes.touch("invoices", invoice_id)
    for order_row, order in zip(order_rows, orders, strict=True):
        site.world.rewrite("orders", order_row, order)
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


def _spread(rows: Sequence[Row], count: int) -> list[Row]:
    """`count` rows spread evenly over `rows` (a list order), so old records are picked as well as new."""
    count = min(count, len(rows))
    return [rows[int((i + 0.5) * len(rows) / count)] for i in range(count)]


def _old_orders(site: Site, changes: Changes, statuses: tuple[str, ...]) -> list[Row]:
    return [
        row for row in site.world.rows["orders"] if row.created < changes.old_before and row.idx["status"] in statuses
    ]


def _release_old_orders(site: Site, count: int, changes: Changes) -> None:
    for row in _spread(_old_orders(site, changes, ("preorder", "new")), count):
        _move(site, row, "released", changes)


def _cancel_old_orders(site: Site, count: int, changes: Changes) -> None:
    for row in _spread(_old_orders(site, changes, ("new", "released", "preorder")), count):
        _move(site, row, "cancelled", changes)


def _pay_old_invoices(site: Site, count: int, changes: Changes) -> None:
    by_key = site.world.by_key["invoices"]
    old = [by_key[key] for key in site.unpaid if by_key[key].created < changes.old_before]
    for row in _spread(old, count):
        _settle(site, row.key, changes)


def _dispatch_old_orders(site: Site, count: int, changes: Changes) -> None:
    by_key = site.world.by_key["orders"]
    old = [by_key[key] for key in site.undispatched if by_key[key].created < changes.old_before]
    for row in _spread(old, count):
        _dispatch(site, row.key, changes)


def _edit_customers(site: Site, count: int, changes: Changes) -> None:
    """Change what a customer's account manager changes: phone, status, an address. No time field moves."""
    rng = site.rng
    for row in _spread(site.world.rows["customers"], count):
        customer = row.doc()
        customer["phone"] = f"0{rng.randint(1000, 7999)} {rng.randint(100000, 999999)}"
        customer["status"] = "closed" if customer["status"] == "active" else "active"
        if customer["addresses"]:
            customer["addresses"][0]["line1"] = f"{rng.randint(1, 240)} Market Street"
        site.world.rewrite("customers", row, customer)
        changes.touch("customers", row.key)


def _deleter(resource: str) -> Callable[[Site, int, Changes], None]:
    def delete_some(site: Site, count: int, changes: Changes) -> None:
        for row in _spread(site.world.rows[resource], count):
            _delete(site, resource, row.key, changes)

    return delete_some


def _delete_customers_with_orders(site: Site, count: int, changes: Changes) -> None:
    """Delete customers that have orders (spread as `_deleter` does): their orders and invoices stay."""
    buyers = {row.idx["customer_id"] for row in site.world.rows["orders"]}
    for row in _spread([row for row in site.world.rows["customers"] if row.key in buyers], count):
        _delete(site, "customers", row.key, changes)


def _delete_products_with_order_lines(site: Site, count: int, changes: Changes) -> None:
    """Delete products some order line names by SKU: the lines stay, naming a SKU no product has."""
    ordered = {line["sku"] for row in site.world.rows["orders"] for line in row.doc()["order_lines"]}
    rows = [
        row
        for row in site.world.rows["products"]
        if any(variant["sku"] in ordered for variant in row.doc()["product_variants"])
    ]
    for row in _spread(rows, count):
        _delete(site, "products", row.key, changes)


def _delete(site: Site, resource: str, key: str, changes: Changes) -> bool:
    """Delete a record and what cannot outlive it; other records that name it keep the reference,
    as the live API keeps an order's customer_id after the customer is gone."""
    world = site.world
    row = world.delete(resource, key)
    if row is None:
        return False
    changes.deleted[resource].append(key)
    if resource == "orders":
        site.undispatched.pop(key, None)
        site.uninvoiced.pop(key, None)
    elif resource == "invoices":
        site.unpaid.pop(key, None)
    elif resource == "customers":
        # New orders are for customers that still exist.
        site.customers = [c for c in site.customers if c.id != key]
    elif resource == "price_lists":
        site.price_lists = [p for p in site.price_lists if p[0] != key]
    elif resource == "products":
        site.variants = [v for v in site.variants if v.product_id != key]
        for level in [level for level in world.rows["inventory_levels"] if level.idx["product_id"] == key]:
            world.delete("inventory_levels", level.key)
            changes.deleted["inventory_levels"].append(level.key)
        for category in site.categories:
            kept = [p for p in category["products"] if p["product_id"] != key]
            if len(kept) != len(category["products"]):
                category["products"] = kept
                world.rewrite("categories", world.by_key["categories"][category["id"]], category)
                changes.touch("categories", category["id"])
    elif resource == "categories":
        site.categories = [c for c in site.categories if c["id"] != key]
        site.seasons = [c for c in site.seasons if c["id"] != key]
    return True


# In the order they are applied: new records first, so updates may pick them too.
_STEPS: dict[str, Callable[[Site, int, Changes], None]] = {
    "new_customers": _new_customers,
    "new_products": _new_products,
    "new_orders": _new_orders,
    "new_dispatches": _new_dispatches,
    "new_invoices": _new_invoices,
    "update_orders": _update_orders,
    "update_invoices": _update_invoices,
    "mark_paid_invoices": _mark_paid_invoices,
    "update_products": _update_products,
    "update_stock": _update_stock,
    "release_old_orders": _release_old_orders,
    "cancel_old_orders": _cancel_old_orders,
    "pay_old_invoices": _pay_old_invoices,
    "dispatch_old_orders": _dispatch_old_orders,
    "edit_customers": _edit_customers,
    **{f"delete_{resource}": _deleter(resource) for resource in DELETABLE},
    "delete_customers_with_orders": _delete_customers_with_orders,
    "delete_products_with_order_lines": _delete_products_with_order_lines,
}
MUTATIONS = tuple(_STEPS)
