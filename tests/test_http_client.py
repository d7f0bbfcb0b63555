"""OrderspaceClient over HTTP against the sandbox, on an injected clock.

The waits (pacing, throttling, retry backoff, token renewal) are recorded instead of slept,
so a 60-second throttle costs nothing; where the sandbox enforces a real window, the clock
sleeps a scaled-down fraction of each wait and the sandbox's window is scaled to match.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import random
import time
import typing as t

import pytest
from orderspace_sandbox import Sandbox

from tap_orderspace.errors import AuthenticationError, OrderspaceAPIError
from tap_orderspace.http_client import ClientSettings, OrderspaceClient, RecordNotFound
from tap_orderspace.pacing import backoff_wait

LOGGER = "tap-orderspace"
METRICS = "singer_sdk.metrics"


class FakeClock:
    """A monotonic clock that moves only when slept on; `scale` > 0 also sleeps that fraction for real."""

    def __init__(self, scale: float = 0.0) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.scale = scale

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds
        if self.scale:
            time.sleep(seconds * self.scale)


def client_for(sb: Sandbox, clock: FakeClock, **settings: float) -> OrderspaceClient:
    return OrderspaceClient(
        ClientSettings(
            api_url=sb.api_url,
            auth_url=sb.auth_url,
            client_id=sb.client_id,
            client_secret=sb.client_secret,
            user_agent="tap-orderspace/test",
            **{"max_requests_per_minute": 0, "request_timeout": 5.0, **settings},  # type: ignore[arg-type]
        ),
        monotonic=clock.monotonic,
        sleep=clock.sleep,
        rng=random.Random(12),  # noqa: S311 - seeded jitter
    )


def no_secret_logged(caplog: pytest.LogCaptureFixture, sb: Sandbox) -> None:
    for needle in [sb.client_secret, *sb.issued_tokens()]:
        assert needle not in caplog.text


@pytest.fixture
def sb() -> t.Iterator[Sandbox]:
    with Sandbox(seed=61, orders=120, rate_limit=None) as running:
        yield running


# Throttling ----------------------------------------------------------------------------------


def test_a_429_without_retry_after_waits_the_documented_minute(caplog: pytest.LogCaptureFixture) -> None:
    # The real throttle, scaled 1:100: 5 requests in any 0.6 s, then 0.6 s refused.
    # The client's 60 s wait sleeps 0.6 s for real, just enough.
    with Sandbox(seed=62, orders=50, rate_limit=5, rate_window=0.6) as sandbox:
        clock = FakeClock(scale=0.0101)
        client = client_for(sandbox, clock)
        caplog.set_level(logging.INFO, LOGGER)
        for _ in range(8):
            assert client.list_page("orders", {"limit": 5}).body["orders"]
        stats = sandbox.stats()
        assert stats["throttled"] == 1
        assert clock.sleeps == [60.0]
        assert "throttled GET /orders (HTTP 429); sending nothing for 60 s (the documented minimum)" in caplog.text
        no_secret_logged(caplog, sandbox)


def test_a_429_with_retry_after_waits_what_it_asks(sb: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    client = client_for(sb, clock)
    sb.add_fault(resource="orders", nth=1, kind="status", status=429, retry_after="3")
    caplog.set_level(logging.INFO, LOGGER)
    assert client.list_page("orders", {"limit": 5}).body["orders"]
    assert clock.sleeps == [3.0]
    assert "sending nothing for 3 s (Retry-After)" in caplog.text


@pytest.mark.parametrize("retry_after", ["3600", "1e10", "inf"])
def test_an_absurd_retry_after_is_capped_with_a_warning(
    sb: Sandbox, caplog: pytest.LogCaptureFixture, retry_after: str
) -> None:
    clock = FakeClock()
    client = client_for(sb, clock, max_retry_after_seconds=900)
    sb.add_fault(resource="orders", nth=1, kind="status", status=429, retry_after=retry_after)
    assert client.list_page("orders", {"limit": 5}).body["orders"]
    assert clock.sleeps == [900.0]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("asked for" in m and "waiting 900 s (max_retry_after_seconds)" in m for m in warnings), warnings


def test_a_retry_after_date_is_read_on_the_servers_clock(caplog: pytest.LogCaptureFixture) -> None:
    with Sandbox(seed=63, orders=20, rate_limit=None, clock_offset=-7200) as sandbox:
        clock = FakeClock()
        client = client_for(sandbox, clock)
        when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=-7200 + 120)
        sandbox.add_fault(
            resource="orders", nth=2, kind="status", status=429, retry_after=email.utils.format_datetime(when, True)
        )
        client.list_page("orders", {"limit": 5})
        client.list_page("orders", {"limit": 5})
        assert len(clock.sleeps) == 1
        assert 115 <= clock.sleeps[0] <= 121


def test_a_retry_after_that_is_no_time_waits_the_minute(sb: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    client = client_for(sb, clock)
    sb.add_fault(resource="orders", nth=1, kind="status", status=429, retry_after="soon")
    caplog.set_level(logging.INFO, LOGGER)
    client.list_page("orders", {"limit": 5})
    assert clock.sleeps == [60.0]
    assert "Retry-After was neither seconds nor a date" in caplog.text


def test_throttling_without_end_fails_naming_the_setting(sb: Sandbox) -> None:
    clock = FakeClock()
    client = client_for(sb, clock)
    sb.add_fault(resource="orders", nth=1, kind="status", status=429, retry_after="1", times=100)
    with pytest.raises(OrderspaceAPIError, match=r"throttled 11 times in a row.*max_requests_per_minute"):
        client.list_page("orders", {"limit": 5})
    assert sb.stats()["requests"]["orders"] == 11


# Retries -------------------------------------------------------------------------------------


def test_persistent_server_errors_fail_after_six_tries_with_bounded_backoff(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    client = client_for(sb, clock)
    sb.add_fault(resource="orders", nth=1, kind="status", status=503, times=50)
    with pytest.raises(OrderspaceAPIError) as raised:
        client.list_page("orders", {"limit": 5})
    assert str(raised.value) == "GET /orders failed 6 times in a row; the last error: HTTP 503"
    assert sb.stats()["requests"]["orders"] == 6
    assert len(clock.sleeps) == 5
    for retry, wait in enumerate(clock.sleeps, start=1):
        assert 0 <= wait <= min(30, 2 ** (retry - 1))
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert [m.split("; ")[1].split(" in ")[0] for m in retries] == [f"retry {n} of 5" for n in range(1, 6)]
    assert all(m.startswith("GET /orders failed (HTTP 503)") for m in retries)
    assert all(r.levelno == logging.WARNING for r in caplog.records if "retry" in r.getMessage())
    no_secret_logged(caplog, sb)


def test_backoff_is_exponential_capped_at_thirty_seconds_with_full_jitter() -> None:
    rng = random.Random(5)  # noqa: S311 - seeded jitter
    draws = {retry: [backoff_wait(retry, rng) for _ in range(400)] for retry in (1, 3, 6, 9)}
    for retry, waits in draws.items():
        bound = min(30.0, 2.0 ** (retry - 1))
        assert all(0 <= w <= bound for w in waits)
        assert max(waits) > 0.9 * bound  # full jitter reaches the bound
        assert min(waits) < 0.1 * bound  # ... and goes near zero


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 500},
        {"kind": "status", "status": 502, "times": 2},
        {"kind": "reset"},
        {"kind": "malformed"},
        {"kind": "slow", "seconds": 1.0},
    ],
    ids=["500", "502-twice", "reset", "malformed", "timeout"],
)
def test_a_transient_fault_costs_a_retry(
    sb: Sandbox, caplog: pytest.LogCaptureFixture, fault: dict[str, object]
) -> None:
    clock = FakeClock()
    client = client_for(sb, clock, request_timeout=0.3)
    sb.add_fault(resource="orders", nth=1, **fault)  # type: ignore[arg-type]
    page = client.list_page("orders", {"limit": 50})
    assert [r["id"] for r in page.body["orders"]] == [r["id"] for r in sb.records("orders")[:50]]
    assert len(clock.sleeps) == int(fault.get("times", 1))  # type: ignore[call-overload]
    assert "retry 1 of 5" in caplog.text


@pytest.mark.parametrize("status", [400, 404, 422])
def test_client_errors_fail_at_once_with_the_api_message(sb: Sandbox, status: int) -> None:
    clock = FakeClock()
    client = client_for(sb, clock)
    sb.add_fault(resource="orders", nth=1, kind="status", status=status)
    with pytest.raises(OrderspaceAPIError, match=f"Orderspace answered HTTP {status} to GET /orders: ") as raised:
        client.list_page("orders", {})
    assert raised.value.status == status
    assert sb.stats()["requests"]["orders"] == 1
    assert clock.sleeps == []


def test_a_url_that_cannot_be_requested_is_not_retried(sb: Sandbox) -> None:
    clock = FakeClock()
    client = client_for(sb, clock)
    client.token.authorization_header()
    client.settings = ClientSettings(**{**client.settings.__dict__, "api_url": "http://[::1"})
    with pytest.raises(OrderspaceAPIError, match="cannot be sent: InvalidURL"):
        client.list_page("orders", {})
    assert clock.sleeps == []


# Tokens --------------------------------------------------------------------------------------


def test_a_token_revoked_mid_sync_is_renewed_once(sb: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    client = client_for(sb, FakeClock())
    client.list_page("orders", {"limit": 5})
    sb.expire_tokens()
    caplog.set_level(logging.INFO, LOGGER)
    assert client.list_page("orders", {"limit": 5}).body["orders"]
    assert client.token.tokens_fetched == 2
    assert "Access token refused on GET /orders (HTTP 401: The access token expired); renewing it once" in caplog.text
    no_secret_logged(caplog, sb)


def test_a_second_401_in_a_row_is_an_authentication_error(sb: Sandbox) -> None:
    client = client_for(sb, FakeClock())
    sb.add_fault(resource="orders", nth=1, kind="status", status=401, times=2)
    with pytest.raises(AuthenticationError, match="rejected a newly issued access token on GET /orders"):
        client.list_page("orders", {"limit": 5})


def test_tokens_are_renewed_before_they_expire_on_the_clients_clock(sb: Sandbox) -> None:
    # Paced at 60 a minute on the fake clock, 40 requests span about 40 s: 2-second tokens
    # are renewed about every 1.8 s and no request is refused.
    sb.set_config(token_ttl=2.0)
    clock = FakeClock()
    client = client_for(sb, clock, max_requests_per_minute=60)
    for _ in range(40):
        client.list_page("orders", {"limit": 5})
    assert client.token.tokens_fetched >= 20
    assert not any(entry["status"] == 401 for entry in sb.stats()["log"])


def test_a_429_from_the_token_endpoint_is_waited_on_like_the_api(sb: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    client = client_for(sb, clock)
    sb.add_fault(resource="token", nth=1, kind="status", status=429)
    caplog.set_level(logging.INFO, LOGGER)
    assert client.list_page("orders", {"limit": 5}).body["orders"]
    assert clock.sleeps == [60.0]
    assert "throttled the token request (HTTP 429); sending nothing for 60 s" in caplog.text
    assert "auth_url" not in caplog.text


def test_a_token_endpoint_that_keeps_throttling_fails_in_one_message(sb: Sandbox) -> None:
    clock = FakeClock()
    client = client_for(sb, clock, max_retry_after_seconds=5)
    sb.add_fault(resource="token", nth=1, kind="status", status=429, times=100)
    with pytest.raises(OrderspaceAPIError, match=r"throttled 6 token requests in a row \(HTTP 429\)"):
        client.list_page("orders", {})
    assert clock.sleeps == [5.0] * 5


def test_token_endpoint_errors_are_retried_through_the_injected_sleep(sb: Sandbox) -> None:
    clock = FakeClock()
    client = client_for(sb, clock)
    sb.add_fault(resource="token", nth=1, kind="status", status=503, times=2)
    assert client.list_page("orders", {"limit": 5}).body["orders"]
    assert len(clock.sleeps) == 2
    assert all(0 <= wait <= 2 for wait in clock.sleeps)


# The server's clock and retrieve -------------------------------------------------------------


def test_the_servers_clock_comes_from_its_date_header() -> None:
    with Sandbox(seed=64, orders=20, rate_limit=None, clock_offset=-86400) as sandbox:
        client = client_for(sandbox, FakeClock())
        server_now = client.server_now()
        expected = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        assert abs((server_now - expected).total_seconds()) <= 2


def test_retrieve_a_deleted_record_is_not_found(sb: Sandbox) -> None:
    client = client_for(sb, FakeClock())
    order = sb.records("orders")[0]
    assert client.retrieve("orders", order["id"]).body["order"]["id"] == order["id"]
    with pytest.raises(RecordNotFound):
        client.retrieve("orders", "or_gone0000")


# Metrics ---------------------------------------------------------------------------------------


def _metric_points(caplog: pytest.LogCaptureFixture, metric: str) -> list[dict[str, t.Any]]:
    points = [json.loads(r.getMessage().removeprefix("METRIC: ")) for r in caplog.records if r.name == METRICS]
    return [point for point in points if point["metric"] == metric]


def test_every_request_is_measured_as_the_sdk_measures_its_own(sb: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=METRICS)
    client = client_for(sb, FakeClock())
    order = sb.records("orders")[0]
    sb.add_fault(resource="orders", nth=2, kind="status", status=503)
    with client.counting_requests("orders"):
        client.list_page("orders", {"limit": 5})
        client.list_page("orders", {"limit": 5})  # a 503, then its retry
        client.retrieve("orders", order["id"])
        with pytest.raises(RecordNotFound):
            client.retrieve("orders", "or_gone0000")
        assert not _metric_points(caplog, "http_request_count")  # counted until the stream ends

    durations = _metric_points(caplog, "http_request_duration")
    assert [(p["tags"]["endpoint"], p["tags"]["http_status_code"], p["tags"]["status"]) for p in durations] == [
        ("/orders", 200, "succeeded"),
        ("/orders", 503, "failed"),
        ("/orders", 200, "succeeded"),
        ("/orders/{id}", 200, "succeeded"),
        ("/orders/{id}", 404, "failed"),
    ]
    assert all(p["type"] == "timer" and p["tags"]["stream"] == "orders" and p["value"] >= 0 for p in durations)
    counts = {p["tags"]["endpoint"]: p["value"] for p in _metric_points(caplog, "http_request_count")}
    assert counts == {"/orders": 3, "/orders/{id}": 2}
    assert client.requests_sent == 5
    assert sb.stats()["requests_total"] == 5
