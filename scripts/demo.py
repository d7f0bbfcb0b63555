#!/usr/bin/env python3
"""Orderspace sandbox -> Meltano -> DuckDB, then each table's row count beside the sandbox's totals.

    python3 scripts/demo.py

Needs only Python 3.11 and pip: creates (or reuses) `.venv` and `.venv-meltano`, installs the
tap and target-duckdb into Meltano, extracts 2,000 sandbox orders with everything around them,
and exits non-zero if any table holds a different number of rows than the sandbox served.
"""

from __future__ import annotations

import sys
import time

from _env import (
    ROOT,
    SandboxProcess,
    SetupError,
    duckdb_row_counts,
    elapsed,
    ensure_dev_venv,
    ensure_meltano,
    meltano_env,
    run,
    say,
)

# The demo keeps its warehouse and its Meltano state apart from the project's own: sandbox
# bookmarks in `.meltano/meltano.db` would make a later run against a real site incremental.
DEMO_DIR = ROOT / "output" / "demo"
DATABASE = DEMO_DIR / "warehouse.duckdb"
SYSTEM_DB = DEMO_DIR / "meltano.db"
SCHEMA = "orderspace"
SANDBOX_ARGS = ("--port", "0", "--seed", "7", "--orders", "2000", "--rate-limit", "0")


def compare(counts: dict[str, int], totals: dict[str, int]) -> int:
    """Print the two columns side by side; return the number of tables that differ."""
    mismatches = 0
    width = max(len(name) for name in [*counts, *totals, "table"])
    print(f"\n{'table':<{width}}  {'duckdb':>8}  {'sandbox':>8}")
    for name in sorted(set(counts) | set(totals)):
        loaded, served = counts.get(name), totals.get(name)
        flag = ""
        if loaded != served:
            mismatches += 1
            flag = "  <-- MISMATCH"
        shown_loaded = "missing" if loaded is None else str(loaded)
        shown_served = "-" if served is None else str(served)
        print(f"{name:<{width}}  {shown_loaded:>8}  {shown_served:>8}{flag}")
    return mismatches


def main() -> int:
    started = time.monotonic()
    try:
        python = ensure_dev_venv()
        meltano = ensure_meltano(["target-duckdb"])
        DEMO_DIR.mkdir(parents=True, exist_ok=True)
        for leftover in (DATABASE, SYSTEM_DB):
            leftover.unlink(missing_ok=True)
        with SandboxProcess(*SANDBOX_ARGS) as sandbox:
            env = meltano_env(
                sandbox.info,
                TAP_ORDERSPACE_MAX_REQUESTS_PER_MINUTE="0",
                # Before all sandbox history, and overriding any start_date a developer keeps in .env.
                TAP_ORDERSPACE_START_DATE="2000-01-01T00:00:00Z",
                TARGET_DUCKDB_FILEPATH=str(DATABASE),
                TARGET_DUCKDB_DEFAULT_TARGET_SCHEMA=SCHEMA,
                MELTANO_DATABASE_URI=f"sqlite:///{SYSTEM_DB}",
            )
            say("meltano run tap-orderspace target-duckdb")
            extract_started = time.monotonic()
            run([meltano, "run", "tap-orderspace", "target-duckdb"], env=env)
            say(f"extract and load took {elapsed(extract_started)}")
            totals = {str(name): int(count) for name, count in sandbox.get("/_sandbox/totals").items()}
        counts = duckdb_row_counts(python, DATABASE, SCHEMA)
    except SetupError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1

    mismatches = compare(counts, totals)
    print()
    if mismatches:
        say(f"{mismatches} table(s) differ from what the sandbox served")
        return 1
    say(f"all {len(totals)} tables hold exactly the sandbox's rows ({elapsed(started)} in all)")
    say(f"the warehouse: {DATABASE.relative_to(ROOT)} (schema '{SCHEMA}'); for example")
    # Three-part name: the file's catalog is called like the schema, so "orderspace.orders" is ambiguous.
    query = f"select status, count(*) from {DATABASE.stem}.{SCHEMA}.orders group by 1"  # noqa: S608 - printed, not run
    code = f"import duckdb; con = duckdb.connect('{DATABASE.relative_to(ROOT)}'); con.sql('{query}').show()"
    print(f'    .venv/bin/python -c "{code}"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
