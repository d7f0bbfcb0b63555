"""Throttling, token expiry, outages and user mistakes: the real tap process against the sandbox.

Each behaviour runs here end to end where that is cheap. The long waits (the documented
minute after a 429, backoff over six failures, Retry-After caps) are tested on an injected
clock in test_http_client.py, and the matrix of bad settings in test_hostile_inputs.py.
"""

from __future__ import annotations

import os
import threading
import time
import typing as t
from pathlib import Path

import pytest
from orderspace_sandbox import Sandbox
from tap_process import TapRun, catalog_selecting, run_tap, tap_config


def assert_nothing_secret_in(run: TapRun, sb: Sandbox, *also: str) -> None:
    """Neither the client secret nor any token the sandbox issued appears in any output."""
    needles = {sb.client_secret, *sb.issued_tokens(), *also}
    output = run.stdout + run.stderr
    for needle in needles:
        assert needle not in output


def single_line_error(run: TapRun) -> str:
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("tap-orderspace: error: ")]
    assert len(errors) == 1, run.stderr[-3000:]
    return errors[0]


def request_times(sb: Sandbox, resource: str | None = None) -> list[float]:
    return [entry["t"] for entry in sb.stats()["log"] if resource is None or entry["resource"] == resource]


def expire_tokens_after_requests(sb: Sandbox, resource: str, count: int) -> None:
    deadline = time.monotonic() + 60
    while sb.stats()["requests"].get(resource, 0) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    sb.expire_tokens()


def test_paced_sync_stays_under_the_limit_and_near_it() -> None:
    # 60 requests per 6 s is the 600-a-minute limit, scaled so the test is short.
    with Sandbox(seed=31, orders=1500, rate_limit=60, rate_window=6.0) as sb:
        config = tap_config(sb, max_requests_per_minute=600, page_size=50)
        run = run_tap(config, catalog=catalog_selecting(["orders", "customers", "products"], config))
        assert run.returncode == 0, run.stderr[-3000:]
        stats = sb.stats()
        assert stats["throttled"] == 0
        times = sorted(request_times(sb))
        assert len(times) >= 30
        achieved_per_minute = (len(times) - 1) / (times[-1] - times[0]) * 60
        assert achieved_per_minute >= 0.9 * 600, achieved_per_minute
        assert_nothing_secret_in(run, sb)


def test_a_429_with_retry_after_is_honoured_and_logged() -> None:
    with Sandbox(seed=32, orders=500, rate_limit=None, retry_after=1) as sb:
        config = tap_config(sb)
        sb.add_fault(resource="orders", nth=2, kind="status", status=429)
        run = run_tap(config, catalog=catalog_selecting(["orders"], config))
        assert run.returncode == 0, run.stderr[-3000:]
        assert len(run.records["orders"]) == len(sb.records("orders"))
        log = [entry for entry in sb.stats()["log"] if entry["resource"] == "orders"]
        throttled_at = next(entry["t"] for entry in log if entry["status"] == 429)
        after = [entry["t"] for entry in log if entry["t"] > throttled_at]
        assert min(after) - throttled_at >= 1.0
        assert "throttled GET /orders (HTTP 429); sending nothing for 1 s (Retry-After)" in run.stderr
        assert_nothing_secret_in(run, sb)


def test_tokens_expiring_every_second_during_a_long_sync() -> None:
    # One-second tokens, renewed at 0.9 s, over a sync of about 2.5 s.
    with Sandbox(seed=34, orders=2500, rate_limit=None, token_ttl=1.0) as sb:
        config = tap_config(sb, max_requests_per_minute=600, page_size=100)
        run = run_tap(config, catalog=catalog_selecting(["orders", "order_lines"], config))
        assert run.returncode == 0, run.stderr[-3000:]
        assert len(run.records["orders"]) == len(sb.records("orders"))
        assert sb.stats()["tokens_issued"] >= 3
        assert_nothing_secret_in(run, sb)


def test_a_token_revoked_mid_sync_is_renewed_once() -> None:
    with Sandbox(seed=35, orders=1000, rate_limit=None) as sb:
        config = tap_config(sb, max_requests_per_minute=600, page_size=100)
        revoke = threading.Thread(target=expire_tokens_after_requests, args=(sb, "orders", 3))
        revoke.start()
        run = run_tap(config, catalog=catalog_selecting(["orders"], config))
        revoke.join()
        assert run.returncode == 0, run.stderr[-3000:]
        assert len(run.records["orders"]) == len(sb.records("orders"))
        assert any(entry["status"] == 401 for entry in sb.stats()["log"])
        assert_nothing_secret_in(run, sb)


