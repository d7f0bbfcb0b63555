"""`GET` and `DELETE /v1/<resource>/<id>`: one record by id, and deletion."""

from __future__ import annotations

from typing import Any

import pytest

from orderspace_sandbox import Sandbox

SINGULAR = {
    "orders": "order",
    "invoices": "invoice",
    "dispatches": "dispatch",
    "customers": "customer",
    "products": "product",
    "categories": "category",
    "price_lists": "price_list",
}
DELETABLE = ["categories", "customers", "invoices", "orders", "products", "price_lists"]


def delete(client: Any, resource: str, key: str) -> Any:
    return client.session.delete(
        f"{client.sandbox.api_url}/{resource}/{key}", headers={"Authorization": f"Bearer {client.token}"}, timeout=10
    )


@pytest.mark.parametrize("resource", list(SINGULAR))
def test_retrieve_answers_the_record_as_the_list_serves_it(reader: Any, resource: str) -> None:
    records = reader.sandbox.records(resource)
    for record in (records[0], records[len(records) // 2], records[-1]):
        body = reader.page(f"{resource}/{record['id']}")
        assert body == {SINGULAR[resource]: record}


def test_retrieves_are_counted_under_the_resource_and_logged_with_their_id(client: Any) -> None:
    order = client.sandbox.records("orders")[3]["id"]
    client.page("orders", limit=5)
    client.page(f"orders/{order}")
    client.get("orders/or_nothing")
    stats = client.sandbox.stats()
    assert stats["requests"] == {"orders": 3}
    list_pages = [e for e in stats["log"] if "id" not in e]
    retrieves = [e for e in stats["log"] if "id" in e]
    assert len(list_pages) == 1
    assert [(e["id"], e["method"], e["path"], e["status"]) for e in retrieves] == [
        (order, "GET", f"/v1/orders/{order}", 200),
        ("or_nothing", "GET", "/v1/orders/or_nothing", 404),
    ]


def test_retrieves_are_throttled_like_any_request(connect: Any) -> None:
    with Sandbox(orders=5, rate_limit=2, rate_window=60.0) as sandbox:
        client = connect(sandbox)
        order = sandbox.records("orders")[0]["id"]
        assert [client.get(f"orders/{order}").status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.parametrize("resource", DELETABLE)
def test_delete_answers_the_singular_key_and_the_record_is_gone(client: Any, resource: str) -> None:
    sandbox = client.sandbox
    before = sandbox.totals()[resource]
    key = sandbox.records(resource)[len(sandbox.records(resource)) // 2]["id"]
    response = delete(client, resource, key)
    assert response.status_code == 200
    assert response.json() == {SINGULAR[resource]: {"id": key, "deleted": True}}
    assert key not in {r["id"] for r in sandbox.records(resource)}
    assert sandbox.totals()[resource] == before - 1
    if resource in ("customers", "orders", "invoices", "products", "categories"):
        assert key not in {r["id"] for r in client.walk(resource, limit=200)}
    assert client.get(f"{resource}/{key}").status_code == 404
    again = delete(client, resource, key)
    assert again.status_code == 404
    assert key in again.json()["message"]


def test_deleting_a_product_removes_its_stock_levels_and_category_entries(client: Any) -> None:
    sandbox = client.sandbox
    product = next(p for p in sandbox.records("products") if p["categories"])
    skus = {v["sku"] for v in product["product_variants"]}
    assert delete(client, "products", product["id"]).status_code == 200
    assert not skus & {level["sku"] for level in sandbox.records("inventory_levels")}
    for category in sandbox.records("categories"):
        assert product["id"] not in [p["product_id"] for p in category["products"]]
    assert sandbox.totals()["inventory_levels"] == len(sandbox.records("inventory_levels"))


def test_a_cursor_naming_a_deleted_record_is_400_like_an_unknown_one(client: Any) -> None:
    page = client.page("orders", limit=10)["orders"]
    assert delete(client, "orders", page[-1]["id"]).status_code == 200
    assert client.get("orders", limit=10, starting_after=page[-1]["id"]).status_code == 400


@pytest.mark.parametrize(
    ("method", "path"), [("DELETE", "dispatches/x"), ("DELETE", "tax_rates/x"), ("GET", "tax_rates/x")]
)
def test_routes_the_api_lacks_are_an_html_404(reader: Any, method: str, path: str) -> None:
    response = reader.session.request(
        method, f"{reader.sandbox.api_url}/{path}", headers={"Authorization": f"Bearer {reader.token}"}, timeout=10
    )
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
