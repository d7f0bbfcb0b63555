"""Throttling, token expiry, outages and user mistakes, over HTTP against the sandbox."""

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
    with Sandbox(seed=31, orders=8000, rate_limit=60, rate_window=6.0) as sb:
        config = tap_config(sb, max_requests_per_minute=600)
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
    with Sandbox(seed=32, orders=700, rate_limit=None, retry_after=3) as sb:
        config = tap_config(sb)
        sb.add_fault(resource="orders", nth=2, kind="status", status=429)
        run = run_tap(config, catalog=catalog_selecting(["orders"], config))
        assert run.returncode == 0, run.stderr[-3000:]
        assert len(run.records["orders"]) == len(sb.records("orders"))
        log = [entry for entry in sb.stats()["log"] if entry["resource"] == "orders"]
        throttled_at = next(entry["t"] for entry in log if entry["status"] == 429)
        after = [entry["t"] for entry in log if entry["t"] > throttled_at]
        assert min(after) - throttled_at >= 3.0
        assert "throttled GET /orders (HTTP 429); sending nothing for 3 s (Retry-After)" in run.stderr
        assert_nothing_secret_in(run, sb)


def test_a_429_without_retry_after_waits_the_documented_minute() -> None:
    # The real throttle: the sixth request in a minute is refused, and the server
    # refuses everything for 60 s after. The tap must wait it out, not fail.
    with Sandbox(seed=33, orders=1400, rate_limit=5, rate_window=60.0) as sb:
        config = tap_config(sb)
        run = run_tap(config, catalog=catalog_selecting(["orders"], config), timeout=200)
        assert run.returncode == 0, run.stderr[-3000:]
        assert len(run.records["orders"]) == len(sb.records("orders"))
        stats = sb.stats()
        assert stats["throttled"] == 1
        log = stats["log"]
        throttled_at = next(entry["t"] for entry in log if entry["status"] == 429)
        assert min(entry["t"] for entry in log if entry["t"] > throttled_at) - throttled_at >= 60.0
        assert "sending nothing for 60 s (the documented minimum)" in run.stderr
        assert_nothing_secret_in(run, sb)


def test_tokens_expiring_every_two_seconds_during_a_long_sync() -> None:
    with Sandbox(seed=34, orders=6000, rate_limit=None, token_ttl=2.0) as sb:
        config = tap_config(sb, max_requests_per_minute=240)
        run = run_tap(config, catalog=catalog_selecting(["orders", "order_lines"], config))
        assert run.returncode == 0, run.stderr[-3000:]
        assert len(run.records["orders"]) == len(sb.records("orders"))
        assert sb.stats()["tokens_issued"] >= 3
        assert_nothing_secret_in(run, sb)


def test_a_token_revoked_mid_sync_is_renewed_once() -> None:
    with Sandbox(seed=35, orders=2000, rate_limit=None) as sb:
        config = tap_config(sb, max_requests_per_minute=300)
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
    [
        {"kind": "status", "status": 500},
        {"kind": "status", "status": 502, "times": 2},
        {"kind": "status", "status": 503},
        {"kind": "reset"},
        {"kind": "malformed"},
        {"kind": "slow", "seconds": 3.0},
    ],
    ids=["500", "502-twice", "503", "reset", "malformed", "timeout"],
)
def test_transient_faults_cost_a_retry_not_a_record(fault: dict[str, t.Any]) -> None:
    with Sandbox(seed=37, orders=900, rate_limit=None) as sb:
        sb.add_fault(resource="orders", nth=3, **fault)
        config = tap_config(sb, request_timeout=1)
        run = run_tap(config, catalog=catalog_selecting(["orders", "order_lines"], config))
        assert run.returncode == 0, run.stderr[-3000:]
        assert sorted(run.keys("orders")) == sorted(r["id"] for r in sb.records("orders"))
        assert len(run.records["order_lines"]) == sb.totals()["order_lines"]
        assert "retry 1 of 5" in run.stderr
        assert_nothing_secret_in(run, sb)


def test_a_seeded_random_fault_rate_loses_nothing() -> None:
    with Sandbox(seed=38, orders=1500, rate_limit=None, fault_rate=0.15) as sb:
        config = tap_config(sb, request_timeout=2)
        run = run_tap(config)
        assert run.returncode == 0, run.stderr[-3000:]
        for stream in ("orders", "customers", "dispatches", "invoices", "products"):
            assert len(run.records[stream]) == len(sb.records(stream)), stream
        assert_nothing_secret_in(run, sb)


