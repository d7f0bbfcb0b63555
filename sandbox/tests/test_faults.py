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