def test_a_second_401_in_a_row_is_an_authentication_error() -> None:
    with Sandbox(seed=36, orders=300, rate_limit=None) as sb:
        sb.add_fault(resource="orders", nth=1, kind="status", status=401, times=2)
        config = tap_config(sb)
        run = run_tap(config, catalog=catalog_selecting(["orders"], config))
        assert "rejected a newly issued access token on GET /orders" in single_line_error(run)
        assert_nothing_secret_in(run, sb)


@pytest.mark.parametrize(
    "fault",
    [{"kind": "status", "status": 503}, {"kind": "reset"}],
    ids=["503", "reset"],  # every other kind in test_http_client.py
)
def test_transient_faults_cost_a_retry_not_a_record(fault: dict[str, t.Any]) -> None:
    with Sandbox(seed=37, orders=500, rate_limit=None) as sb:
        sb.add_fault(resource="orders", nth=3, **fault)
        config = tap_config(sb, request_timeout=1)
        run = run_tap(config, catalog=catalog_selecting(["orders", "order_lines"], config))
        assert run.returncode == 0, run.stderr[-3000:]
        assert sorted(run.keys("orders")) == sorted(r["id"] for r in sb.records("orders"))
        assert len(run.records["order_lines"]) == sb.totals()["order_lines"]
        assert "retry 1 of 5" in run.stderr
        assert_nothing_secret_in(run, sb)


def test_a_seeded_random_fault_rate_loses_nothing() -> None:
    with Sandbox(seed=38, orders=600, rate_limit=None, fault_rate=0.15) as sb:
        config = tap_config(sb, request_timeout=2)
        run = run_tap(config)
        assert run.returncode == 0, run.stderr[-3000:]
        for stream in ("orders", "customers", "dispatches", "invoices", "products"):
            assert len(run.records[stream]) == len(sb.records(stream)), stream
        assert_nothing_secret_in(run, sb)


@pytest.mark.parametrize("status", [404])  # 400 and 422 in test_http_client.py
def test_client_errors_fail_at_once_with_the_api_message(status: int) -> None:
    with Sandbox(seed=40, orders=300, rate_limit=None) as sb:
        sb.add_fault(resource="orders", nth=1, kind="status", status=status)
        config = tap_config(sb)
        run = run_tap(config, catalog=catalog_selecting(["orders"], config))
        line = single_line_error(run)
        assert f"Orderspace answered HTTP {status} to GET /orders:" in line
        assert sb.stats()["requests"]["orders"] == 1
        assert_nothing_secret_in(run, sb)


def test_bad_credentials_are_one_line() -> None:
    with Sandbox(seed=41, orders=50, rate_limit=None) as sb:
        run = run_tap(tap_config(sb, client_secret="wrong-" + sb.client_secret))
        assert_nothing_secret_in(run, sb, "wrong-" + sb.client_secret)
        line = single_line_error(run)
        assert "refused the client credentials" in line
        assert "invalid_client" in line
        assert "check client_id and client_secret" in line


def test_a_secret_in_a_bad_setting_is_not_echoed() -> None:
    with Sandbox(seed=43, orders=50, rate_limit=None) as sb:
        secret_as_number = {**tap_config(sb), "client_secret": ["s3cr3t-value-in-a-list"]}
        run = run_tap(secret_as_number)
        single_line_error(run)
        assert "s3cr3t-value-in-a-list" not in run.stderr + run.stdout


def test_debug_logging_leaks_nothing(tmp_path: Path) -> None:
    with Sandbox(seed=46, orders=700, rate_limit=None, token_ttl=1.0) as sb:
        logging_config = tmp_path / "logging.yml"
        logging_config.write_text(
            "version: 1\nroot: {level: DEBUG, handlers: [stderr]}\n"
            "formatters: {plain: {format: '%(levelname)s %(name)s %(message)s'}}\n"
            "handlers: {stderr: {class: logging.StreamHandler, formatter: plain, stream: ext://sys.stderr}}\n"
        )
        os.environ["SINGER_SDK_LOG_CONFIG"] = str(logging_config)
        try:
            config = tap_config(sb, max_requests_per_minute=240, page_size=100)
            started = time.monotonic()
            run = run_tap(config, catalog=catalog_selecting(["orders"], config))
        finally:
            del os.environ["SINGER_SDK_LOG_CONFIG"]
        assert run.returncode == 0, run.stderr[-3000:]
        assert time.monotonic() - started > 1.0
        assert "DEBUG" in run.stderr
        assert len(sb.issued_tokens()) >= 2
        assert_nothing_secret_in(run, sb)
