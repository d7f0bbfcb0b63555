"""Injected faults: a given answer on the Nth request to a resource, and a seeded random fault rate."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests

from orderspace_sandbox import Sandbox


def outcome(client: Any, resource: str = "orders") -> int | str:
    """The status, or what went wrong instead of an answer."""
    try:
        response = client.get(resource)
    except requests.ConnectionError:
        return "reset"
    try:
        response.json()
    except ValueError:
        return "malformed"
    return int(response.status_code)


@pytest.mark.parametrize("status", [500, 502, 503, 404, 422, 429])
def test_a_status_fault_answers_the_nth_request_with_a_json_message(client: Any, status: int) -> None:
    client.sandbox.add_fault("orders", nth=2, status=status)
    first, second, third = (client.get("orders") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (200, status, 200)
    assert second.json()["message"]
    assert "Retry-After" not in second.headers
    if status == 422:
        assert second.json()["message"].startswith("Validation failed: ")


@pytest.mark.parametrize("status", [400, 401])
def test_a_400_or_401_fault_has_the_live_apis_empty_body(client: Any, status: int) -> None:
    client.sandbox.add_fault("orders", nth=1, status=status)
    response = client.get("orders")
    assert (response.status_code, response.content) == (status, b"")
    assert response.headers["Content-Type"].startswith("text/html")
    if status == 401:
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_times_repeats_the_fault_on_consecutive_requests(client: Any) -> None:
    client.sandbox.add_fault("orders", nth=3, kind="status", status=503, times=3)
    assert [outcome(client) for _ in range(7)] == [200, 200, 503, 503, 503, 200, 200]


def test_requests_are_counted_per_resource_from_when_the_fault_is_set(client: Any) -> None:
    assert outcome(client, "orders") == 200
    client.sandbox.add_fault("orders", nth=2, status=500)
    assert outcome(client, "invoices") == 200
    assert outcome(client, "orders") == 200
    assert outcome(client, "invoices") == 200
    assert outcome(client, "orders") == 500


def test_reset_closes_the_connection_without_an_answer(client: Any) -> None:
    client.sandbox.add_fault("orders", nth=1, kind="reset")
    with pytest.raises(requests.ConnectionError):
        client.get("orders")
    assert outcome(client) == 200
    assert [entry["status"] for entry in client.sandbox.stats()["log"]] == [0, 200]


def test_malformed_is_a_200_whose_body_is_not_json(client: Any) -> None:
    client.sandbox.add_fault("orders", nth=1, kind="malformed")
    response = client.get("orders")
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.content) > 0
    with pytest.raises(ValueError):
        json.loads(response.content)
    assert outcome(client) == 200


def test_slow_answers_normally_after_the_delay(client: Any) -> None:
    client.sandbox.add_fault("orders", nth=1, kind="slow", seconds=0.4)
    started = time.monotonic()
    body = client.page("orders")
    assert time.monotonic() - started >= 0.4
    assert len(body["orders"]) == 50


def test_a_fault_can_hit_the_token_endpoint(client: Any) -> None:
    client.sandbox.add_fault("token", nth=1, status=503)
    response = client.session.post(client.sandbox.auth_url, data={}, timeout=10)
    assert response.status_code == 503
    client.new_token()


def test_a_star_fault_hits_any_api_resource(client: Any) -> None:
    client.sandbox.add_fault("*", nth=2, status=502)
    assert [outcome(client, "tax_rates"), outcome(client, "customers"), outcome(client, "orders")] == [200, 502, 200]


def test_faults_are_set_and_cleared_over_http(client: Any) -> None:
    response = client.sandbox_post("faults", {"resource": "orders", "nth": 1, "kind": "status", "status": 500})
    assert response.status_code == 200
    assert response.json()["faults"][0]["resource"] == "orders"
    client.sandbox_post("faults", {"clear": True})
    assert client.sandbox_get("faults").json() == {"faults": [], "random_rate": 0.0}
    assert outcome(client) == 200


@pytest.mark.parametrize(
    "body",
    [
        {"resource": "orders", "kind": "explode"},
        {"resource": "webhooks"},
        {"resource": "orders", "nth": 0},
        {"resource": "orders", "status": 99},
        {"resource": "orders", "colour": "red"},
        {"random_rate": 2},
    ],
)
def test_an_invalid_fault_is_400(client: Any, body: dict[str, Any]) -> None:
    assert client.sandbox_post("faults", body).status_code == 400


def random_outcomes(connect: Any, **settings: Any) -> list[int | str]:
    with Sandbox(orders=50, rate_limit=None, **settings) as sandbox:
        client = connect(sandbox)
        return [outcome(client) for _ in range(40)]


def test_the_random_fault_rate_is_seeded(connect: Any) -> None:
    first = random_outcomes(connect, seed=3, fault_rate=0.3)
    assert first == random_outcomes(connect, seed=3, fault_rate=0.3)
    assert first != random_outcomes(connect, seed=4, fault_rate=0.3)
    faults = [o for o in first if o != 200]
    assert 4 <= len(faults) <= 24
    assert set(faults) <= {500, 502, 503, "reset", "malformed"}


def test_the_random_rate_is_set_and_reseeded_at_runtime(client: Any) -> None:
    client.sandbox_post("faults", {"random_rate": 0.5, "seed": 1})
    first = [outcome(client) for _ in range(20)]
    client.sandbox.set_fault_rate(0.5, seed=1)
    assert [outcome(client) for _ in range(20)] == first
    assert len(set(first)) > 1
    client.sandbox.clear_faults()
    assert {outcome(client) for _ in range(10)} == {200}


def test_empty_has_more_is_an_empty_page_that_claims_more(client: Any) -> None:
    client.sandbox.add_fault("orders", kind="empty_has_more")
    assert client.page("orders") == {"orders": [], "has_more": True}
    assert len(client.page("orders")["orders"]) == 50


def test_cursor_faults_answer_only_requests_with_a_cursor(client: Any) -> None:
    first = client.page("orders", limit=5)
    cursor = first["orders"][-1]["id"]
    client.sandbox.add_fault("orders", kind="ignore_cursor")
    assert client.page("orders", limit=5) == first
    assert client.page("orders", limit=5, starting_after=cursor) == first
    second = client.page("orders", limit=5, starting_after=cursor)
    assert second["orders"][0]["id"] != first["orders"][0]["id"]
    client.sandbox.add_fault("orders", kind="empty_after_cursor", times=2)
    assert client.page("tax_rates")["tax_rates"]
    assert client.page("orders", limit=5) == first
    for _ in range(2):
        assert client.page("orders", limit=5, starting_after=cursor) == {"orders": [], "has_more": False}
    assert client.page("orders", limit=5, starting_after=cursor) == second


def test_string_numbers_sends_numbers_as_strings_and_whole_floats(client: Any) -> None:
    plain = client.page("orders", limit=3)["orders"]
    client.sandbox.add_fault("orders", kind="string_numbers")
    spoiled = client.page("orders", limit=3)["orders"]
    lines = [line for order in spoiled for line in order["order_lines"]]
    values = [v for line in lines for k, v in line.items() if k in ("quantity", "unit_price", "sub_total")]
    assert all(isinstance(v, str) or (isinstance(v, float) and v.is_integer()) for v in values)
    assert any(isinstance(v, str) and "." in v for v in values)
    assert any(isinstance(o["number"], str) for o in spoiled)
    assert [o["id"] for o in spoiled] == [o["id"] for o in plain]
    assert all(
        float(o["gross_total"]) == pytest.approx(p["gross_total"], abs=0.005)
        for o, p in zip(spoiled, plain, strict=True)
    )


def test_null_id_nulls_the_last_records_id(client: Any) -> None:
    client.sandbox.add_fault("customers", kind="null_id")
    records = client.page("customers", limit=4)["customers"]
    assert [r["id"] is None for r in records] == [False, False, False, True]


@pytest.mark.parametrize(
    ("resource", "nested", "time_field"),
    [("orders", "order_lines", "created"), ("invoices", "invoice_lines", "invoice_date"),
     ("dispatches", "dispatch_lines", "created"), ("products", "product_variants", None)],
)  # fmt: skip
def test_malformed_record_spoils_a_time_a_nested_list_and_an_element(
    client: Any, resource: str, nested: str, time_field: str | None
) -> None:
    client.sandbox.add_fault(resource, kind="malformed_record")
    records = client.page(resource, limit=6)[resource]
    assert len(records) == 7
    assert 42 in records
    objects = [r for r in records if isinstance(r, dict)]
    assert isinstance(objects[1][nested], str)
    if time_field:
        assert objects[0][time_field] == "not a date"


@pytest.mark.parametrize("variant", ["bad_time", "nested_string", "not_object"])
def test_malformed_record_variant_spoils_one_way(client: Any, variant: str) -> None:
    client.sandbox_post("faults", {"resource": "orders", "kind": "malformed_record", "variant": variant})
    records = client.page("orders", limit=4)["orders"]
    assert (42 in records) is (variant == "not_object")
    objects = [r for r in records if isinstance(r, dict)]
    assert (objects[0]["created"] == "not a date") is (variant == "bad_time")
    assert isinstance(objects[1]["order_lines"], str) is (variant == "nested_string")


def test_future_record_dates_one_record_2099_and_only_where_there_is_a_time(client: Any) -> None:
    client.sandbox.add_fault("*", kind="future_record")
    assert client.page("products", limit=2)["products"] == client.sandbox.records("products")[:2]
    customers = client.page("customers", limit=2)["customers"]
    assert customers[0]["created_at"] == "2099-01-01T00:00:00Z"
    assert client.page("customers", limit=2)["customers"][0]["created_at"].startswith("20")


def test_page_faults_leave_retrieves_alone(client: Any) -> None:
    order = client.sandbox.records("orders")[0]
    client.sandbox.add_fault("orders", kind="null_id")
    assert client.page(f"orders/{order['id']}") == {"order": order}
    assert client.page("orders")["orders"][-1]["id"] is None


@pytest.mark.parametrize("value", ["3600", "1e10", "inf"])
def test_a_429_fault_sends_its_retry_after_verbatim(client: Any, value: str) -> None:
    client.sandbox.add_fault("orders", status=429, retry_after=value)
    assert client.get("orders").headers["Retry-After"] == value


def test_a_429_from_the_token_endpoint_has_no_retry_after_unless_set(client: Any) -> None:
    form = {"client_id": "sandbox-client", "client_secret": "sandbox-secret", "grant_type": "client_credentials"}
    client.sandbox.add_fault("token", status=429)
    refused = client.session.post(client.sandbox.auth_url, data=form, timeout=10)
    assert refused.status_code == 429
    assert "Retry-After" not in refused.headers
    client.sandbox.set_config(retry_after=7)
    client.sandbox.add_fault("token", status=429)
    assert client.session.post(client.sandbox.auth_url, data=form, timeout=10).headers["Retry-After"] == "7"


def test_crlf_token_issues_a_token_with_a_line_break_that_still_works(client: Any) -> None:
    client.sandbox.add_fault("token", kind="crlf_token")
    token = client.new_token()
    assert "\r\n" in token
    assert token in client.sandbox.issued_tokens()
    assert "\r\n" not in client.new_token()
    # HTTP clients refuse to put a line break in a header, so it is sent as-is in-process.
    assert client.sandbox.state.api("tax_rates", {}, f"Bearer {token}").status == 200


@pytest.mark.parametrize(
    "body",
    [
        {"resource": "token", "kind": "null_id"},
        {"resource": "orders", "kind": "crlf_token"},
        {"resource": "orders", "kind": "malformed_record", "variant": "odd"},
        {"resource": "orders", "status": 429, "retry_after": 5},
    ],
)
def test_a_fault_kind_on_the_wrong_resource_is_400(client: Any, body: dict[str, Any]) -> None:
    assert client.sandbox_post("faults", body).status_code == 400
