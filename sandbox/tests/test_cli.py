"""`orderspace-sandbox` as a process: one JSON line when ready, then serving until SIGTERM or SIGINT."""

from __future__ import annotations

import datetime as dt
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
    before = dt.datetime.now(dt.UTC).date().isoformat()
    with running(command) as (process, ready):
        assert list(ready) == [
            "url", "api_url", "auth_url", "client_id", "client_secret", "pid", "site", "currency", "today", "seed",
        ]  # fmt: skip
        assert ready["pid"] == process.pid
        assert (ready["site"], ready["currency"], ready["seed"]) == ("uk", "GBP", 7)
        # By default the history ends on the server clock's date.
        assert ready["today"] in (before, dt.datetime.now(dt.UTC).date().isoformat())
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
        "--customer-time-field", "created", "--today", "2026-03-31", "--site", "eu",
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
        site = requests.get(ready["url"] + "/_sandbox/site", timeout=10).json()
        assert site == {"site": "eu", "currency": "EUR", "today": "2026-03-31", "seed": 3}
        orders = requests.get(ready["url"] + "/_sandbox/records/orders", timeout=10).json()["orders"]
        assert max(order["created"] for order in orders) <= "2026-03-31T00:00:00Z"
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_help_lists_every_option() -> None:
    out = subprocess.run([*ENTRY_POINTS["module"], "--help"], capture_output=True, text=True, check=True).stdout
    for option in ("--port", "--seed", "--orders", "--customers", "--products", "--lines-per-order", "--token-ttl",
                   "--rate-limit", "--rate-window", "--retry-after", "--fault-rate", "--client-id", "--client-secret",
                   "--host", "--clock-offset", "--customer-time-field", "--today", "--site"):  # fmt: skip
        assert option in out


@pytest.mark.parametrize(
    ("options", "word"),
    [(["--orders", "-5"], "negative"), (["--today", "31/03/2026"], "today"), (["--site", "us"], "site")],
)
def test_impossible_options_are_a_usage_error(options: list[str], word: str) -> None:
    result = subprocess.run([*ENTRY_POINTS["module"], *options], check=False, capture_output=True, text=True)
    assert result.returncode == 2
    assert word in result.stderr
    assert "Traceback" not in result.stderr
