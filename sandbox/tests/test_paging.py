"""Pagination and list order, per the reference's Pagination section and each List endpoint."""

from __future__ import annotations

import http.client
import json
from collections import Counter
from typing import Any

import pytest
import requests

from orderspace_sandbox import Sandbox

PAGINATED = ["customers", "orders", "dispatches", "invoices", "products", "inventory_levels", "categories"]
UNPAGINATED = ["customer_groups", "price_lists", "payment_terms", "tax_rates", "preorder_windows"]
NEWEST_FIRST = {"customers": "created_at", "orders": "created", "dispatches": "created"}


def key_of(resource: str) -> str:
    return "sku" if resource == "inventory_levels" else "id"


def test_the_default_limit_is_50(reader: Any) -> None:
    body = reader.page("orders")
    assert list(body) == ["orders", "has_more"]
    assert len(body["orders"]) == 50
    assert body["has_more"] is True


def test_the_maximum_limit_is_200(reader: Any) -> None:
    assert len(reader.page("orders", limit=200)["orders"]) == 200


@pytest.mark.parametrize("limit", ["201", "0", "-1", "ten", "2.5"])
def test_an_invalid_limit_is_400(reader: Any, shared: Sandbox, bad_request: Any, limit: str) -> None:
    bad_request(reader.get("orders", limit=limit), shared, "limit")


def test_a_blank_limit_means_the_default(reader: Any) -> None:
    assert len(reader.page("orders", limit="")["orders"]) == 50


@pytest.mark.parametrize("resource", PAGINATED)
@pytest.mark.parametrize("limit", [7, 200])
def test_walking_the_pages_gives_every_record_once_in_list_order(
    reader: Any, shared: Sandbox, resource: str, limit: int
) -> None:
    walked = reader.walk(resource, key_of(resource), limit=limit)
    assert walked == shared.records(resource)
    assert len({r[key_of(resource)] for r in walked}) == len(walked) > 0


def test_has_more_is_false_on_a_last_page_that_is_exactly_full(reader: Any, shared: Sandbox) -> None:
    total = len(shared.records("orders"))
    assert total % 50 == 0
    shared.reset_stats()
    reader.walk("orders", limit=50)
    assert shared.stats()["requests"] == {"orders": total // 50}


def test_an_unknown_cursor_is_400(reader: Any, shared: Sandbox, bad_request: Any) -> None:
    bad_request(reader.get("orders", starting_after="or_00000000"), shared, "starting_after")


def test_a_cursor_of_another_resource_is_400(reader: Any, shared: Sandbox) -> None:
    customer = shared.records("customers")[0]["id"]
    assert reader.get("orders", starting_after=customer).status_code == 400


@pytest.mark.parametrize("resource", list(NEWEST_FIRST))
def test_lists_are_newest_created_first(shared: Sandbox, resource: str) -> None:
    times = [r[NEWEST_FIRST[resource]] for r in shared.records(resource)]
    assert times == sorted(times, reverse=True)


def test_records_sharing_a_second_straddle_page_boundaries(shared: Sandbox) -> None:
    orders = shared.records("orders")
    for edge in (50, 200, 400):
        # Two on each side of the boundary between page `edge // limit` and the next.
        assert len({o["created"] for o in orders[edge - 2 : edge + 2]}) == 1, edge
    per_second = Counter(o["created"] for o in orders)
    assert max(per_second.values()) >= 3
    dispatches = shared.records("dispatches")
    assert len({d["created"] for d in dispatches[198:202]}) == 1


def test_within_one_second_the_newest_inserted_comes_first(sandbox: Sandbox) -> None:
    created = sandbox.mutate(new_orders=4, same_second=True)["created"]["orders"]
    listed = [o["id"] for o in sandbox.records("orders")[:4]]
    assert listed == list(reversed(created))


def test_inventory_levels_are_in_sku_order(shared: Sandbox) -> None:
    skus = [level["sku"] for level in shared.records("inventory_levels")]
    assert skus == sorted(skus)


def test_categories_follow_the_site_sort_order_with_children_under_their_parent(shared: Sandbox) -> None:
    categories = shared.records("categories")
    position = {c["id"]: i for i, c in enumerate(categories)}
    children = [c for c in categories if c["parent_id"]]
    assert children
    for child in children:
        assert position[child["parent_id"]] < position[child["id"]]


@pytest.mark.parametrize("resource", UNPAGINATED)
def test_unpaginated_lists_are_whole_and_carry_no_has_more(reader: Any, shared: Sandbox, resource: str) -> None:
    body = reader.page(resource, limit=1)
    assert list(body) == [resource]
    assert body[resource] == shared.records(resource)
    assert len(body[resource]) > 1


@pytest.mark.parametrize(
    "path", ["/v1/webhooks", "/v1/inventory_levels/X-1", "/v1/orders/or_1/lines", "/v2/orders", "/"]
)
def test_an_unknown_route_is_404_with_an_html_page(reader: Any, shared: Sandbox, path: str) -> None:
    response = requests.get(shared.url + path, headers={"Authorization": f"Bearer {reader.token}"}, timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")


def test_a_missing_record_is_404_with_a_json_message(reader: Any, shared: Sandbox) -> None:
    response = requests.get(
        shared.api_url + "/orders/or_12345678", headers={"Authorization": f"Bearer {reader.token}"}, timeout=10
    )
    assert response.status_code == 404
    assert "or_12345678" in response.json()["message"]


def test_responses_keep_the_connection_alive_and_carry_content_length(reader: Any, shared: Sandbox) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", int(shared.url.rsplit(":", 1)[1]), timeout=10)
    sockets = set()
    for path in ("/v1/orders?limit=200", "/v1/tax_rates", "/v1/orders/or_nope", "/_sandbox/totals"):
        connection.request("GET", path, headers={"Authorization": f"Bearer {reader.token}"})
        response = connection.getresponse()
        body = response.read()
        assert response.version == 11
        assert int(response.getheader("Content-Length") or -1) == len(body)
        assert response.getheader("Content-Type", "").startswith("application/json")
        json.loads(body)
        assert connection.sock is not None
        sockets.add(connection.sock.getsockname())
    connection.close()
    assert len(sockets) == 1


def test_bodies_are_utf8_json_with_the_characters_unescaped(reader: Any) -> None:
    response = reader.get("customers", limit=200)
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "\\u" not in response.text
    assert any(ord(ch) > 127 for ch in response.text)
