"""The seeded data: the reference's shapes, reproducible by seed, awkward where real data is, and consistent."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orderspace_sandbox import Sandbox

RESOURCES = [
    "customers", "orders", "dispatches", "invoices", "products", "inventory_levels", "categories",
    "customer_groups", "price_lists", "payment_terms", "tax_rates", "preorder_windows",
]  # fmt: skip
ADDRESS = ["company_name", "contact_name", "line1", "line2", "city", "state", "postal_code", "country"]
# The customers examples put postal_code before state.
CUSTOMER_ADDRESS = ["company_name", "contact_name", "line1", "line2", "city", "postal_code", "state", "country"]
# Key order as in the reference's examples, with attribute-list-only fields where the list puts them
# and the fields no document lists ("source", "tags", "website") last.
SHAPES: dict[str, list[str]] = {
    "customers": ["id", "company_name", "created_at", "status", "reference", "internal_note", "buyers", "phone",
                  "email_addresses", "tax_number", "tax_rate_id", "addresses", "minimum_spend", "payment_terms_id",
                  "customer_group_id", "price_list_id", "website"],
    "orders": ["id", "number", "created", "status", "customer_id", "company_name", "phone", "email_addresses",
               "created_by", "delivery_date", "reference", "internal_note", "customer_po_number", "customer_note",
               "standing_order_id", "shipping_type", "shipping_address", "billing_address", "order_lines", "currency",
               "net_total", "gross_total", "source"],
    "dispatches": ["id", "order_id", "order_number", "created", "comments", "customer_note", "customer_po_number",
                   "shipping_type", "shipping_address", "email_address", "phone", "dispatch_lines"],
    "invoices": ["id", "number", "invoice_date", "customer_id", "company_name", "email_address", "orders",
                 "payment_terms", "payment_terms_id", "due_date", "paid", "proforma", "deposit", "comments", "address",
                 "invoice_lines", "currency", "net_total", "gross_total", "payments"],
    "products": ["id", "code", "name", "description", "active", "minimum", "tariff_code", "country_of_origin",
                 "composition", "variant_options", "product_variants", "categories", "grouping_category_id", "images",
                 "tags"],
    "inventory_levels": ["sku", "on_hand", "available"],
    "categories": ["id", "name", "description", "active", "parent_id", "products"],
    "customer_groups": ["id", "name"],
    "price_lists": ["id", "name", "currency", "conversion_rate"],
    "payment_terms": ["id", "name", "days_due", "deposit_pecentage", "deposit_days_due"],
    "tax_rates": ["id", "name", "rate"],
    "preorder_windows": ["id", "name", "deadline", "due", "categories"],
}  # fmt: skip
ORDER_LINE = ["id", "sku", "name", "options", "grouping_category", "shipping", "quantity", "unit_price", "sub_total",
              "tax_rate_id", "tax_name", "tax_rate", "tax_amount", "preorder_window_id", "on_hold", "invoiced", "paid",
              "dispatched"]  # fmt: skip
INVOICE_LINE = ["sku", "name", "options", "quantity", "unit_price", "sub_total", "tax_rate", "tax_amount",
                "order_line_id", "tax_rate_id"]  # fmt: skip
PAYMENT = ["amount", "payment_date", "source", "description", "reference"]
DISPATCH_LINE = ["order_line_id", "sku", "name", "options", "quantity"]
VARIANT = ["id", "sku", "barcode", "options", "unit_price", "price_list_prices", "rrp", "backorder", "minimum",
           "multiple", "weight", "tax_rate_id", "location"]  # fmt: skip
PREFIXES = {"customers": "cu", "orders": "or", "dispatches": "di", "invoices": "iv", "products": "pr",
            "categories": "ca", "customer_groups": "cg", "price_lists": "pl", "payment_terms": "pt", "tax_rates": "tr",
            "preorder_windows": "pw"}  # fmt: skip
DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
# The day `big`'s history ends: pinned, so the dates below hold on any day.
DATA_END = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def big() -> Sandbox:
    """Large enough for proportions; never started, since records need no server."""
    return Sandbox(seed=5, orders=2500, rate_limit=None, today=DATA_END.date())


def everything(sandbox: Sandbox) -> dict[str, list[dict[str, Any]]]:
    return {resource: sandbox.records(resource) for resource in RESOURCES}


def values(records: list[dict[str, Any]], *path: str) -> Iterator[Any]:
    """Every value at `path`, descending into lists."""
    for record in records:
        yield from _walk(record, path)


def _walk(value: Any, path: tuple[str, ...]) -> Iterator[Any]:
    if isinstance(value, list):
        for item in value:
            yield from _walk(item, path)
    elif not path:
        yield value
    elif isinstance(value, dict) and path[0] in value:
        yield from _walk(value[path[0]], path[1:])


def test_the_same_seed_gives_the_same_records() -> None:
    assert everything(Sandbox(seed=3, orders=300)) == everything(Sandbox(seed=3, orders=300))


def test_another_seed_gives_other_records() -> None:
    first, second = everything(Sandbox(seed=3, orders=300)), everything(Sandbox(seed=4, orders=300))
    assert first["orders"] != second["orders"]
    assert first["customers"] != second["customers"]


@pytest.mark.parametrize("resource", RESOURCES)
def test_records_have_exactly_the_documented_fields_in_order(big: Sandbox, resource: str) -> None:
    for record in big.records(resource):
        assert list(record) == SHAPES[resource]


def test_nested_items_have_exactly_the_documented_fields(big: Sandbox) -> None:
    data = everything(big)
    for line in values(data["orders"], "order_lines"):
        assert list(line) == [k for k in ORDER_LINE if k in line]
        assert set(ORDER_LINE) - set(line) <= {"grouping_category"}
    for address in values(data["orders"], "shipping_address"):
        assert list(address) == ADDRESS
    for address in values(data["customers"], "addresses"):
        assert list(address) == CUSTOMER_ADDRESS
    assert all(list(line) == INVOICE_LINE for line in values(data["invoices"], "invoice_lines"))
    assert all(list(payment) == PAYMENT for payment in values(data["invoices"], "payments"))
    assert all(list(line) == DISPATCH_LINE for line in values(data["dispatches"], "dispatch_lines"))
    assert all(list(variant) == VARIANT for variant in values(data["products"], "product_variants"))
    assert all(
        list(deposit) == ["percentage", "due_date"] for deposit in values(data["invoices"], "deposit") if deposit
    )
    assert all(
        list(email) == ["orders", "dispatches", "invoices"] for email in values(data["orders"], "email_addresses")
    )


def test_ids_are_a_two_letter_prefix_and_eight_letters_or_digits_unique_per_resource(big: Sandbox) -> None:
    data = everything(big)
    for resource, prefix in PREFIXES.items():
        ids = [r["id"] for r in data[resource]]
        assert len(set(ids)) == len(ids)
        assert all(re.fullmatch(prefix + r"_[a-z0-9]{8}", i) for i in ids), resource
    line_ids = list(values(data["orders"], "order_lines", "id"))
    assert len(set(line_ids)) == len(line_ids)
    assert all(re.fullmatch(r"ol_[a-z0-9]{8}", i) for i in line_ids)
    variant_ids = list(values(data["products"], "product_variants", "id"))
    assert all(re.fullmatch(r"pv_[a-z0-9]{8}", i) for i in variant_ids)
    skus = [level["sku"] for level in data["inventory_levels"]]
    assert len(set(skus)) == len(skus) == len(variant_ids)


def test_timestamps_and_dates_are_in_the_documented_formats(big: Sandbox) -> None:
    data = everything(big)
    stamps = [*values(data["orders"], "created"), *values(data["dispatches"], "created")]
    stamps += list(values(data["customers"], "created_at"))
    assert all(DATE_TIME.match(s) for s in stamps)
    # Two years of history ending at the start of the pinned today.
    assert min(stamps) >= "2024-01-01" and max(stamps) <= "2026-01-01T00:00:00Z"
    dates = [d for d in values(data["orders"], "delivery_date") if d is not None]
    dates += [*values(data["invoices"], "invoice_date"), *values(data["invoices"], "due_date")]
    dates += [*values(data["invoices"], "payments", "payment_date"), *values(data["preorder_windows"], "deadline")]
    assert all(DATE.match(d) for d in dates)


@pytest.mark.parametrize(
    ("resource", "path"),
    [
        ("customers", ("tax_rate_id",)),
        ("customers", ("minimum_spend",)),
        ("customers", ("payment_terms_id",)),
        ("customers", ("customer_group_id",)),
        ("customers", ("price_list_id",)),
        ("customers", ("phone",)),
        ("customers", ("reference",)),
        ("categories", ("parent_id",)),
        ("products", ("product_variants", "multiple")),
        ("products", ("product_variants", "tax_rate_id")),
        ("products", ("description",)),
        ("orders", ("standing_order_id",)),
        ("orders", ("created_by",)),
        ("orders", ("delivery_date",)),
        ("orders", ("order_lines", "tax_rate_id")),
        ("orders", ("order_lines", "preorder_window_id")),
        ("orders", ("shipping_address", "line2")),
        ("invoices", ("deposit",)),
        ("invoices", ("payment_terms_id",)),
        ("invoices", ("invoice_lines", "order_line_id")),
    ],
)
def test_nullable_fields_are_sometimes_null_and_sometimes_not(big: Sandbox, resource: str, path: tuple[str]) -> None:
    found = list(values(big.records(resource), *path))
    assert None in found
    assert any(v is not None for v in found)


def test_real_data_quirks_are_present(big: Sandbox) -> None:
    data = everything(big)
    names = list(values(data["customers"], "company_name"))
    assert any(not n.isascii() for n in names)
    assert any(ord(ch) > 0xFFFF for n in names for ch in n)  # an emoji
    assert "" in set(values(data["orders"], "reference"))
    assert "" in set(values(data["orders"], "order_lines", "preorder_window_id"))
    assert any(
        isinstance(p, int) and not isinstance(p, bool) for p in values(data["orders"], "order_lines", "unit_price")
    )
    assert any(isinstance(p, float) and p != int(p) for p in values(data["orders"], "order_lines", "unit_price"))
    assert any(isinstance(q, float) for q in values(data["orders"], "order_lines", "quantity"))
    assert any(isinstance(q, float) for q in values(data["inventory_levels"], "on_hand"))
    assert {o["source"] for o in data["orders"]} == {"web", "admin", "api"}
    assert any(line["shipping"] for line in values(data["orders"], "order_lines"))
    assert any(line["sku"] == "" and not line["shipping"] for line in values(data["orders"], "order_lines"))
    statuses = set(values(data["orders"], "status"))
    assert statuses == {"new", "invoiced", "released", "part_fulfilled", "preorder", "fulfilled", "standing_order",
                        "cancelled"}  # fmt: skip


def test_references_between_records_hold(big: Sandbox) -> None:
    data = everything(big)
    ids = {resource: {r["id"] for r in data[resource]} for resource in PREFIXES}
    customers = {c["id"]: c for c in data["customers"]}
    orders = {o["id"]: o for o in data["orders"]}
    skus = {level["sku"] for level in data["inventory_levels"]}
    for customer in data["customers"]:
        for field, resource in (("payment_terms_id", "payment_terms"), ("customer_group_id", "customer_groups"),
                                ("price_list_id", "price_lists"), ("tax_rate_id", "tax_rates")):  # fmt: skip
            assert customer[field] is None or customer[field] in ids[resource]
    for order in data["orders"]:
        assert customers[order["customer_id"]]["created_at"] <= order["created"]
        assert order["standing_order_id"] is None or orders[order["standing_order_id"]]["status"] == "standing_order"
        for line in order["order_lines"]:
            assert line["sku"] == "" or line["sku"] in skus
            assert line["tax_rate_id"] is None or line["tax_rate_id"] in ids["tax_rates"]
            assert line["preorder_window_id"] in ("", None) or line["preorder_window_id"] in ids["preorder_windows"]
            assert "grouping_category" not in line or line["grouping_category"]["id"] in ids["categories"]
            assert line["dispatched"] <= line["quantity"] and line["paid"] <= line["invoiced"] <= line["quantity"]
        net = round(sum(line["sub_total"] for line in order["order_lines"]), 2)
        assert order["net_total"] == net
    dispatched: Counter[str] = Counter()
    for dispatch in data["dispatches"]:
        order = orders[dispatch["order_id"]]
        assert dispatch["order_number"] == order["number"]
        assert dispatch["created"] >= order["created"]
        lines = {line["id"]: line for line in order["order_lines"]}
        for item in dispatch["dispatch_lines"]:
            assert lines[item["order_line_id"]]["sku"] == item["sku"]
            dispatched[item["order_line_id"]] += item["quantity"]
    for order in data["orders"]:
        for line in order["order_lines"]:
            assert line["dispatched"] == dispatched[line["id"]]
    for invoice in data["invoices"]:
        covered = [orders[o["id"]] for o in invoice["orders"]]
        assert invoice["orders"] == [{"id": order["id"], "number": order["number"]} for order in covered]
        assert {order["customer_id"] for order in covered} == {invoice["customer_id"]}
        assert {order["currency"] for order in covered} == {invoice["currency"]}
        line_ids = [line["id"] for order in covered for line in order["order_lines"]]
        assert [item["order_line_id"] for item in invoice["invoice_lines"] if item["order_line_id"]] == line_ids
        assert invoice["payment_terms_id"] is None or invoice["payment_terms_id"] in ids["payment_terms"]
    for product in data["products"]:
        for variant in product["product_variants"]:
            assert all(price["id"] in ids["price_lists"] for price in variant["price_list_prices"])
            assert variant["tax_rate_id"] is None or variant["tax_rate_id"] in ids["tax_rates"]
        assert all(c["id"] in ids["categories"] for c in product["categories"])
    for category in data["categories"]:
        assert category["parent_id"] is None or category["parent_id"] in ids["categories"]
        assert all(p["product_id"] in ids["products"] for p in category["products"])
    for window in data["preorder_windows"]:
        assert all(c["id"] in ids["categories"] for c in window["categories"])


OPEN = ("new", "released", "invoiced", "part_fulfilled", "preorder", "standing_order")


def test_old_orders_are_nearly_all_closed_and_a_few_stay_open(big: Sandbox) -> None:
    cutoff = (DATA_END - timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
    old = [o for o in big.records("orders") if o["created"] < cutoff]
    statuses = Counter(o["status"] for o in old)
    open_share = sum(statuses[s] for s in OPEN) / len(old)
    assert 0.01 <= open_share <= 0.10
    assert statuses["fulfilled"] / len(old) > 0.8
    assert 0.02 <= statuses["cancelled"] / len(old) <= 0.08
    # The ones that stay open are of every long-lived kind.
    assert min(statuses["preorder"], statuses["standing_order"], statuses["released"]) > 0


def test_recent_orders_are_a_mix_of_every_stage(big: Sandbox) -> None:
    recent = [o for o in big.records("orders") if o["created"] >= "2025-12-01"]
    statuses = Counter(o["status"] for o in recent)
    assert {"new", "released", "invoiced", "part_fulfilled", "fulfilled", "preorder"} <= set(statuses)
    assert sum(statuses[s] for s in OPEN) / len(recent) > 0.2


def test_old_invoices_are_paid_but_for_a_few_slow_payers(big: Sandbox) -> None:
    old_due = (DATA_END - timedelta(days=90)).strftime("%Y-%m-%d")
    old = [i for i in big.records("invoices") if i["due_date"] < old_due]
    unpaid = [i for i in old if not i["paid"]]
    assert 0.002 <= len(unpaid) / len(old) <= 0.06
    every_unpaid = [i for i in big.records("invoices") if not i["paid"]]
    overdue = [(DATA_END - datetime.fromisoformat(i["due_date"]).replace(tzinfo=UTC)).days for i in every_unpaid]
    assert any(60 <= days < 90 for days in overdue)
    assert any(days >= 90 for days in overdue)


def test_nearly_every_order_not_cancelled_is_dispatched_and_invoiced(big: Sandbox) -> None:
    orders = [o for o in big.records("orders") if o["status"] != "cancelled"]
    dispatched = {d["order_id"] for d in big.records("dispatches")}
    invoiced = {o["id"] for i in big.records("invoices") for o in i["orders"]}
    assert 0.85 <= len(dispatched & {o["id"] for o in orders}) / len(orders) <= 0.99
    assert 0.85 <= len(invoiced) / len(orders) <= 0.99


def test_default_sizes_follow_the_order_count(big: Sandbox) -> None:
    totals = big.totals()
    assert totals["customers"] == 2500 // 20
    assert totals["products"] == 2500 // 50
    variants = [len(p["product_variants"]) for p in big.records("products")]
    assert min(variants) >= 1 and max(variants) <= 6
    assert min(len(o["order_lines"]) for o in big.records("orders")) >= 1
    assert max(len(o["order_lines"]) for o in big.records("orders")) == 8


def test_totals_count_every_resource_and_nested_item(big: Sandbox) -> None:
    data = everything(big)
    totals = big.totals()
    assert {k: totals[k] for k in RESOURCES} == {k: len(v) for k, v in data.items()}
    assert totals["order_lines"] == len(list(values(data["orders"], "order_lines")))
    assert totals["invoice_lines"] == len(list(values(data["invoices"], "invoice_lines")))
    assert totals["invoice_payments"] == len(list(values(data["invoices"], "payments")))
    assert totals["dispatch_lines"] == len(list(values(data["dispatches"], "dispatch_lines")))
    assert totals["product_variants"] == len(list(values(data["products"], "product_variants")))


def test_sizes_can_be_set() -> None:
    sandbox = Sandbox(orders=40, customers=7, products=3, lines_per_order=5)
    totals = sandbox.totals()
    assert (totals["orders"], totals["customers"], totals["products"]) == (40, 7, 3)
    assert {len(o["order_lines"]) for o in sandbox.records("orders")} == {5}
