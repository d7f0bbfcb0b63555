"""Throttling: a sliding window of accepted requests, then a penalty during which every request is refused."""

from __future__ import annotations

import time
from typing import Any

from orderspace_sandbox import Sandbox


def statuses(client: Any, count: int) -> list[int]:
    return [client.get("tax_rates").status_code for _ in range(count)]


def test_the_request_past_the_limit_is_429_until_the_window_has_passed(connect: Any) -> None:
    with Sandbox(orders=5, rate_limit=3, rate_window=1.0) as sandbox:
        client = connect(sandbox)
        assert statuses(client, 3) == [200, 200, 200]
        refused = client.get("tax_rates")
        first_429 = time.monotonic()
        assert refused.status_code == 429
        assert refused.json()["message"]
        assert "Retry-After" not in refused.headers
        assert statuses(client, 2) == [429, 429]
        # Without retry_after, the penalty is the window, counted from the first 429.
        time.sleep(max(0.0, first_429 + 1.05 - time.monotonic()))
        assert statuses(client, 3) == [200, 200, 200]
        assert sandbox.stats()["throttled"] == 3


def test_retry_after_is_sent_and_is_the_penalty_which_retries_do_not_extend(connect: Any) -> None:
    with Sandbox(orders=5, rate_limit=2, rate_window=0.3, retry_after=1.0) as sandbox:
        client = connect(sandbox)
        assert statuses(client, 2) == [200, 200]
        first_429 = time.monotonic()
        refused = client.get("tax_rates")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
        # The window alone would have let these through; the penalty does not.
        for at in (0.4, 0.7):
            time.sleep(max(0.0, first_429 + at - time.monotonic()))
            assert client.get("tax_rates").status_code == 429
        time.sleep(max(0.0, first_429 + 1.05 - time.monotonic()))
        assert client.get("tax_rates").status_code == 200


def test_401s_and_the_token_endpoint_do_not_use_up_the_limit(connect: Any) -> None:
    with Sandbox(orders=5, rate_limit=2, rate_window=60.0) as sandbox:
        client = connect(sandbox)
        good = client.token
        client.token = "nonsense"
        assert statuses(client, 3) == [401, 401, 401]
        client.token = good
        client.new_token()
        assert statuses(client, 3) == [200, 200, 429]


def test_a_limit_of_none_or_zero_turns_throttling_off(connect: Any) -> None:
    for limit in (None, 0):
        with Sandbox(orders=5, rate_limit=limit, rate_window=60.0) as sandbox:
            assert set(statuses(connect(sandbox), 70)) == {200}


def test_limits_change_at_runtime_over_http(client: Any) -> None:
    response = client.sandbox_post("config", {"rate_limit": 2, "rate_window": 60, "retry_after": 5})
    assert response.json() == {
        "token_ttl": 1800.0, "rate_limit": 2, "rate_window": 60, "retry_after": 5, "clock_offset": 0.0,
        "customer_time_field": "created_at",
    }  # fmt: skip
    assert statuses(client, 3) == [200, 200, 429]
    assert client.get("tax_rates").headers["Retry-After"] == "5"
    client.sandbox_post("config", {"rate_limit": None})
    assert set(statuses(client, 5)) == {200}
    assert client.sandbox_get("config").json()["rate_limit"] is None


def test_bad_settings_are_400(client: Any) -> None:
    for body in ({"rate_limit": -1}, {"rate_window": 0}, {"colour": "red"}):
        assert client.sandbox_post("config", body).status_code == 400
