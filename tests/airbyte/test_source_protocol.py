"""`source-orderspace` run as a program: errors in one TRACE line, and a read stopped and resumed."""

from __future__ import annotations

import json
import signal
import subprocess
import typing as t
from pathlib import Path

import pytest
from airbyte_support import (
    SOURCE,
    PyAirbyte,
    configured_catalog,
    require_airbyte_venv,
    run_source,
    source_config,
)
from orderspace_sandbox import Sandbox

from tap_orderspace.airbyte.protocol import CONFIG_ERROR

pytestmark = pytest.mark.airbyte


@pytest.fixture
def pyairbyte(tmp_path: Path) -> PyAirbyte:
    """Here only to validate what the source wrote against `airbyte_protocol.models.AirbyteMessage`."""
    return PyAirbyte(require_airbyte_venv(), tmp_path)


def _stream_state(name: str, value: t.Any) -> dict[str, t.Any]:
    return {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": value}}


def test_wrong_secret_is_one_config_error_line(tmp_path: Path, sandbox: Sandbox, pyairbyte: PyAirbyte) -> None:
    config = source_config(sandbox, client_secret="wrong-secret-7f3a")
    catalog = configured_catalog(run_source(tmp_path, "discover", config=config).messages[0]["catalog"])
    run = run_source(tmp_path, "read", config=config, catalog=catalog)
    assert run.returncode == 1
    errors = [m["trace"]["error"] for m in run.of_type("TRACE") if m["trace"]["type"] == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["failure_type"] == CONFIG_ERROR
    assert "check client_id and client_secret" in errors[0]["message"]
    for output in (run.stdout, run.stderr):
        assert "Traceback" not in output
        assert "wrong-secret-7f3a" not in output
    assert pyairbyte.invalid_lines(run.stdout) == []


def test_a_malformed_state_is_a_config_error(tmp_path: Path, sandbox: Sandbox, pyairbyte: PyAirbyte) -> None:
    config = source_config(sandbox)
    catalog = configured_catalog(run_source(tmp_path, "discover", config=config).messages[0]["catalog"])
    malformed = {"open_ids": 7}
    state = [_stream_state("orders", malformed), _stream_state("order_lines", malformed)]
    run = run_source(tmp_path, "read", config=config, catalog=catalog, state=state)
    assert run.returncode == 1
    (error,) = [m["trace"]["error"] for m in run.of_type("TRACE") if m["trace"]["type"] == "ERROR"]
    assert error["failure_type"] == CONFIG_ERROR
    assert "'open_ids'" in error["message"]
    assert "clear the stream's state in Airbyte" in error["message"]
    assert "meltano" not in error["message"]
    assert sandbox.stats()["requests_total"] == 0
    assert pyairbyte.invalid_lines(run.stdout) == []


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_stopped_read_resumes_after_its_last_state(
    tmp_path: Path, sandbox: Sandbox, pyairbyte: PyAirbyte, stop: signal.Signals
) -> None:
    config = source_config(sandbox, page_size=20)
    catalog = configured_catalog(run_source(tmp_path, "discover", config=config).messages[0]["catalog"])
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (tmp_path / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")
    command = [
        str(SOURCE),
        "read",
        "--config",
        str(tmp_path / "config.json"),
        "--catalog",
        str(tmp_path / "catalog.json"),
    ]
    first: list[dict[str, t.Any]] = []
    written: list[str] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as process:
        assert process.stdout is not None
        pages = 0
        for line in process.stdout:
            written.append(line)
            message = json.loads(line)
            first.append(message)
            state = message.get("state", {}).get("stream", {})
            if state.get("stream_descriptor", {}).get("name") == "orders" and "in_progress" in state["stream_state"]:
                pages += 1
                if pages == 3:
                    process.send_signal(stop)
                    break
        rest = process.stdout.readlines()
        if stop == signal.SIGKILL and rest and not rest[-1].endswith("\n"):
            rest.pop()  # a line the kill cut short: the platform drops it, and no state after it is lost
        written += rest
        first += [json.loads(line) for line in rest]
    statuses = {m["trace"]["stream_status"]["status"] for m in first if m["type"] == "TRACE"}
    assert "COMPLETE" not in statuses
    if stop == signal.SIGTERM:
        # Stopped, not killed: every line whole, the streams reported INCOMPLETE.
        assert process.returncode == 128 + signal.SIGTERM
        assert "INCOMPLETE" in statuses
    else:
        assert process.returncode == -signal.SIGKILL

    # What the platform hands back: the last state of each stream, with its stats.
    last: dict[str, dict[str, t.Any]] = {}
    for message in first:
        if message["type"] == "STATE":
            last[message["state"]["stream"]["stream_descriptor"]["name"]] = {
                **message["state"],
                "destinationStats": message["state"]["sourceStats"],
            }
    resumed = run_source(tmp_path, "read", config=config, catalog=catalog, state=list(last.values()))
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    def ids(messages: list[dict[str, t.Any]], stream: str, key: str = "id") -> set[str]:
        return {m["record"]["data"][key] for m in messages if m["type"] == "RECORD" and m["record"]["stream"] == stream}

    all_orders = {record["id"] for record in sandbox.records("orders")}
    second_orders = ids(resumed.messages, "orders")
    assert ids(first, "orders") | second_orders == all_orders
    assert len(second_orders) < len(all_orders)  # resumed, not read again
    all_lines = {line["id"] for order in sandbox.records("orders") for line in order["order_lines"]}
    assert ids(first, "order_lines") | ids(resumed.messages, "order_lines") == all_lines
    assert pyairbyte.invalid_lines("".join(written), resumed.stdout) == []
