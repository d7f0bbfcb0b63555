"""Running the real tap process, as users do, and reading what it printed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from orderspace_sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
TAP = [sys.executable, "-m", "tap_orderspace"]


@dataclass
class TapRun:
    """What one tap process printed."""

    returncode: int
    stdout: str
    stderr: str

    @cached_property
    def messages(self) -> list[dict[str, t.Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    @property
    def records(self) -> dict[str, list[dict[str, t.Any]]]:
        by_stream: dict[str, list[dict[str, t.Any]]] = defaultdict(list)
        for message in self.messages:
            if message["type"] == "RECORD":
                by_stream[message["stream"]].append(message["record"])
        return by_stream

    @property
    def schemas(self) -> dict[str, dict[str, t.Any]]:
        return {m["stream"]: m for m in self.messages if m["type"] == "SCHEMA"}

    @property
    def states(self) -> list[dict[str, t.Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict[str, t.Any]:
        return self.states[-1]

    def keys(self, stream: str, key: str = "id") -> list[t.Any]:
        return [record[key] for record in self.records[stream]]


def tap_config(sandbox: Sandbox, **overrides: t.Any) -> dict[str, t.Any]:
    config = {**sandbox.config(), "max_requests_per_minute": 0, "request_timeout": 10}
    config.update(overrides)
    return config


# Where a sandbox is and how to log in to it does not change the catalog: one discovery
# (a process, about a second) serves every test with the same other settings.
_CONNECTION = frozenset({"api_url", "auth_url", "client_id", "client_secret"})
_discovered: dict[str, str] = {}


def discovered_catalog(config: dict[str, t.Any]) -> dict[str, t.Any]:
    key = json.dumps({k: v for k, v in config.items() if k not in _CONNECTION}, sort_keys=True, default=str)
    if key not in _discovered:
        run = run_tap(config, "--discover")
        assert run.returncode == 0, run.stderr[-3000:]
        _discovered[key] = run.stdout
    catalog: dict[str, t.Any] = json.loads(_discovered[key])
    return catalog


def catalog_selecting(streams: t.Iterable[str], config: dict[str, t.Any]) -> dict[str, t.Any]:
    """The discovered catalog with only `streams` selected."""
    wanted = set(streams)
    catalog = discovered_catalog(config)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in wanted
    return catalog


def _write_json(directory: Path, name: str, value: t.Any) -> str:
    path = directory / name
    path.write_text(json.dumps(value), encoding="utf-8")
    return str(path)


def run_tap(
    config: dict[str, t.Any],
    *args: str,
    state: dict[str, t.Any] | None = None,
    catalog: dict[str, t.Any] | None = None,
    timeout: float = 300,
    stop_after_lines: t.Callable[[list[str]], bool] | None = None,
    stop_signal: signal.Signals = signal.SIGKILL,
) -> TapRun:
    """Run `tap-orderspace` as users do: a process, config/state/catalog files, stdout.

    `stop_after_lines` sends `stop_signal` once it returns true for the lines read so far:
    the crash (SIGKILL) or the shutdown (SIGTERM) of a long sync, at a moment the test chooses.
    """
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        command = [*TAP, "--config", _write_json(directory, "config.json", config), *args]
        if state is not None:
            command += ["--state", _write_json(directory, "state.json", state)]
        if catalog is not None:
            command += ["--catalog", _write_json(directory, "catalog.json", catalog)]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=directory,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        stderr_chunks: list[str] = []
        reader = threading.Thread(target=lambda: stderr_chunks.append(process.stderr.read()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        lines: list[str] = []
        stopped = False
        deadline = time.monotonic() + timeout
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            # Once signalled, keep reading what it prints while it stops.
            if stop_after_lines is not None and not stopped and stop_after_lines(lines):
                process.send_signal(stop_signal)
                stopped = True
            if time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"tap ran longer than {timeout} s")
        process.wait(timeout=timeout)
        reader.join(timeout=10)
        process.stdout.close()
        process.stderr.close()  # type: ignore[union-attr]
        # A stopped process may have half-written its last line.
        stdout = "".join(line for line in lines if line.endswith("\n")) if stopped else "".join(lines)
        return TapRun(process.returncode, stdout, "".join(stderr_chunks))
