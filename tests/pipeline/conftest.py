"""Fixtures for the pipeline tests: a sandbox, a private Meltano project, and a warehouse per test.

Each test gets its own copy of the Meltano project in a temporary directory, so its system database
(and with it the state), its logs and its DuckDB file are its own, and its own PostgreSQL database;
the installed plugin virtualenvs are shared through symlinks instead of being built again.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from orderspace_sandbox import Sandbox
from psycopg.conninfo import conninfo_to_dict, make_conninfo

# Before the import: the shared assertions then explain their failures like a test module's do.
pytest.register_assert_rewrite(f"{__package__}.support")
from .support import (  # noqa: E402
    DEFAULT_PG_URL,
    ORDERS,
    PAGE_SIZE,
    ROOT,
    SCHEMA,
    SEED,
    MeltanoProject,
    meltano_executable,
    require_plugin,
    unavailable,
)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=SEED, orders=ORDERS, rate_limit=None) as sb:
        yield sb


@pytest.fixture
def meltano_project(tmp_path: Path, sandbox: Sandbox) -> MeltanoProject:
    """A Meltano project in tmp_path whose tap reads `sandbox`; loaders are configured by each test."""
    executable = meltano_executable()
    directory = tmp_path / "project"
    (directory / ".meltano").mkdir(parents=True)
    shutil.copy2(ROOT / "meltano.yml", directory / "meltano.yml")
    for kind in ("extractors", "loaders"):
        installed = ROOT / ".meltano" / kind
        if not installed.is_dir():
            unavailable(f"no Meltano plugins in {installed}: run `python3 scripts/test.py` once to install them")
        (directory / ".meltano" / kind).symlink_to(installed, target_is_directory=True)

    # Nothing from the developer's shell may point a plugin or Meltano elsewhere.
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TAP_ORDERSPACE_", "TARGET_", "MELTANO_"))
    }
    config = sandbox.config()
    env = {
        **inherited,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "TAP_ORDERSPACE_API_URL": config["api_url"],
        "TAP_ORDERSPACE_AUTH_URL": config["auth_url"],
        "TAP_ORDERSPACE_CLIENT_ID": config["client_id"],
        "TAP_ORDERSPACE_CLIENT_SECRET": config["client_secret"],
        "TAP_ORDERSPACE_MAX_REQUESTS_PER_MINUTE": "0",
        "TAP_ORDERSPACE_PAGE_SIZE": str(PAGE_SIZE),
        "TAP_ORDERSPACE_REQUEST_TIMEOUT": "30",
    }
    return MeltanoProject(directory=directory, executable=executable, env=env)


@pytest.fixture
def dbt_project(meltano_project: MeltanoProject) -> Path:
    """The dbt project copied into the Meltano project (dbt writes target/ beside it); the utilities shared."""
    installed = ROOT / ".meltano" / "utilities"
    if not installed.is_dir():
        unavailable(f"no Meltano utilities in {installed}: run `python3 scripts/test.py` once to install them")
    (meltano_project.directory / ".meltano" / "utilities").symlink_to(installed, target_is_directory=True)
    destination = meltano_project.directory / "transform"
    shutil.copytree(ROOT / "transform", destination, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return destination


@pytest.fixture
def duckdb_target(meltano_project: MeltanoProject) -> Path:
    """Point target-duckdb at a file of this test's own; returns the file."""
    require_plugin("loaders", "target-duckdb")
    path = meltano_project.directory / "output" / "warehouse.duckdb"
    # target-duckdb creates the file but not its folder.
    path.parent.mkdir(parents=True, exist_ok=True)
    meltano_project.env["TARGET_DUCKDB_FILEPATH"] = str(path)
    meltano_project.env["TARGET_DUCKDB_DEFAULT_TARGET_SCHEMA"] = SCHEMA
    return path


@pytest.fixture
def postgres_target(meltano_project: MeltanoProject) -> Iterator[str]:
    """A database of this test's own on the test server, target-postgres pointed at it; its URL."""
    require_plugin("loaders", "target-postgres")
    given = os.environ.get("ORDERSPACE_TEST_PG_URL")
    server = given or DEFAULT_PG_URL
    try:
        admin = psycopg.connect(server, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if given:
            # A server named (scripts/test.py names the one it started) must be there.
            pytest.fail(f"ORDERSPACE_TEST_PG_URL: cannot connect ({first_line})", pytrace=False)
        unavailable(
            f"no PostgreSQL server for the pipeline test ({first_line}); "
            "run `python3 scripts/test.py`, which starts one, or set ORDERSPACE_TEST_PG_URL"
        )
    database = f"orderspace_test_{secrets.token_hex(4)}"
    with admin:
        admin.execute(f'create database "{database}"')
        try:
            parts = conninfo_to_dict(server)
            meltano_project.env.update(
                {
                    "TARGET_POSTGRES_HOST": str(parts.get("host") or "127.0.0.1"),
                    "TARGET_POSTGRES_PORT": str(parts.get("port") or 5432),
                    "TARGET_POSTGRES_USER": str(parts.get("user") or "postgres"),
                    "TARGET_POSTGRES_PASSWORD": str(parts.get("password") or ""),
                    "TARGET_POSTGRES_DATABASE": database,
                    "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": SCHEMA,
                }
            )
            yield make_conninfo(server, dbname=database)
        finally:
            admin.execute(f'drop database if exists "{database}" with (force)')
