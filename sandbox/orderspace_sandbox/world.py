"""The store of one sandbox site: every record, in list order, with the values its filters read.

Every record is held as a dict until it is first served and as its JSON encoding after that, plus
the few values that ordering and filters need (`Row.idx`, `created`, `updated`). Encoding on first
use keeps start-up fast (encoding 100,000 orders would take longer than generating them), and
holding bytes afterwards makes a page a join of ready bytes and frees the dicts' memory.

`generate` fills a store with seeded history and `changes` alters it later; this module knows
nothing of what the records mean beyond their keys, times and filter values.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import json
import time
from collections.abc import Callable
from operator import attrgetter
from typing import Any

DAY = 86400
# Seeded history covers this many days before the start of the site's `today`.
HISTORY_DAYS = 730

PAGINATED = ("customers", "orders", "dispatches", "invoices", "products", "inventory_levels", "categories")
UNPAGINATED = ("customer_groups", "price_lists", "payment_terms", "tax_rates", "preorder_windows")
RESOURCES = PAGINATED + UNPAGINATED
NEWEST_FIRST = frozenset({"customers", "orders", "dispatches", "invoices", "products"})
NESTED = {
    "order_lines": ("orders", "_lines"),
    "invoice_lines": ("invoices", "_lines"),
    "invoice_payments": ("invoices", "_payments"),
    "dispatch_lines": ("dispatches", "_lines"),
    "product_variants": ("products", "_lines"),
}
SORT_KEY = attrgetter("sort")

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode(doc: Any) -> bytes:
    return _ENCODER.encode(doc).encode()


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def midnight(date: dt.date) -> int:
    """The first second of `date`, UTC, in epoch seconds."""
    return calendar.timegm(date.timetuple())


class Row:
    """One record: its content, its place in the list order, and the values its filters read."""

    __slots__ = ("_body", "_doc", "created", "idx", "key", "sort", "updated")

    def __init__(self, key: str, doc: dict[str, Any], created: float, updated: float, idx: dict[str, Any]) -> None:
        self.key = key
        self._doc: dict[str, Any] | None = doc
        self._body: bytes | None = None
        self.created = created
        self.updated = updated
        self.idx = idx
        self.sort: tuple[Any, ...] = ()

    def body(self) -> bytes:
        if self._body is None:
            self._body = encode(self._doc)
            self._doc = None
        return self._body

    def doc(self) -> dict[str, Any]:
        """The record as a dict to edit; `World.rewrite` stores the edit."""
        if self._doc is not None:
            return self._doc
        result: dict[str, Any] = json.loads(self._body or b"")
        return result

    def replace(self, doc: dict[str, Any]) -> None:
        self._doc = doc
        self._body = None


class World:
    """Every record of one site, per resource in list order, and by key."""

    def __init__(self) -> None:
        self.rows: dict[str, list[Row]] = {name: [] for name in RESOURCES}
        self.by_key: dict[str, dict[str, Row]] = {name: {} for name in RESOURCES}
        self._seq = 0

    def add(self, resource: str, row: Row) -> None:
        self.rows[resource].append(row)
        self.by_key[resource][row.key] = row

    def insert(self, resource: str, row: Row) -> None:
        """Place a row created after generation where the list order puts it."""
        self._seq += 1
        row.sort = self._order(resource, row, self._seq)
        bisect.insort(self.rows[resource], row, key=SORT_KEY)
        self.by_key[resource][row.key] = row

    def _order(self, resource: str, row: Row, seq: int) -> tuple[Any, ...]:
        if resource in NEWEST_FIRST:
            # Newest first; within one second, the one inserted last comes first.
            return (-row.created, -seq)
        if resource == "inventory_levels":
            return (row.key,)
        return (seq,)

    def finish(self) -> None:
        """Put rows added during generation in list order."""
        for resource, rows in self.rows.items():
            if resource in NEWEST_FIRST:
                rows.sort(key=attrgetter("created"))  # stable: generation order breaks ties
            for row in rows:
                self._seq += 1
                row.sort = self._order(resource, row, self._seq)
            rows.sort(key=SORT_KEY)

    def row(self, resource: str, doc: dict[str, Any], created: float, updated: float | None = None) -> Row:
        return Row(doc["id"], doc, created, created if updated is None else updated, INDEXERS[resource](doc))

    def append(self, resource: str, row: Row) -> None:
        """Add a row after every row the list holds: for lists kept in insertion order."""
        self.add(resource, row)
        self._seq += 1
        row.sort = (self._seq,)

    def rewrite(self, resource: str, row: Row, doc: dict[str, Any]) -> None:
        row.replace(doc)
        row.idx = INDEXERS[resource](doc)

    def delete(self, resource: str, key: str) -> Row | None:
        """Take a record out of its list and its index; None if there is no such record."""
        row = self.by_key[resource].pop(key, None)
        if row is not None:
            rows = self.rows[resource]
            # Sort keys are unique, so the first row at this key is this one.
            del rows[bisect.bisect_left(rows, row.sort, key=SORT_KEY)]
        return row

    def totals(self) -> dict[str, int]:
        result = {name: len(rows) for name, rows in self.rows.items()}
        for nested, (parent, counter) in NESTED.items():
            result[nested] = sum(row.idx[counter] for row in self.rows[parent])
        return result


# What each resource's filters read from a record, computed when the record is (re)encoded.
INDEXERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "customers": lambda d: {
        "company_name": d["company_name"],
        "buyers_email_address": tuple(b["email_address"] for b in d["buyers"]),
        "status": d["status"],
        "reference": d["reference"],
        "payment_terms_id": d["payment_terms_id"],
        "customer_group_id": d["customer_group_id"],
        "price_list_id": d["price_list_id"],
    },
    "orders": lambda d: {
        "number": d["number"],
        "status": d["status"],
        "reference": d["reference"],
        "customer_id": d["customer_id"],
        "standing_order_id": d["standing_order_id"],
        "delivery_date": d["delivery_date"],
        "_lines": len(d["order_lines"]),
    },
    "dispatches": lambda d: {"order_id": d["order_id"], "_lines": len(d["dispatch_lines"])},
    "invoices": lambda d: {
        "number": d["number"],
        "customer_id": d["customer_id"],
        "invoice_date": d["invoice_date"],
        "due_date": d["due_date"],
        "paid": d["paid"],
        "proforma": d["proforma"],
        "_lines": len(d["invoice_lines"]),
        "_payments": len(d["payments"]),
    },
    "products": lambda d: {
        "code": d["code"],
        "name": d["name"],
        "active": d["active"],
        "category_id": tuple(c["id"] for c in d["categories"]),
        "_lines": len(d["product_variants"]),
    },
    "categories": lambda d: {"name": d["name"], "parent_id": d["parent_id"]},
    "customer_groups": lambda d: {},
    "price_lists": lambda d: {},
    "payment_terms": lambda d: {},
    "tax_rates": lambda d: {},
    "preorder_windows": lambda d: {},
}
