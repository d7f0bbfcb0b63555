"""Shared fixtures, and the markers that sort the tests into tiers (registered in pyproject.toml).

The markers are given here, from where a test lives and what it uses, rather than in each test
module, so that a new test lands in the right tier without anyone remembering to mark it:

- `pipeline`: everything under tests/pipeline/ (Meltano, loaders, dbt);
- `emulator`: a test that starts a warehouse emulator (the `fakesnow` or `bqemulator` fixture);
- `process`: a test in a module that runs programs as processes, through tests/tap_process.py or
  `subprocess` (the tap as users run it, `python -m build`, discovery for the README's tables).

(tests/airbyte/ marks its own tests `airbyte`.) The rest run in-process, and
`python3 scripts/test.py --fast` runs only those:
`-m "not process and not pipeline and not emulator and not airbyte"`.
"""

from __future__ import annotations

import subprocess
import typing as t
from pathlib import Path
from types import ModuleType

import pytest
import tap_process
from orderspace_sandbox import Sandbox

PIPELINE = Path(__file__).resolve().parent / "pipeline"
EMULATOR_FIXTURES = frozenset({"fakesnow", "bqemulator"})


def _runs_processes(module: ModuleType) -> bool:
    """Whether a test module holds `subprocess`, tests/tap_process.py, or anything from the latter."""
    return any(
        value is subprocess or value is tap_process or getattr(value, "__module__", None) == tap_process.__name__
        for value in vars(module).values()
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if PIPELINE in item.path.parents:
            item.add_marker(pytest.mark.pipeline)
        if EMULATOR_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.emulator)
        module = getattr(item, "module", None)
        if module is not None and _runs_processes(module):
            item.add_marker(pytest.mark.process)


@pytest.fixture
def sandbox() -> t.Iterator[Sandbox]:
    """A sandbox of the test's own: for a test that changes it or counts its requests."""
    with Sandbox(seed=7, orders=450, rate_limit=None) as running:
        yield running


@pytest.fixture(scope="session")
def shared_sandbox() -> t.Iterator[Sandbox]:
    """One sandbox for the whole session, for tests that only read it (never its request counts)."""
    with Sandbox(seed=7, orders=450, rate_limit=None) as running:
        yield running
