"""Two years of seeded history for a new site, ending at the start of its `today`.

Every time is an offset from that end, so a seed gives the same records (the same ids, amounts and
statuses) on any day, their dates moved by whole days; pin `today` for the same dates too.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import gc
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

from .site import Customer, Site, tax_fields
from .world import DAY, day, iso, midnight

# Page sizes a client is likely to use: same-second groups are placed across these boundaries so
# that a bookmark taken at a page edge meets records sharing its second.
PAGE_EDGES = (50, 200, 400)
_CATEGORY_NAMES = ("Dresses", "Knitwear", "Accessories", "Homeware", "Ceramics", "Candles", "Stationery", "Textiles",
                   "Kitchen", "Gifts", "Sale", "New In", "Bestsellers", "Cards & Wrap", "Crème & Co")  # fmt: skip


def generate(
    seed: int,
    orders: int,
    customers: int | None = None,
    products: int | None = None,
    lines_per_order: int | None = None,
    *,
    today: dt.date,
    profile: str = "uk",
) -> Site:
    """A site with `orders` orders and (by default) customers and products in proportion, its history
    ending at the first second of `today` (UTC); `profile` names the business (see `site.PROFILES`)."""
    site = Site(seed, midnight(today), lines_per_order, profile)
    # Generation allocates millions of objects and frees none; the cycle collector's passes
    # over the growing heap would add half again to its time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _generate(site, orders, customers, products)
    finally:
        if collecting:
            gc.enable()
    return site


def _times(site: Site, count: int, start: int, end: int, burst: float, *, import_share: float = 0.0) -> list[int]:
    """`count` ascending seconds in [start, end], denser towards `end` as a growing business is.

    `import_share` of them land in one second at `start` (a CSV import), `burst` is the chance that
    a record shares the previous record's second, and groups of four straddle each page edge.
    """
    rng = site.rng
    span = end - start
    imported = max(1, int(count * import_share)) if import_share and count else 0
    times = [start] * imported + sorted(start + int(span * math.sqrt(rng.random())) for _ in range(count - imported))
    for i in range(imported + 1, count):
        if rng.random() < burst:
            times[i] = times[i - 1]
    for edge in PAGE_EDGES:
        # Newest-first positions edge-2 .. edge+1, i.e. two on each side of the page boundary.
        first = count - edge - 2
        if first >= 0:
            times[first : first + 4] = [times[first]] * 4
    return times


def _generate(site: Site, order_count: int, customer_count: int | None, product_count: int | None) -> None:
    n_products = product_count if product_count is not None else max(5, order_count // 50)
    n_customers = customer_count if customer_count is not None else max(5, order_count // 20)
    if min(order_count, n_products, n_customers) < 0 or (site.lines_per_order is not None and site.lines_per_order < 1):
        raise ValueError("counts must not be negative, and lines_per_order must be at least 1")
    if order_count and not (n_products and n_customers):
        raise ValueError("orders need at least one customer and one product")
    _reference_data(site)
    _categories(site, max(12, min(300, n_products // 8)))
    _preorder_windows(site)
    for created in _times(site, n_products, site.start, site.end - 30 * DAY, 0.05, import_share=0.3):
        site.add_product(created)
    for created in _times(site, n_customers, site.start, site.end - 2 * DAY, 0.03, import_share=0.2):
        customer = site.make_customer(created)
        site.world.add("customers", site.world.row("customers", customer, created))
    _orders(site, order_count)
    site.world.finish()
    _straddle(site, "dispatches")
    _straddle(site, "invoices")
    _encode_categories(site)


def _reference_data(site: Site) -> None:
    site.tax_rates = [(site.new_id("tr"), name, rate) for name, rate in site.profile.tax_rates]
    site.standard_tax = tax_fields(site.tax_rates[0])
    for tid, name, rate in site.tax_rates:
        site.world.add("tax_rates", site.world.row("tax_rates", {"id": tid, "name": name, "rate": rate}, site.start))
    site.price_lists = [(site.new_id("pl"), name, currency, rate) for name, currency, rate in site.profile.price_lists]
    for pid, name, currency, rate in site.price_lists:
        doc = {"id": pid, "name": name, "currency": currency, "conversion_rate": rate}
        site.world.add("price_lists", site.world.row("price_lists", doc, site.start))
    terms = [("Pro Forma", 0, 100.0, 0), ("15 Days", 15, 25.0, 0), ("30 Days", 30, 0.0, 0),
             ("60 Days", 60, 0.0, 0), ("End of Month", 30, 50, 7)]  # fmt: skip
    site.terms = [(site.new_id("pt"), name, days, deposit, deposit_days) for name, days, deposit, deposit_days in terms]
    for tid, name, days, deposit, deposit_days in site.terms:
        # The examples spell it `deposit_pecentage` and the attribute list `deposit_percentage`; the
        # examples are what the API sends, so that spelling is served.
        doc = {
            "id": tid,
            "name": name,
            "days_due": days,
            "deposit_pecentage": deposit,
            "deposit_days_due": deposit_days,
        }
        site.world.add("payment_terms", site.world.row("payment_terms", doc, site.start))
    site.groups = [site.new_id("cg") for _ in range(4)]
    for gid, name in zip(site.groups, ("Default", "Wholesale", "Distributors", "Grands Magasins ✨"), strict=True):
        site.world.add("customer_groups", site.world.row("customer_groups", {"id": gid, "name": name}, site.start))


def _categories(site: Site, count: int) -> None:
    rng = site.rng
    seasons = [f"{half} {year}" for year in range(2024, 2027) for half in ("Spring / Summer", "Autumn / Winter")]
    site.categories = []
    site.seasons = []
    parents: list[dict[str, Any]] = []
    for i in range(count):
        if i < len(seasons):
            name = seasons[i]
        elif i - len(seasons) < len(_CATEGORY_NAMES):
            name = _CATEGORY_NAMES[i - len(seasons)]
        else:
            name = f"{rng.choice(_CATEGORY_NAMES)} – Collection {i}"  # noqa: RUF001 - a real en dash
        # Some sub-categories, at least one: `parent_id` is null for the rest.
        nested = i == len(seasons) + 1 or rng.random() < 0.35
        parent = rng.choice(parents)["id"] if parents and i > len(seasons) and nested else None
        category: dict[str, Any] = {
            "id": site.new_id("ca"),
            "name": name,
            "description": site.maybe(f"<p>{name} for the new season</p>", empty=0.5),
            "active": rng.random() < 0.9,
            "parent_id": parent,
            "products": [],
        }
        site.categories.append(category)
        (site.seasons if i < len(seasons) else parents).append(category)
    # The site's sort order puts each sub-category right after its parent.
    children: dict[str | None, list[dict[str, Any]]] = {}
    for category in site.categories:
        children.setdefault(category["parent_id"], []).append(category)

    def walk(parent: str | None) -> Iterator[dict[str, Any]]:
        for category in children.get(parent, []):
            yield category
            yield from walk(category["id"])

    site.categories = list(walk(None))


def _encode_categories(site: Site) -> None:
    for category in site.categories:
        site.world.append("categories", site.world.row("categories", category, site.start))


def _preorder_windows(site: Site) -> None:
    site.windows = []
    for i, season in enumerate(site.seasons[:4]):
        deadline = site.start + (120 + 180 * i) * DAY
        wid = site.new_id("pw")
        site.windows.append(wid)
        doc = {
            "id": wid,
            "name": season["name"] if i else "SS24 Drop 1",
            "deadline": day(deadline),
            "due": day(deadline + 21 * DAY),
            "categories": [{"id": season["id"], "name": season["name"]}],
        }
        site.world.add("preorder_windows", site.world.row("preorder_windows", doc, site.start))


def _orders(site: Site, count: int) -> None:
    rng = site.rng
    customer_times = [c.created for c in site.customers]
    product_times = [r.created for r in site.world.rows["products"]]
    # Variants in product-creation order, so those on sale at time t are a prefix.
    per_product = {r.key: 0 for r in site.world.rows["products"]}
    for v in site.variants:
        per_product[v.product_id] += 1
    on_sale = [0]
    for r in site.world.rows["products"]:
        on_sale.append(on_sale[-1] + per_product[r.key])
    for created in _times(site, count, site.start + DAY, site.end, 0.04):
        known = bisect.bisect_right(customer_times, created)
        # Long-standing customers order more often.
        customer = site.customers[int(known * rng.random() ** 2)]
        n_variants = on_sale[bisect.bisect_right(product_times, created)]
        order = site.make_order(created, customer, n_variants)
        _history(site, order, customer, created)
    # Orders still held for a next order that never came in time are invoiced on their own; those
    # whose wait has not run out by the end still wait.
    for customer_id, (order, alone, until) in list(site.waiting.items()):
        if until <= site.end:
            del site.waiting[customer_id]
            _invoice_late(site, [order], site.customer_by_id[customer_id], alone)


def _history(site: Site, order: dict[str, Any], customer: Customer, created: int) -> None:
    """Give a seeded order what happened to it before the end, as on a real site: within weeks
    nearly every order is invoiced, dispatched and paid, or cancelled. A few stay open for long:
    standing orders, preorders whose window is far off, orders stuck awaiting stock, slow payers."""
    rng = site.rng
    end = site.end
    start = created
    if order["status"] == "preorder":
        # Most preorders are released when their window's stock arrives; the rest wait on.
        released = created + rng.randint(20 * DAY, 150 * DAY)
        if rng.random() < 0.85 and released <= end:
            order["status"] = "new"
            for line in order["order_lines"]:
                line["on_hold"] = False
            start = released
    invoiced = False
    if order["status"] == "new":
        r = rng.random()
        if r < 0.04:
            if start + rng.randint(0, 10 * DAY) <= end:
                order["status"] = "cancelled"
        elif r < 0.06:
            # Stuck (awaiting stock or the customer): released, never invoiced or dispatched.
            if start + DAY <= end:
                order["status"] = "released"
        else:
            order["status"] = "released" if start + rng.randint(3600, 3 * DAY) <= end else "new"
            when = start + rng.randint(3600, 6 * DAY)
            if when <= end:
                invoiced = _invoice(site, order, customer, when)
            if order["status"] != "cancelled":
                _seed_dispatches(site, order, start)
    site.track(order, invoiced)
    site.world.add("orders", site.world.row("orders", order, created))


def _invoice(site: Site, order: dict[str, Any], customer: Customer, when: int) -> bool:
    """Invoice a new order at `when`, with the customer's held one if it still waits, or hold it back
    for the next; False if it is held. A few invoiced orders are then cancelled, their invoice left
    standing unpaid."""
    rng = site.rng
    held = site.waiting.pop(customer.id, None)
    if held is not None:
        other, alone, until = held
        if when <= until and other["currency"] == order["currency"]:
            _invoice_late(site, [other, order], customer, when)
            return True
        _invoice_late(site, [other], customer, alone)
    if rng.random() < 0.2:
        # Some customers are invoiced for two orders at once: held up to three weeks for the next.
        site.waiting[customer.id] = (order, when, when + 21 * DAY)
        return False
    if rng.random() < 0.025 and when + 2 * DAY <= site.end:
        site.add_invoice([order], customer, when, _settle_cancelled(site, order))
        order["status"] = "cancelled"
        return True
    site.add_invoice([order], customer, when, _settle_in_time(site, [order]))
    return True


def _invoice_late(site: Site, orders: list[dict[str, Any]], customer: Customer, when: float) -> None:
    """Invoice orders of which the first (or only) was held and is already stored: its row is rewritten
    for its new status and it leaves the pool of orders awaiting an invoice."""
    site.add_invoice(orders, customer, when, _settle_in_time(site, orders))
    held = orders[0]
    site.uninvoiced.pop(held["id"], None)
    site.world.rewrite("orders", site.world.by_key["orders"][held["id"]], held)


def _settle_cancelled(site: Site, order: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """The invoice of an order cancelled after invoicing: nothing paid, or only its deposit."""

    def settle(invoice: dict[str, Any]) -> None:
        issued = _epoch(invoice["invoice_date"])
        if invoice["deposit"] and site.rng.random() < 0.3 and issued <= site.end:
            site.pay_deposit(invoice, [order], issued)

    return settle


def _settle_in_time(site: Site, orders: list[dict[str, Any]]) -> Callable[[dict[str, Any]], None]:
    """Payments as customers make them: most within their terms, a few months late, a very few never;
    none after the end. Some payments are taken outside Orderspace and only marked paid."""
    rng = site.rng

    def settle(invoice: dict[str, Any]) -> None:
        issued = _epoch(invoice["invoice_date"])
        due = _epoch(invoice["due_date"])
        if invoice["deposit"] and rng.random() < 0.6:
            deposit_at = _epoch(invoice["deposit"]["due_date"]) - rng.randint(0, 3) * DAY
            if deposit_at <= site.end:
                site.pay_deposit(invoice, orders, max(issued, deposit_at))
        if invoice["paid"]:
            # A deposit of the whole total (pro forma terms) settled it.
            return
        r = rng.random()
        if r < 0.01:
            return
        if r < 0.07:
            paid_at = due + rng.randint(60, 200) * DAY
        else:
            paid_at = issued + rng.randint(0, max(1, int((due - issued) / DAY) + 14)) * DAY
        if paid_at <= site.end:
            if rng.random() < 0.08:
                site.mark_paid(invoice, orders)
            else:
                site.pay_rest(invoice, orders, paid_at)

    return settle


def _epoch(date: str) -> int:
    return calendar.timegm(time.strptime(date, "%Y-%m-%d"))


def _seed_dispatches(site: Site, order: dict[str, Any], created: int) -> None:
    rng = site.rng
    lines = site.dispatchable(order)
    # Most go within days; some wait for the delivery date the customer asked for.
    delay = rng.randint(DAY // 2, 10 * DAY) if rng.random() < 0.8 else rng.randint(10 * DAY, 40 * DAY)
    when = _batch(site, created + delay)
    if not lines or when > site.end:
        return
    if len(lines) > 1 and rng.random() < 0.15:
        # Part of the order goes first; the rest follows when it is in stock.
        first = lines[: len(lines) // 2]
        site.add_dispatch(order, when, first)
        later = _batch(site, when + rng.randint(DAY, 20 * DAY))
        if later <= site.end and rng.random() < 0.97:
            site.add_dispatch(order, later, lines[len(first) :])
    else:
        site.add_dispatch(order, when, lines)


def _batch(site: Site, when: int) -> int:
    """The warehouse dispatches in runs: many dispatches share the second a run was booked."""
    if site.rng.random() < 0.3:
        return when - when % (4 * 3600) + 3600
    return when


def _straddle(site: Site, resource: str) -> None:
    """Make groups of records share one second across each page edge (see PAGE_EDGES).

    Dispatches and invoices get their times from their orders, so this moves them later (never
    before their order) to the newest second of the group.
    """
    rows = site.world.rows[resource]
    for edge in PAGE_EDGES:
        group = rows[max(0, edge - 2) : edge + 2]
        if len(group) < 4:
            continue
        newest = group[0].created
        for row in group:
            if row.created != newest:
                row.created = row.updated = newest
                if resource == "dispatches":
                    doc = row.doc()
                    doc["created"] = iso(newest)
                    site.world.rewrite(resource, row, doc)
            # The group keeps its seq order, so the list stays in newest-first order.
            row.sort = (-newest, row.sort[1])