def test_persistent_server_errors_fail_naming_the_endpoint() -> None:
    with Sandbox(seed=39, orders=300, rate_limit=None) as sb:
        sb.add_fault(resource="orders", nth=1, kind="status", status=503, times=50)
        config = tap_config(sb)
        run = run_tap(config, catalog=catalog_selecting(["orders"], config), timeout=120)
        line = single_line_error(run)
        assert "GET /orders failed 6 times in a row; the last error: HTTP 503" in line
        assert sb.stats()["requests"]["orders"] == 6
        assert_nothing_secret_in(run, sb)


@pytest.mark.parametrize("status", [400, 404, 422])
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


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"client_id": None}, "setting 'client_id' is required"),
        ({"client_secret": None}, "setting 'client_secret' is required"),
        ({"page_size": 500}, "setting 'page_size' must be at most 200"),
        ({"page_size": "lots"}, "setting 'page_size' must be of type integer"),
        ({"start_date": "last tuesday"}, "setting 'start_date'"),
        ({"max_requests_per_minute": -1}, "setting 'max_requests_per_minute' must be at least 0"),
    ],
)
def test_a_bad_setting_is_one_line_before_any_request(change: dict[str, t.Any], expected: str) -> None:
    with Sandbox(seed=42, orders=50, rate_limit=None) as sb:
        config = {k: v for k, v in {**tap_config(sb), **change}.items() if v is not None}
        run = run_tap(config)
        line = single_line_error(run)
        assert expected in line
        assert sb.stats()["requests_total"] == 0
        assert sb.stats()["tokens_issued"] == 0
        assert_nothing_secret_in(run, sb)


def test_a_secret_in_a_bad_setting_is_not_echoed() -> None:
    with Sandbox(seed=43, orders=50, rate_limit=None) as sb:
        secret_as_number = {**tap_config(sb), "client_secret": ["s3cr3t-value-in-a-list"]}
        run = run_tap(secret_as_number)
        single_line_error(run)
        assert "s3cr3t-value-in-a-list" not in run.stderr + run.stdout


@pytest.mark.parametrize(
    ("option", "content", "expected"),
    [
        ("--state", "{not json", "the state file"),
        ("--state", "[1, 2]", "holds a JSON list"),
        ("--catalog", '{"streams": [', "the catalog file"),
    ],
)
def test_an_unreadable_state_or_catalog_file_is_one_line(
    tmp_path: Path, option: str, content: str, expected: str
) -> None:
    with Sandbox(seed=44, orders=50, rate_limit=None) as sb:
        path = tmp_path / "input.json"
        path.write_text(content)
        run = run_tap(tap_config(sb), option, str(path))
        line = single_line_error(run)
        assert expected in line
        assert_nothing_secret_in(run, sb)
        assert sb.stats()["requests_total"] == 0


def test_a_malformed_bookmark_is_one_line() -> None:
    with Sandbox(seed=45, orders=50, rate_limit=None) as sb:
        state = {"bookmarks": {"orders": {"replication_key": "created", "replication_key_value": "soon"}}}
        run = run_tap(tap_config(sb), state=state)
        assert_nothing_secret_in(run, sb)
        line = single_line_error(run)
        assert "stream 'orders'" in line
        assert "'soon'" in line


def test_debug_logging_leaks_nothing(tmp_path: Path) -> None:
    with Sandbox(seed=46, orders=1400, rate_limit=None, token_ttl=1.0) as sb:
        logging_config = tmp_path / "logging.yml"
        logging_config.write_text(
            "version: 1\nroot: {level: DEBUG, handlers: [stderr]}\n"
            "formatters: {plain: {format: '%(levelname)s %(name)s %(message)s'}}\n"
            "handlers: {stderr: {class: logging.StreamHandler, formatter: plain, stream: ext://sys.stderr}}\n"
        )
        os.environ["SINGER_SDK_LOG_CONFIG"] = str(logging_config)
        try:
            config = tap_config(sb, max_requests_per_minute=120)
            started = time.monotonic()
            run = run_tap(config, catalog=catalog_selecting(["orders"], config))
        finally:
            del os.environ["SINGER_SDK_LOG_CONFIG"]
        assert run.returncode == 0, run.stderr[-3000:]
        assert time.monotonic() - started > 1.0
        assert "DEBUG" in run.stderr
        assert len(sb.issued_tokens()) >= 2
        assert_nothing_secret_in(run, sb)
