#!/usr/bin/env python3
"""Orderspace sandbox -> Meltano -> DuckDB -> dbt, then row counts beside the sandbox's and answers from the marts.

    python3 scripts/demo.py

Needs only Python 3.11 and pip: creates (or reuses) `.venv` and `.venv-meltano`, installs the
tap and target-duckdb into Meltano, extracts 2,000 sandbox orders with everything around them,
builds the dbt models (transform/), exits non-zero if any table holds a different number of rows
than the sandbox served, and ends with a few answers from the marts (docs/models.md).
"""

from __future__ import annotations

import subprocess
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
MARTS = "analytics"
# The tap's own tables (deletions seen, full reads, its run log): no counterpart among the sandbox's totals.
BOOKKEEPING = ("deleted_records", "reconciliations", "sync_runs")

# Run by `.venv`'s python (duckdb); the questions a wholesaler asks first, answered from the marts.
# Orderspace gives no exchange rates: every answer with an amount is per currency.
_ANSWERS = """
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)
for title, query in [
    ("Sales by month and currency (orders placed, not cancelled, no standing-order templates)",
     "select order_month, currency, count(*) as orders, sum(net_total) as net, sum(gross_total) as gross "
     "from analytics.fct_orders where is_sale group by 1, 2 order by 1 desc, 2 limit 12"),
    ("Receivables by currency and ageing bucket (proforma and cancelled-order invoices are not receivables)",
     "select currency, ageing_bucket, count(*) as invoices, sum(amount_receivable) as owed, "
     "any_value(as_of_date) as as_of from analytics.fct_invoices where amount_receivable <> 0 "
     "group by 1, 2 order by 1, min(days_overdue)"),
    ("Paid outside Orderspace (invoices marked paid beyond their recorded payments), by currency",
     "select currency, count(*) as invoices, sum(amount_settled_outside_payments) as settled "
     "from analytics.fct_invoices where amount_settled_outside_payments <> 0 group by 1 order by 1"),
    ("Top products by net sales, per currency",
     "select l.currency, l.sku, any_value(p.product_name) as product, sum(l.quantity) as units, "
     "sum(l.net_amount) as net from analytics.fct_order_lines l "
     "join analytics.dim_products p using (source_relation, sku) "
     "where l.is_sale group by 1, 2 qualify row_number() over (partition by l.currency order by net desc) <= 3 "
     "order by 1, net desc"),
    ("Stock on hand (lowest available first)",
     "select sku, product_name, on_hand, available from analytics.dim_products where not is_deleted "
     "order by available, sku limit 5"),
]:
    print(f"\\n{title}")
    con.sql(query).show(max_width=120)
"""


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
        meltano = ensure_meltano(["target-duckdb"], ("dbt-duckdb",))
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
                DBT_DUCKDB_PATH=str(DATABASE),
                DBT_SOURCE_SCHEMA=SCHEMA,
                MELTANO_DATABASE_URI=f"sqlite:///{SYSTEM_DB}",
            )
            say("meltano run tap-orderspace target-duckdb dbt-duckdb:build")
            extract_started = time.monotonic()
            run([meltano, "run", "tap-orderspace", "target-duckdb", "dbt-duckdb:build"], env=env)
            say(f"extract, load and dbt build took {elapsed(extract_started)}")
            totals = {str(name): int(count) for name, count in sandbox.get("/_sandbox/totals").items()}
        counts = {name: n for name, n in duckdb_row_counts(python, DATABASE, SCHEMA).items() if name not in BOOKKEEPING}
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
    say(f"the models: schema '{MARTS}' (marts) and '{MARTS}_staging' (typed raw tables); docs/models.md")
    answers = subprocess.run([str(python), "-c", _ANSWERS, str(DATABASE)], cwd=ROOT, check=False)
    return answers.returncode


if __name__ == "__main__":
    sys.exit(main())
