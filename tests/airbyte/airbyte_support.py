"""Running `source-orderspace` directly and through PyAirbyte (in `.venv-airbyte`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest
from orderspace_sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCE = Path(sys.executable).parent / "source-orderspace"
AIRBYTE_PYTHON = ROOT / ".venv-airbyte" / "bin" / "python"
DRIVER = Path(__file__).resolve().parent / "pyairbyte_driver.py"
# PyAirbyte reads the sandbox slowly enough at this size; 450 orders give a few pages per stream at 50.
PAGE_SIZE = 50
DRIVER_TIMEOUT = 600


def require_airbyte_venv() -> Path:
    """`.venv-airbyte`'s python; without it the test is skipped, except under CI, where it fails."""
    if AIRBYTE_PYTHON.exists():
        return AIRBYTE_PYTHON
    reason = ".venv-airbyte is absent: `python3 scripts/test.py` creates it (PyAirbyte)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def source_config(sandbox: Sandbox, **overrides: t.Any) -> dict[str, t.Any]:
    config: dict[str, t.Any] = {
        **sandbox.config(),
        "max_requests_per_minute": 0,
        "request_timeout": 10,
        "page_size": PAGE_SIZE,
    }
    config.update(overrides)
    return config


@dataclass
class SourceRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def messages(self) -> list[dict[str, t.Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def of_type(self, kind: str) -> list[dict[str, t.Any]]:
        return [message for message in self.messages if message["type"] == kind]

    def records(self, stream: str) -> list[dict[str, t.Any]]:
        return [m["record"]["data"] for m in self.of_type("RECORD") if m["record"]["stream"] == stream]


def run_source(tmp_path: Path, command: str, **files: t.Any) -> SourceRun:
    """`source-orderspace <command> --<name> <file>` for each JSON document given."""
    args = [str(SOURCE), command]
    for name, content in files.items():
        path = tmp_path / f"{name}-{len(list(tmp_path.iterdir()))}.json"
        path.write_text(json.dumps(content), encoding="utf-8")
        args += [f"--{name}", str(path)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=DRIVER_TIMEOUT, check=False)
    return SourceRun(done.returncode, done.stdout, done.stderr)


def configured_catalog(catalog: dict[str, t.Any], sync_mode: str = "incremental") -> dict[str, t.Any]:
    """Every stream, as PyAirbyte configures them (incremental where supported)."""
    return {
        "streams": [
            {
                "stream": stream,
                "sync_mode": sync_mode if sync_mode in stream["supported_sync_modes"] else "full_refresh",
                "destination_sync_mode": "append_dedup",
            }
            for stream in catalog["streams"]
        ]
    }


class PyAirbyte:
    """PyAirbyte in `.venv-airbyte`, running `source-orderspace` through a wrapper that keeps
    every line the source writes (in `lines_files`, one per run) for validation."""

    def __init__(self, python: Path, workdir: Path) -> None:
        self.python = python
        self.workdir = workdir
        self.cache_dir = workdir / "cache"
        self.runs = 0
        self.lines_files: list[Path] = []

    def _wrapper(self) -> Path:
        self.runs += 1
        lines = self.workdir / f"source-lines-{self.runs}.jsonl"
        self.lines_files.append(lines)
        wrapper = self.workdir / f"source-orderspace-{self.runs}"
        wrapper.write_text(
            f'#!/bin/bash\nset -o pipefail\n"{SOURCE}" "$@" | tee -a "{lines}"\n',
            encoding="utf-8",
        )
        wrapper.chmod(0o755)
        return wrapper

    def drive(self, action: str, config: dict[str, t.Any] | None = None, **job: t.Any) -> dict[str, t.Any]:
        job_file = self.workdir / f"job-{action}-{self.runs}.json"
        job.update(action=action, config=config, executable=str(self._wrapper()), cache_dir=str(self.cache_dir))
        job_file.write_text(json.dumps(job), encoding="utf-8")
        env = {**os.environ, "AIRBYTE_OFFLINE_MODE": "1", "DO_NOT_TRACK": "1", "NO_COLOR": "1"}
        done = subprocess.run(
            [str(self.python), str(DRIVER), str(job_file)],
            capture_output=True,
            text=True,
            cwd=self.workdir,
            env=env,
            timeout=DRIVER_TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, f"PyAirbyte driver failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
        answer: dict[str, t.Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return answer

    def invalid_lines(self, *outputs: str) -> list[str]:
        """Lines any run (or any of `outputs`) wrote that are not an AirbyteMessage; some must have been written."""
        for position, output in enumerate(outputs):
            path = self.workdir / f"output-{position}.jsonl"
            path.write_text(output, encoding="utf-8")
            self.lines_files.append(path)
        files = [path for path in self.lines_files if path.exists()]
        answer = self.drive("validate", files=[str(path) for path in files])
        assert answer["lines"] > 0
        invalid: list[str] = answer["invalid"]
        return invalid


def list_requests(sandbox: Sandbox) -> int:
    """List requests the sandbox served since its stats were reset (retrieves by id left out)."""
    return sum(1 for entry in sandbox.stats()["log"] if "id" not in entry and entry["status"] == 200)
