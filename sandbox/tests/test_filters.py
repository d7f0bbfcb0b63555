"""The filters each List endpoint documents: time bounds, dates, equality and flags."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orderspace_sandbox import Sandbox


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_created_since_is_inclusive(reader: Any, shared: Sandbox) -> None:
    orders = shared.records("orders")
    bound = orders[50]["created"]  # one of a group sharing its second
    expected = [o["id"] for o in orders if o["created"] >= bound]
    got = [o["id"] for o in reader.walk("orders", limit=20, created_since=bound)]
    assert got == expected
    assert sum(o["created"] == bound for o in orders) >= 3


def test_created_before_is_exclusive(reader: Any, shared: Sandbox) -> None:
    orders = shared.records("orders")
    bound = orders[200]["created"]
    expected = [o["id"] for o in orders if o["created"] < bound]
    assert [o["id"] for o in reader.walk("orders", limit=200, created_before=bound)] == expected


@pytest.mark.parametrize("resource", ["orders", "dispatches"])
def test_a_created_window_pages_with_its_filters_applied(reader: Any, shared: Sandbox, resource: str) -> None:
    records = shared.records(resource)
    since, before = records[150]["created"], records[20]["created"]
    expected = [r["id"] for r in records if since <= r["created"] < before]
    assert [r["id"] for r in reader.walk(resource, limit=9, created_since=since, created_before=before)] == expected


def test_customers_filter_on_created_at(reader: Any, shared: Sandbox) -> None:
    customers = shared.records("customers")
    bound = customers[5]["created_at"]
    expected = [c["id"] for c in customers if c["created_at"] >= bound]
    assert [c["id"] for c in reader.walk("customers", created_since=bound)] == expected


@pytest.mark.parametrize(
    "value",
    [
        "2025-06-01",
        "2025-06-01T00:00",
        "2025-06-01T00:00:00",
        "2025-06-01T00:00:00Z",
        "2025-06-01T00:00:00+00:00",
        "2025-06-01T00:00:00.000Z",
        "2025-06-01T00:00:00.000000+00:00",
        "2025-06-01T02:00:00+02:00",
    ],
)
def test_iso_8601_dates_and_date_times_are_accepted_naive_as_utc(reader: Any, shared: Sandbox, value: str) -> None:
    expected = [o["id"] for o in shared.records("orders") if o["created"] >= "2025-06-01T00:00:00Z"]
    assert [o["id"] for o in reader.walk("orders", limit=200, created_since=value)] == expected


def test_fractional_seconds_in_a_bound_count(reader: Any, shared: Sandbox) -> None:
    orders = shared.records("orders")
    second = orders[50]["created"]
    later = [o["id"] for o in orders if o["created"] > second]
    assert [o["id"] for o in reader.walk("orders", limit=200, created_since=second[:-1] + ".5Z")] == later


@pytest.mark.parametrize("value", ["yesterday", "2025-13-01", "01/06/2025", "2025-06-01T25:00"])
def test_an_unparseable_date_is_400(reader: Any, shared: Sandbox, bad_request: Any, value: str) -> None:
    bad_request(reader.get("orders", created_since=value), shared, "created_since")


@pytest.mark.parametrize(
    ("resource", "param", "field"),
    [
        ("orders", "status", "status"),
        ("orders", "customer_id", "customer_id"),
        ("orders", "number", "number"),
        ("orders", "reference", "reference"),
        ("orders", "standing_order_id", "standing_order_id"),
        ("invoices", "customer_id", "customer_id"),
        ("invoices", "number", "number"),
        ("dispatches", "order_id", "order_id"),
        ("customers", "status", "status"),
        ("customers", "company_name", "company_name"),
        ("customers", "reference", "reference"),
        ("customers", "price_list_id", "price_list_id"),
        ("customers", "customer_group_id", "customer_group_id"),
        ("customers", "payment_terms_id", "payment_terms_id"),
        ("products", "code", "code"),
        ("products", "name", "name"),
        ("inventory_levels", "sku", "sku"),
        ("categories", "parent_id", "parent_id"),
        ("categories", "name", "name"),
    ],
)
def test_equality_filters(reader: Any, shared: Sandbox, resource: str, param: str, field: str) -> None:
    records = shared.records(resource)
    key = "sku" if resource == "inventory_levels" else "id"
    values = [r[field] for r in records if r[field] not in (None, "")]
    # The most common value, so paging and filtering meet.
    value = max(set(values), key=values.count)
    expected = [r[key] for r in records if r[field] == value]
    got = reader.walk(resource, key, limit=3, **{param: str(value)})
    assert [r[key] for r in got] == expected


def test_non_ascii_values_filter_exactly(reader: Any, shared: Sandbox) -> None:
    names = [c["company_name"] for c in shared.records("customers") if not c["company_name"].isascii()]
    assert names
    got = reader.walk("customers", company_name=names[0])
    assert got and all(c["company_name"] == names[0] for c in got)


def test_buyers_email_address(reader: Any, shared: Sandbox) -> None:
    customer = next(c for c in shared.records("customers") if c["buyers"])
    got = reader.walk("customers", buyers_email_address=customer["buyers"][0]["email_address"])
    assert [c["id"] for c in got] == [customer["id"]]


def test_products_by_category(reader: Any, shared: Sandbox) -> None:
    category = max(shared.records("categories"), key=lambda c: len(c["products"]))
    expected = [p["id"] for p in shared.records("products") if category["id"] in [c["id"] for c in p["categories"]]]
    got = reader.walk("products", category_id=category["id"])
    assert sorted(p["id"] for p in got) == sorted(expected) == sorted(p["product_id"] for p in category["products"])


def test_inventory_levels_by_product(reader: Any, shared: Sandbox) -> None:
    product = max(shared.records("products"), key=lambda p: len(p["product_variants"]))
    got = reader.walk("inventory_levels", "sku", product_id=product["id"])
    assert [level["sku"] for level in got] == sorted(v["sku"] for v in product["product_variants"])


@pytest.mark.parametrize(
    ("resource", "param"), [("invoices", "paid"), ("invoices", "proforma"), ("products", "active")]
)
@pytest.mark.parametrize("value", ["true", "false", "TRUE"])
def test_flag_filters(reader: Any, shared: Sandbox, resource: str, param: str, value: str) -> None:
    expected = [r["id"] for r in shared.records(resource) if r[param] is (value.lower() == "true")]
    assert [r["id"] for r in reader.walk(resource, limit=200, **{param: value})] == expected


def test_a_flag_that_is_not_true_or_false_is_400(reader: Any) -> None:
    assert reader.get("invoices", paid="yes").status_code == 400


@pytest.mark.parametrize(
    ("resource", "param", "field", "keep"),
    [
        ("orders", "delivery_date_since", "delivery_date", lambda v, b: v >= b),
        ("orders", "delivery_date_before", "delivery_date", lambda v, b: v < b),
        ("invoices", "invoice_date_after", "invoice_date", lambda v, b: v > b),
        ("invoices", "invoice_date_before", "invoice_date", lambda v, b: v < b),
        ("invoices", "due_date_after", "due_date", lambda v, b: v > b),
        ("invoices", "due_date_before", "due_date", lambda v, b: v < b),
    ],
)
def test_date_filters(reader: Any, shared: Sandbox, resource: str, param: str, field: str, keep: Any) -> None:
    records = shared.records(resource)
    bound = sorted(r[field] for r in records if r[field])[len(records) // 3]
    expected = [r["id"] for r in records if r[field] and keep(r[field], bound)]
    assert 0 < len(expected) < len(records)
    assert [r["id"] for r in reader.walk(resource, limit=200, **{param: bound})] == expected


def test_undocumented_parameters_are_ignored(reader: Any) -> None:
    # invoices document no created_before: a real API would ignore it, and so does the sandbox.
    assert reader.page("invoices", created_before="2000-01-01") == reader.page("invoices")
    assert reader.page("orders", colour="red") == reader.page("orders")


def test_hidden_times_drive_created_since_for_invoices_products_and_stock(client: Any) -> None:
    sandbox = client.sandbox
    before = datetime.now(UTC) - timedelta(seconds=1)
    time.sleep(0.01)
    made = sandbox.mutate(new_products=2, new_orders=3, new_invoices=2)["created"]
    since = before.isoformat()
    assert [i["id"] for i in client.walk("invoices", created_since=since)] == list(reversed(made["invoices"]))
    assert [p["id"] for p in client.walk("products", created_since=since)] == list(reversed(made["products"]))
    levels = client.walk("inventory_levels", "sku", created_since=since)
    assert [level["sku"] for level in levels] == sorted(made["inventory_levels"])
    for resource in ("invoices", "products", "inventory_levels"):
        for record in sandbox.records(resource):
            assert not {"created_at", "updated_at", "created", "updated"} & set(record)


def test_updated_since_returns_what_changed_and_created_since_does_not(client: Any) -> None:
    sandbox = client.sandbox
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    changed = sandbox.mutate(update_products=4, update_stock=5)["updated"]
    assert sorted(p["id"] for p in client.walk("products", updated_since=since)) == sorted(changed["products"])
    levels = client.walk("inventory_levels", "sku", updated_since=since)
    assert [level["sku"] for level in levels] == sorted(changed["inventory_levels"])
    assert client.walk("products", created_since=since) == []


def test_a_new_record_falls_inside_the_second_it_shows(client: Any) -> None:
    order_id = client.sandbox.mutate(new_orders=1)["created"]["orders"][0]
    shown = next(o["created"] for o in client.sandbox.records("orders") if o["id"] == order_id)
    next_second = (ts(shown) + timedelta(seconds=1)).isoformat()
    assert order_id in [o["id"] for o in client.walk("orders", created_since=shown)]
    assert order_id not in [o["id"] for o in client.walk("orders", limit=200, created_before=shown)]
    assert order_id in [o["id"] for o in client.walk("orders", created_before=next_second, created_since=shown)]
