"""tests/tap_process.py's runner, on a stand-in for the tap: what it keeps of a stopped process's output."""

from __future__ import annotations

import signal
import sys

import pytest
import tap_process

# Prints STATE lines until SIGTERM, then half a line and exits, as a process stopped mid-write does.
PRINTER = """
import json, signal, sys, time

def stop(*_):
    sys.stdout.write('{"type": "STATE", "value": {"n": ')
    sys.stdout.flush()
    sys.exit(0)

signal.signal(signal.SIGTERM, stop)
for n in range(3000):
    print(json.dumps({"type": "STATE", "value": {"n": n}}), flush=True)
    time.sleep(0.01)
"""


def test_a_stopped_process_loses_its_half_written_last_line_and_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tap_process, "TAP", [sys.executable, "-c", PRINTER])
    run = tap_process.run_tap({}, stop_after_lines=lambda lines: len(lines) == 3, stop_signal=signal.SIGTERM)
    assert run.returncode == 0, run.stderr
    assert not run.stdout.endswith('{"n": ')
    numbers = [state["n"] for state in run.states]
    assert numbers == list(range(len(numbers)))
    assert len(numbers) >= 3
