"""`orderspace-sandbox` as a process: one JSON line when ready, then serving until SIGTERM or SIGINT."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

ENTRY_POINTS = {
    # The console script installed beside this interpreter.
    "script": [str(Path(sys.executable).parent / "orderspace-sandbox")],
    "module": [sys.executable, "-m", "orderspace_sandbox"],
}


@contextmanager
def running(command: list[str]) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline())
        yield process, ready
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


@pytest.mark.parametrize(("entry", "stop"), [("script", signal.SIGTERM), ("module", signal.SIGINT)])
def test_prints_where_it_listens_serves_and_exits_cleanly_on_a_signal(entry: str, stop: signal.Signals) -> None:
    command = [*ENTRY_POINTS[entry], "--port", "0", "--seed", "7", "--orders", "60", "--rate-limit", "0"]
    with running(command) as (process, ready):
        assert list(ready) == ["url", "api_url", "auth_url", "client_id", "client_secret", "pid"]
        assert ready["pid"] == process.pid
        assert ready["url"].startswith("http://127.0.0.1:")
        assert ready["api_url"] == ready["url"] + "/v1"
        assert ready["auth_url"] == ready["url"] + "/oauth/token"
        form = {"client_id": ready["client_id"], "client_secret": ready["client_secret"]}
        token = requests.post(ready["auth_url"], data={**form, "grant_type": "client_credentials"}, timeout=10)
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        orders = requests.get(ready["api_url"] + "/orders", headers=headers, params={"limit": 200}, timeout=10)
        assert len(orders.json()["orders"]) == 60
        process.send_signal(stop)
        assert process.wait(timeout=10) == 0


def test_options_reach_the_sandbox() -> None:
    command = [
        *ENTRY_POINTS["module"],
        "--seed", "3", "--orders", "30", "--customers", "6", "--products", "4", "--lines-per-order", "2",
        "--token-ttl", "90", "--rate-limit", "5", "--rate-window", "30", "--retry-after", "2", "--fault-rate", "0",
        "--client-id", "me", "--client-secret", "s3cret", "--host", "127.0.0.1", "--clock-offset", "-30.5",
        "--customer-time-field", "created",
    ]  # fmt: skip
    with running(command) as (process, ready):
        assert (ready["client_id"], ready["client_secret"]) == ("me", "s3cret")
        config = requests.get(ready["url"] + "/_sandbox/config", timeout=10).json()
        assert config == {
            "token_ttl": 90.0, "rate_limit": 5, "rate_window": 30.0, "retry_after": 2.0, "clock_offset": -30.5,
            "customer_time_field": "created",
        }  # fmt: skip
        totals = requests.get(ready["url"] + "/_sandbox/totals", timeout=10).json()
        assert (totals["orders"], totals["customers"], totals["products"], totals["order_lines"]) == (30, 6, 4, 60)
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_help_lists_every_option() -> None:
    out = subprocess.run([*ENTRY_POINTS["module"], "--help"], capture_output=True, text=True, check=True).stdout
    for option in ("--port", "--seed", "--orders", "--customers", "--products", "--lines-per-order", "--token-ttl",
                   "--rate-limit", "--rate-window", "--retry-after", "--fault-rate", "--client-id", "--client-secret",
                   "--host", "--clock-offset", "--customer-time-field"):  # fmt: skip
        assert option in out


def test_impossible_options_are_a_usage_error() -> None:
    result = subprocess.run([*ENTRY_POINTS["module"], "--orders", "-5"], check=False, capture_output=True, text=True)
    assert result.returncode == 2
    assert "must not be negative" in result.stderr
