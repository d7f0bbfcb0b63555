"""What the live API does that the reference does not say: its clock, its customers' time field, and
fields no document lists."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
import requests

from orderspace_sandbox import Sandbox


def date_header(response: requests.Response) -> float:
    return parsedate_to_datetime(response.headers["Date"]).timestamp()


def test_every_answer_carries_a_date_from_the_servers_clock(connect: Any) -> None:
    with Sandbox(orders=20, rate_limit=None, clock_offset=-120.0) as sandbox:
        client = connect(sandbox)
        token = client.session.post(sandbox.auth_url, data={}, timeout=10)
        for response in (client.get("orders"), client.get("orders/or_none"), client.get("nothing"), token):
            assert abs(date_header(response) - (time.time() - 120)) < 3
        product = sandbox.mutate(update_products=1)["updated"]["products"][0]
        assert abs(sandbox.world.by_key["products"][product].updated - (time.time() - 120)) < 3


def test_mutate_takes_the_servers_clock_and_filters_compare_against_it(sandbox: Sandbox, connect: Any) -> None:
    sandbox.set_config(clock_offset=3600.0)
    client = connect(sandbox)
    assert abs(date_header(client.get("tax_rates")) - (time.time() + 3600)) < 3
    order = sandbox.mutate(new_orders=1)["created"]["orders"][0]
    level = sandbox.mutate(update_stock=1)["updated"]["inventory_levels"][0]
    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 1800))
    assert [o["id"] for o in client.walk("orders", created_since=soon)] == [order]
    assert [s["sku"] for s in client.walk("inventory_levels", "sku", updated_since=soon)] == [level]
    assert client.sandbox_post("config", {"clock_offset": "soon"}).status_code == 400


def test_customers_carry_created_at_by_default_and_created_in_the_live_shape(connect: Any) -> None:
    with Sandbox(orders=60, rate_limit=None) as sandbox:
        client = connect(sandbox)
        documented = client.page("customers", limit=200)["customers"]
        assert all("created_at" in c and "created" not in c for c in documented)
        middle = documented[len(documented) // 2]
        sandbox.set_config(customer_time_field="created")
        live = client.page("customers", limit=200)["customers"]
        assert [c["created"] for c in live] == [c["created_at"] for c in documented]
        assert all("created_at" not in c for c in live)
        assert list(live[0]) == ["created" if k == "created_at" else k for k in documented[0]]
        assert client.page(f"customers/{middle['id']}")["customer"]["created"] == middle["created_at"]
        assert sandbox.records("customers") == live
        since = {"created_since": middle["created_at"]}
        assert [c["id"] for c in client.walk("customers", **since)] == [
            c["id"] for c in documented if c["created_at"] >= middle["created_at"]
        ]
        assert client.sandbox_post("config", {"customer_time_field": "made"}).status_code == 400


def test_the_live_shape_can_be_chosen_at_start(connect: Any) -> None:
    with Sandbox(orders=10, rate_limit=None, customer_time_field="created") as sandbox:
        assert all("created" in c for c in connect(sandbox).page("customers")["customers"])


@pytest.mark.parametrize(
    ("resource", "check"),
    [
        ("orders", lambda r: r["created_by"] is None or isinstance(r["created_by"], str)),
        ("orders", lambda r: r["source"] in ("web", "admin", "api")),
        ("products", lambda r: all(isinstance(i, str) and i.startswith("https://") for i in r["images"])),
        ("products", lambda r: isinstance(r["tags"], list)),
        ("invoices", lambda r: all("order_line_id" in line for line in r["invoice_lines"])),
        ("customers", lambda r: r["website"] is None or r["website"].startswith("https://")),
    ],
)
def test_undocumented_fields_are_always_served(shared: Sandbox, resource: str, check: Any) -> None:
    assert all(check(record) for record in shared.records(resource))


def test_undocumented_fields_take_every_kind_of_value(shared: Sandbox) -> None:
    orders, products, customers = (shared.records(r) for r in ("orders", "products", "customers"))
    assert {o["created_by"] is None for o in orders} == {True, False}
    assert any(p["images"] for p in products)
    assert {c["website"] is None for c in customers} == {True, False}
