"""The test-only `/_sandbox/...` endpoints, and the in-process methods that mirror them."""

from __future__ import annotations

from typing import Any

import pytest

RESOURCES = [
    "customers", "orders", "dispatches", "invoices", "products", "inventory_levels", "categories",
    "customer_groups", "price_lists", "payment_terms", "tax_rates", "preorder_windows",
]  # fmt: skip
NESTED = ["order_lines", "invoice_lines", "invoice_payments", "dispatch_lines", "product_variants"]


def test_stats_count_api_requests_per_resource_and_log_them(client: Any) -> None:
    sandbox = client.sandbox
    client.get("orders", limit=3)
    client.get("orders", limit=3, created_since="2025-01-01")
    client.get("tax_rates")
    client.get("nothing")
    client.token = "stale"
    client.get("orders")
    stats = client.sandbox_get("stats").json()
    assert stats["requests"] == {"orders": 3, "tax_rates": 1, "nothing": 1}
    assert stats["requests_total"] == 5
    assert stats["tokens_issued"] == 1
    assert stats["throttled"] == 0
    log = stats["log"]
    assert [(e["resource"], e["status"]) for e in log] == [
        ("orders", 200), ("orders", 200), ("tax_rates", 200), ("nothing", 404), ("orders", 401),
    ]  # fmt: skip
    assert log[1]["params"] == {"limit": "3", "created_since": "2025-01-01"}
    assert all(isinstance(e["t"], float) for e in log)
    assert sandbox.stats() == stats


def test_reset_stats_zeroes_everything(client: Any) -> None:
    client.get("orders")
    assert client.sandbox_post("stats/reset").status_code == 200
    assert client.sandbox_get("stats").json() == {
        "requests": {}, "requests_total": 0, "throttled": 0, "tokens_issued": 0, "log": [],
    }  # fmt: skip
    client.get("orders")
    client.sandbox.reset_stats()
    assert client.sandbox.stats()["requests_total"] == 0


@pytest.mark.parametrize("resource", RESOURCES)
def test_records_are_every_record_in_list_order(reader: Any, resource: str) -> None:
    response = reader.sandbox_get(f"records/{resource}")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == [resource]
    assert body[resource] == reader.sandbox.records(resource)
    if resource in ("orders", "inventory_levels"):
        key = "sku" if resource == "inventory_levels" else "id"
        assert body[resource] == reader.walk(resource, key, limit=200)


def test_records_of_an_unknown_resource_is_404(reader: Any) -> None:
    assert reader.sandbox_get("records/webhooks").status_code == 404


def test_totals_count_all_twelve_resources_and_the_nested_items(reader: Any) -> None:
    totals = reader.sandbox_get("totals").json()
    assert set(totals) == set(RESOURCES) | set(NESTED)
    assert totals == reader.sandbox.totals()
    assert totals["order_lines"] == sum(len(o["order_lines"]) for o in reader.sandbox.records("orders"))


def test_an_unknown_test_endpoint_or_bad_body_is_an_error(client: Any) -> None:
    assert client.sandbox_get("nothing").status_code == 404
    response = client.session.post(f"{client.sandbox.url}/_sandbox/mutate", data=b"[1,", timeout=10)
    assert response.status_code == 400
    assert client.sandbox_post("config", {"rate_limit": "many"}).status_code == 400


def test_the_test_endpoints_need_no_token_and_are_not_counted(client: Any) -> None:
    for path in ("stats", "totals", "records/tax_rates", "config", "faults"):
        assert client.sandbox_get(path).status_code == 200
    assert client.sandbox.stats()["requests_total"] == 0
