"""List requests: which filters each endpoint documents, how their values parse, and which page is served.

Only the filters an endpoint's reference page documents are applied; any other parameter is ignored,
as a real API ignores what it does not know (so `created_before` on invoices filters nothing).
Invalid values get 400, the reference's code for "the request was unacceptable"; 422 is documented
for validation errors on create and update.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .world import NEWEST_FIRST, SORT_KEY, Row

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class BadRequest(ValueError):
    """A parameter the API would reject; the message goes back to the client."""


@dataclass(frozen=True)
class Endpoint:
    """The documented parameters of one list endpoint."""

    paginated: bool = True
    # parameter -> (Row attribute, comparison)
    times: dict[str, tuple[str, str]] = field(default_factory=dict)
    # parameter -> (index field holding an ISO date, comparison)
    dates: dict[str, tuple[str, str]] = field(default_factory=dict)
    equals: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()


_CREATED_SINCE = {"created_since": ("created", ">=")}
_CREATED_BEFORE = {"created_before": ("created", "<")}
_UPDATED_SINCE = {"updated_since": ("updated", ">=")}

# `*_since` is inclusive and `*_before` exclusive, as the contract states for the created filters;
# `*_after` is taken literally as strictly after.
ENDPOINTS: dict[str, Endpoint] = {
    "customers": Endpoint(
        times=_CREATED_SINCE,
        equals=(
            "company_name",
            "buyers_email_address",
            "status",
            "reference",
            "payment_terms_id",
            "customer_group_id",
            "price_list_id",
        ),
    ),
    "orders": Endpoint(
        times=_CREATED_SINCE | _CREATED_BEFORE,
        dates={"delivery_date_since": ("delivery_date", ">="), "delivery_date_before": ("delivery_date", "<")},
        equals=("number", "status", "reference", "customer_id", "standing_order_id"),
    ),
    "dispatches": Endpoint(times=_CREATED_SINCE | _CREATED_BEFORE, equals=("order_id",)),
    "invoices": Endpoint(
        times=_CREATED_SINCE,
        dates={
            "invoice_date_after": ("invoice_date", ">"),
            "invoice_date_before": ("invoice_date", "<"),
            "due_date_after": ("due_date", ">"),
            "due_date_before": ("due_date", "<"),
        },
        equals=("number", "customer_id"),
        flags=("paid", "proforma"),
    ),
    "products": Endpoint(
        times=_CREATED_SINCE | _UPDATED_SINCE, equals=("code", "name", "category_id"), flags=("active",)
    ),
    "inventory_levels": Endpoint(times=_CREATED_SINCE | _UPDATED_SINCE, equals=("product_id", "sku")),
    "categories": Endpoint(equals=("name", "parent_id")),
    "customer_groups": Endpoint(paginated=False),
    "price_lists": Endpoint(paginated=False),
    "payment_terms": Endpoint(paginated=False),
    "tax_rates": Endpoint(paginated=False),
    "preorder_windows": Endpoint(paginated=False),
}


def parse_time(name: str, value: str) -> datetime:
    """An ISO 8601 date or date-time; a value without an offset is UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"Invalid date for {name}: {value!r}. Use ISO 8601, e.g. 2019-10-29T21:00") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@dataclass
class Query:
    """One list request's parameters, parsed and checked."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    times: list[tuple[str, str, float]] = field(default_factory=list)
    dates: list[tuple[str, str, str]] = field(default_factory=list)
    equals: list[tuple[str, str]] = field(default_factory=list)
    flags: list[tuple[str, bool]] = field(default_factory=list)

    @classmethod
    def parse(cls, endpoint: Endpoint, params: dict[str, str]) -> Query:
        query = cls()
        # A blank value is treated as absent, as Rails' `present?` does.
        given = {k: v for k, v in params.items() if v != ""}
        if "limit" in given:
            try:
                query.limit = int(given["limit"])
            except ValueError:
                raise BadRequest(f"limit must be a whole number, not {given['limit']!r}") from None
            if not 1 <= query.limit <= MAX_LIMIT:
                raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}")
        query.cursor = given.get("starting_after")
        for name, (attribute, op) in endpoint.times.items():
            if name in given:
                query.times.append((attribute, op, parse_time(name, given[name]).timestamp()))
        for name, (index_field, op) in endpoint.dates.items():
            if name in given:
                query.dates.append((index_field, op, parse_time(name, given[name]).date().isoformat()))
        query.equals = [(name, given[name]) for name in endpoint.equals if name in given]
        for name in endpoint.flags:
            if name in given:
                flag = given[name].lower()
                if flag not in ("true", "false"):
                    raise BadRequest(f"{name} must be true or false")
                query.flags.append((name, flag == "true"))
        return query

    def matches(self, row: Row) -> bool:
        for attribute, op, bound in self.times:
            value = row.created if attribute == "created" else row.updated
            if (value < bound) if op == ">=" else (value >= bound):
                return False
        for index_field, op, day in self.dates:
            value = row.idx[index_field]
            if value is None or not _compare(value, op, day):
                return False
        for name, wanted in self.equals:
            value = row.idx[name]
            if isinstance(value, tuple):
                if wanted not in value:
                    return False
            elif value is None or str(value) != wanted:
                return False
        return all(row.idx[name] is wanted for name, wanted in self.flags)


def _compare(value: str, op: str, bound: str) -> bool:
    if op == ">=":
        return value >= bound
    if op == ">":
        return value > bound
    return value < bound


def select(resource: str, rows: list[Row], by_key: dict[str, Row], query: Query) -> tuple[list[Row], bool]:
    """The page of `rows` (already in list order) that `query` asks for, and whether more follow."""
    start = 0
    if query.cursor is not None:
        after = by_key.get(query.cursor)
        if after is None:
            raise BadRequest(f"starting_after {query.cursor!r} does not match any {resource} record")
        start = bisect.bisect_right(rows, after.sort, key=SORT_KEY)
    newest_first = resource in NEWEST_FIRST
    since = None
    for attribute, op, bound in query.times:
        if attribute == "created" and newest_first:
            if op == "<":
                # Skip straight to the first record created before the bound.
                start = max(start, bisect.bisect_right(rows, (-bound, math.inf), key=SORT_KEY))
            else:
                since = bound
    page: list[Row] = []
    for index in range(start, len(rows)):
        row = rows[index]
        if since is not None and row.created < since:
            # Newest first: every record from here on is older still.
            break
        if query.matches(row):
            if len(page) == query.limit:
                return page, True
            page.append(row)
    return page, False


def list_body(
    resource: str, rows: list[Row], has_more: bool | None, shape: Callable[[bytes], bytes] | None = None
) -> bytes:
    """The response body: `{"<resource>": [...], "has_more": ...}`, without `has_more` when None;
    `shape` changes each record's JSON on the way out.

    The dispatches and invoices list examples show no `has_more`, but those endpoints page like
    the others, so every paginated endpoint sends it.
    """
    bodies = (row.body() for row in rows)
    items = b",".join(bodies if shape is None else map(shape, bodies))
    tail = b"" if has_more is None else (b',"has_more":true' if has_more else b',"has_more":false')
    return b'{"' + resource.encode() + b'":[' + items + b"]" + tail + b"}"
