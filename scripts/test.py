#!/usr/bin/env python3
"""Set everything up, then lint, type-check and run the whole test suite (what CI runs).

    python3 scripts/test.py [pytest arguments]

Creates (or reuses) `.venv` and `.venv-meltano`, installs into Meltano the tap, the loaders the
tests use (DuckDB, PostgreSQL, JSONL, and the Snowflake and BigQuery loaders wrapped for the local
emulators fakesnow and bqemulator) and the four dbt utilities, runs ruff, ruff format --check and
mypy --strict, then
pytest over `tests/` and over `sandbox/tests/`, one session each, with any arguments given (paths
among them replace those two). The exit code is pytest's (5, "no tests ran", counts as a
failure), or 1 when only a lint or type check failed.

The PostgreSQL pipeline test uses ORDERSPACE_TEST_PG_URL (a postgresql:// URL of a user that may
create databases), else postgres:postgres on 127.0.0.1:5432; with none reachable it is skipped,
except under CI=true, where it fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from _env import ROOT, SetupError, elapsed, ensure_dev_venv, ensure_meltano, say

# target-snowflake-fakesnow and target-bigquery-emulator: the Snowflake and BigQuery loaders wrapped
# for the local fakesnow and bqemulator servers; bqemulator is a utility (docs/warehouses.md).
LOADERS = ["target-duckdb", "target-postgres", "target-jsonl", "target-snowflake-fakesnow", "target-bigquery-emulator"]
# dbt-snowflake and dbt-bigquery run on fakesnow and bqemulator; real warehouses are not reachable here.
UTILITIES = ("dbt-duckdb", "dbt-postgres", "dbt-snowflake", "dbt-bigquery", "bqemulator")
TEST_SUITES = ["tests", "sandbox/tests"]
NO_TESTS = 5


def check(name: str, command: list[str]) -> bool:
    say(name)
    print(f"$ {' '.join(command)}", flush=True)
    return subprocess.run(command, cwd=ROOT, check=False).returncode == 0


def main(pytest_args: list[str]) -> int:
    started = time.monotonic()
    try:
        python = ensure_dev_venv()
        meltano = ensure_meltano(LOADERS, UTILITIES)
    except SetupError as exc:
        print(f"test: {exc}", file=sys.stderr)
        return 1
    say(f"setup took {elapsed(started)}")

    tool = str(python)
    failed = [
        name
        for name, command in [
            ("ruff check", [tool, "-m", "ruff", "check", "."]),
            ("ruff format --check", [tool, "-m", "ruff", "format", "--check", "."]),
            # Strict, as configured in pyproject.toml ([tool.mypy]), over the tap, the sandbox and the tests.
            ("mypy --strict", [tool, "-m", "mypy", "tap_orderspace", "sandbox/orderspace_sandbox", "tests"]),
        ]
        if not check(name, command)
    ]

    env = {**os.environ, "MELTANO_BIN": str(meltano)}
    # One pytest session per test tree: each tree has its own conftest.py (and the sandbox its own
    # pytest settings), and a session that loads two top-level conftest modules keeps only one.
    names_paths = any(not arg.startswith("-") and (ROOT / arg.split("::")[0]).exists() for arg in pytest_args)
    sessions = [pytest_args] if names_paths else [[suite, *pytest_args] for suite in TEST_SUITES]
    codes = []
    for arguments in sessions:
        say(f"pytest {' '.join(arguments)}")
        # The slowest tests are listed at the end: where the suite's time goes, on every run.
        command = [str(python), "-m", "pytest", "--durations=15", *arguments]
        print(f"$ {' '.join(command)}", flush=True)
        codes.append(subprocess.run(command, cwd=ROOT, env=env, check=False).returncode)

    say(f"done in {elapsed(started)}")
    if failed:
        say(f"failed: {', '.join(failed)}")
    return combined_exit_code(codes, filtered=bool(pytest_args), lint_failed=bool(failed))


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
