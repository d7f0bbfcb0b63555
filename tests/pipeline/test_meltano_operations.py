"""What operators do to a running pipeline, through `meltano run` into DuckDB and PostgreSQL (issue 19).

- **A full refresh, then the schedule.** `meltano run --full-refresh` (and any run with
  `--state-strategy merge`) makes Meltano store every STATE of the run deep-merged into the last: a
  key a later STATE no longer has is never removed. Whatever the tap's states become that way, the
  next scheduled run must continue exactly: no window read from a cursor of a read that finished,
  and the warehouse ends as the same scenario on a plain schedule ends it
  (test_meltano_changes.py): every late change and deletion visible, the live rows the sandbox's.
- **A backfill.** A first sync with `start_date` a year before the sandbox's newest order, then
  `start_date` three years back: the next run lands every order, dispatch and invoice (and their
  lines) of the gap, reading about the gap's pages for orders and dispatches; a backfill killed
  half way resumes after its last stored page; moving `start_date` later reads nothing again and
  removes nothing until the next full read, which leaves the orders since it (docs/incremental.md).
- **One stream again**, with Meltano's own command (docs/incremental.md): the stream and its child
  tables re-read from the beginning, every other bookmark kept, the next run continuing exactly.
- **The run log** `sync_runs`: one row per stream and run, the records that landed, and the query
  docs/operations.md gives for the last complete run of each stream.

Each test fails on the tap before issue 19's engine work (merge-safe state, backfill, `sync_runs`);
its docstring says on what.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import psycopg
import pytest
from orderspace_sandbox import Sandbox

from .support import (
    PAGE_SIZE,
    PARENTS,
    ROOT,
    SYNCED_KEYS,
    MeltanoProject,
    Warehouse,
    assert_deletions,
    assert_late_changes_landed,
    assert_tables_match_sandbox,
    change_the_site,
    is_change_capture,
    kill_when,
    loader_saving_state_often,
    sandbox_keys,
    seen_by_change_capture,
)

TAP = "tap-orderspace"
MERGE = ("--state-strategy", "merge")
# Streams read through a window, each with its list endpoint: a stale cursor shows as a first page
# that carries `starting_after`.
WINDOWED = ("customers", "orders", "dispatches", "invoices", "products", "inventory_levels")
REFERENCE = ("categories", "customer_groups", "price_lists", "payment_terms", "tax_rates", "preorder_windows")
RECONCILED = ("customers", "orders", "invoices", "products", "inventory_levels")
OPERATIONS_DOC = ROOT / "docs" / "operations.md"
LAST_RUN_MARKER = "<!-- tests/pipeline/test_meltano_operations.py runs this query -->"


def state_id(loader: str) -> str:
    return f"dev:{TAP}-to-{loader}"


class Loader(NamedTuple):
    name: str
    open: Callable[[], Warehouse]
    #: The DuckDB file or the PostgreSQL URL.
    target: str


# The loaders store state during a run, as they do on a site large enough to fill a batch (DuckDB,
# 10,000 rows of a stream as shipped) or to take longer than the SDK's drain interval (PostgreSQL, 5
# minutes): only then does Meltano hold a STATE from the middle of a read for the next to merge with.
DUCKDB_BATCH_ROWS = 40
DRAIN_SECONDS = 0.5


@pytest.fixture(params=["target-duckdb", "target-postgres"], ids=["duckdb", "postgres"])
def loader(request: pytest.FixtureRequest, meltano_project: MeltanoProject, tmp_path: Path) -> Loader:
    """A loader set up for this test, storing state during the run, and how to open what it loaded."""
    opener, location = loader_saving_state_often(
        request,
        meltano_project,
        tmp_path,
        request.param,
        duckdb_batch_rows=DUCKDB_BATCH_ROWS,
        drain_seconds=DRAIN_SECONDS,
    )
    return Loader(request.param, opener, location)


@contextmanager
def opened(open_warehouse: Callable[[], Warehouse]) -> Iterator[Warehouse]:
    warehouse = open_warehouse()
    try:
        yield warehouse
    finally:
        warehouse.close()


def window_requests(sb: Sandbox, resource: str) -> list[dict[str, Any]]:
    """The parameters of every list page of `resource` read for a window or a backfill, in order."""
    return [
        dict(entry.get("params") or {})
        for entry in sb.stats()["log"]
        if entry["resource"] == resource and not is_change_capture(entry)
    ]


def assert_no_stale_cursor(sb: Sandbox) -> None:
    """Every window of the run began at its first page: none continued a read that had finished."""
    resumed = {}
    for resource in WINDOWED:
        pages = window_requests(sb, resource)
        if pages and pages[0].get("starting_after"):
            resumed[resource] = pages[0]
    assert not resumed, f"windows read from a cursor of a finished read (a stale in_progress): {resumed}"


def assert_everything_landed(
    open_warehouse: Callable[[], Warehouse], sb: Sandbox, deleted: dict[str, set[str]]
) -> None:
    """What a reconciling run of the plain schedule lands (test_meltano_changes.py)."""
    with opened(open_warehouse) as warehouse:
        assert_tables_match_sandbox(warehouse, sb)
        assert_deletions(warehouse, sb, deleted)
        assert_late_changes_landed(warehouse, sb, customers=True)


def assert_change_capture_landed(
    open_warehouse: Callable[[], Warehouse],
    sb: Sandbox,
    deleted: dict[str, set[str]],
    open_before: dict[str, set[str]],
) -> None:
    """What an incremental run of the plain schedule lands: deletions change capture meets, late changes."""
    with opened(open_warehouse) as warehouse:
        seen, waiting = seen_by_change_capture(warehouse, deleted, open_before)
        assert_deletions(warehouse, sb, seen, waiting)
        assert_late_changes_landed(warehouse, sb, customers=False)


# 1. A full refresh, then the schedule -----------------------------------------------------------


def test_a_full_refresh_first_sync_then_the_schedule_lands_every_change_and_deletion(
    meltano_project: MeltanoProject, loader: Loader, sandbox: Sandbox
) -> None:
    """docs/incremental.md's way to start over, as the first sync. Before the engine change: the
    scheduled run resumes the orders' (and every windowed stream's) finished read from its stale
    `in_progress`, and completes its old table version: deletions are never marked."""
    name, open_warehouse, _ = loader
    meltano_project.run("--full-refresh", TAP, name)
    deleted, _ = change_the_site(sandbox)
    sandbox.reset_stats()

    meltano_project.env["TAP_ORDERSPACE_RECONCILE_INTERVAL_DAYS"] = "0"
    meltano_project.run(TAP, name)
    assert_everything_landed(open_warehouse, sandbox, deleted)
    assert_no_stale_cursor(sandbox)


def test_the_schedule_after_a_full_refresh_of_a_synced_pipeline_continues_exactly(
    meltano_project: MeltanoProject, loader: Loader, sandbox: Sandbox
) -> None:
    """The full refresh is the run whose state the schedule continues from: its merged state holds
    no live `in_progress` (or one the tap knows to be stale), so the nightly run reads its windows
    from their first page, lands what change capture sees, and the next reconciliation the rest.
    Before the engine change: the nightly run continues the full refresh's last cursor."""
    name, open_warehouse, _ = loader
    meltano_project.run(TAP, name)
    # New records for the full refresh to read; the old open orders are left to change_the_site.
    sandbox.mutate(new_orders=5, new_dispatches=3, new_invoices=3)
    meltano_project.run("--full-refresh", TAP, name)
    bookmarks = meltano_project.state(state_id(name))["singer_state"]["bookmarks"]
    assert bookmarks["orders"].get("replication_key_value"), bookmarks["orders"]

    deleted, open_before = change_the_site(sandbox)
    sandbox.reset_stats()
    meltano_project.run(TAP, name)
    assert_change_capture_landed(open_warehouse, sandbox, deleted, open_before)
    assert_no_stale_cursor(sandbox)
    # The full refresh's bookmarks are used: the nightly run reads only what is new.
    assert len(window_requests(sandbox, "orders")) <= 2, window_requests(sandbox, "orders")

    meltano_project.env["TAP_ORDERSPACE_RECONCILE_INTERVAL_DAYS"] = "0"
    meltano_project.run(TAP, name)
    assert_everything_landed(open_warehouse, sandbox, deleted)


def test_with_the_merge_state_strategy_on_every_run_the_schedule_continues_exactly(
    meltano_project: MeltanoProject, loader: Loader, sandbox: Sandbox
) -> None:
    """`--state-strategy merge` on every run: a first sync, an incremental run after late changes
    and deletions, then a reconciling one. Before the engine change: the incremental run continues
    the first sync's last cursor of every windowed stream."""
    name, open_warehouse, _ = loader
    meltano_project.run(*MERGE, TAP, name)
    deleted, open_before = change_the_site(sandbox)
    sandbox.reset_stats()

    meltano_project.run(*MERGE, TAP, name)
    assert_change_capture_landed(open_warehouse, sandbox, deleted, open_before)
    assert_no_stale_cursor(sandbox)

    meltano_project.env["TAP_ORDERSPACE_RECONCILE_INTERVAL_DAYS"] = "0"
    sandbox.reset_stats()
    meltano_project.run(*MERGE, TAP, name)
    assert_everything_landed(open_warehouse, sandbox, deleted)
    assert_no_stale_cursor(sandbox)


# 2. Backfill: start_date moved back ---------------------------------------------------------------

BACKFILL_PAGE = 10
KILL_PAGE = 5
SLOW_PAGE_SECONDS = 0.3
CREATED = {"orders": "created", "dispatches": "created"}


def parse_utc(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC)


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def data_end(sb: Sandbox) -> dt.datetime:
    """The sandbox's newest order: where its history ends."""
    return max(parse_utc(order["created"]) for order in sb.records("orders"))


def gap(sb: Sandbox, resource: str, before: dt.datetime) -> list[dict[str, Any]]:
    """`resource` records created before `before`, in list order (newest first)."""
    return [r for r in sb.records(resource) if parse_utc(r[CREATED[resource]]) < before]


def keys_in(warehouse: Warehouse, stream: str) -> set[Any]:
    return {row[0] for row in warehouse.live(stream, SYNCED_KEYS[stream][0])}


def first_sync_a_year_back(project: MeltanoProject, sb: Sandbox, name: str, page: int) -> dt.datetime:
    """A first sync with start_date a year before the data's end; returns that start_date."""
    one_year = data_end(sb) - dt.timedelta(days=365)
    project.env["TAP_ORDERSPACE_PAGE_SIZE"] = str(page)
    project.env["TAP_ORDERSPACE_START_DATE"] = stamp(one_year)
    project.run(TAP, name)
    return one_year


def test_start_date_moved_back_backfills_the_gap_at_its_pages_and_later_keeps_its_meaning(
    meltano_project: MeltanoProject, loader: Loader, sandbox: Sandbox
) -> None:
    """Before the engine change: the run after start_date moved back reads only its windows: the
    gap's orders, dispatches and invoices never land (orders and invoices at the next reconciliation)."""
    name, open_warehouse, _ = loader
    one_year = first_sync_a_year_back(meltano_project, sandbox, name, BACKFILL_PAGE)
    gap_orders, gap_dispatches = gap(sandbox, "orders", one_year), gap(sandbox, "dispatches", one_year)
    assert len(gap_orders) >= 3 * BACKFILL_PAGE and len(gap_dispatches) >= 3 * BACKFILL_PAGE, "no gap to backfill"
    with opened(open_warehouse) as warehouse:
        assert not keys_in(warehouse, "orders") & {o["id"] for o in gap_orders}, "the first sync read the gap"
    before = meltano_project.state(state_id(name))["singer_state"]["bookmarks"]

    meltano_project.env["TAP_ORDERSPACE_START_DATE"] = stamp(data_end(sandbox) - dt.timedelta(days=3 * 365))
    sandbox.mutate(new_orders=3, new_dispatches=2, new_invoices=2)
    sandbox.reset_stats()
    meltano_project.run(TAP, name)

    with opened(open_warehouse) as warehouse:
        # Every stream, the gap's orders, dispatches, invoices and lines included, equals the sandbox.
        assert_tables_match_sandbox(warehouse, sandbox)
    # Orders and dispatches: the gap's pages, plus the usual incremental window; invoices can be
    # bounded only below, so their backfill reads every page since the new start_date.
    lookback = dt.timedelta(days=int(meltano_project.env.get("TAP_ORDERSPACE_LOOKBACK_WINDOW_DAYS", "30")))
    for resource, records in (("orders", gap_orders), ("dispatches", gap_dispatches)):
        bookmark = parse_utc(before[resource]["replication_key_value"])
        window_since = bookmark - (lookback if resource == "dispatches" else dt.timedelta(0))
        in_window = sum(1 for r in sandbox.records(resource) if parse_utc(r[CREATED[resource]]) >= window_since)
        gap_pages = math.ceil(len(records) / BACKFILL_PAGE)
        expected = gap_pages + max(1, math.ceil(in_window / BACKFILL_PAGE)) + 1
        read = len(window_requests(sandbox, resource))
        assert gap_pages <= read <= expected, f"{resource}: {read} pages for a gap of {gap_pages} (at most {expected})"
    invoice_pages = math.ceil(len(sandbox.records("invoices")) / BACKFILL_PAGE) + 2
    assert len(window_requests(sandbox, "invoices")) <= invoice_pages, window_requests(sandbox, "invoices")
    after = meltano_project.state(state_id(name))["singer_state"]["bookmarks"]
    for stream in ("orders", "dispatches"):
        # The backfill did not move the bookmarks back, or past the newest record.
        newest = max(parse_utc(r[CREATED[stream]]) for r in sandbox.records(stream))
        assert parse_utc(after[stream]["replication_key_value"]) == newest, (stream, after[stream])

    # start_date moved later: an incremental run reads nothing again and removes nothing.
    later = data_end(sandbox) - dt.timedelta(days=180)
    meltano_project.env["TAP_ORDERSPACE_START_DATE"] = stamp(later)
    sandbox.mutate(new_orders=2)
    sandbox.reset_stats()
    meltano_project.run(TAP, name)
    with opened(open_warehouse) as warehouse:
        assert_tables_match_sandbox(warehouse, sandbox)
    assert len(window_requests(sandbox, "orders")) <= 2, window_requests(sandbox, "orders")
    # The next full read starts at it: the warehouse then holds the orders since start_date, as a
    # first sync with it would; dispatches, never read in full again, keep theirs.
    meltano_project.env["TAP_ORDERSPACE_RECONCILE_INTERVAL_DAYS"] = "0"
    meltano_project.run(TAP, name)
    with opened(open_warehouse) as warehouse:
        since_later = {o["id"] for o in sandbox.records("orders") if parse_utc(o["created"]) >= later}
        assert keys_in(warehouse, "orders") == since_later, "live orders after a full read from a later start_date"
        assert keys_in(warehouse, "dispatches") == {d["id"] for d in sandbox.records("dispatches")}


def backfill_position(sb: Sandbox, state: dict[str, Any], gap_orders: list[dict[str, Any]]) -> int:
    """How many of the gap's orders (newest first) a stored orders state says were delivered: from
    a cursor that names a gap order, or a time inside the gap; 0 if it holds neither."""
    ids = [order["id"] for order in gap_orders]
    oldest, newest = parse_utc(gap_orders[-1]["created"]), parse_utc(gap_orders[0]["created"])
    found = 0

    def visit(value: Any) -> None:
        nonlocal found
        # Lists (open_ids, pending_ids, covers) name records to re-read, not how far a read got.
        if isinstance(value, dict):
            for item in value.values():
                visit(item)
        elif isinstance(value, str) and value in ids:
            found = max(found, ids.index(value) + 1)
        elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:?\d\d)?", value):
            moment = parse_utc(value)
            if oldest < moment <= newest:
                found = max(found, sum(1 for order in gap_orders if parse_utc(order["created"]) >= moment))

    visit(state.get("bookmarks", {}).get("orders", {}))
    return found


def test_a_killed_backfill_resumes_after_its_last_stored_page(
    meltano_project: MeltanoProject, loader: Loader, sandbox: Sandbox
) -> None:
    """Before the engine change: no backfill starts, so none is stored to be killed (the kill waits
    for a stored cursor inside the gap and fails on the run ending first)."""
    name, open_warehouse, _ = loader
    one_year = first_sync_a_year_back(meltano_project, sandbox, name, KILL_PAGE)
    gap_orders = gap(sandbox, "orders", one_year)
    gap_pages = math.ceil(len(gap_orders) / KILL_PAGE)
    assert gap_pages >= 8, f"a gap of {gap_pages} pages is too short to kill half way"

    meltano_project.env["TAP_ORDERSPACE_START_DATE"] = stamp(data_end(sandbox) - dt.timedelta(days=3 * 365))
    sandbox.add_fault("orders", 1, kind="slow", seconds=SLOW_PAGE_SECONDS, times=10**6)
    target = len(gap_orders) * 2 // 5
    stored = kill_when(
        meltano_project,
        name,
        signal.SIGKILL,
        lambda state: backfill_position(sandbox, state, gap_orders) >= target,
        f"a stored backfill cursor {target} gap orders in",
    )
    delivered = backfill_position(sandbox, stored, gap_orders)
    assert delivered < len(gap_orders), "the backfill was complete when killed"

    sandbox.clear_faults()
    sandbox.reset_stats()
    meltano_project.run("--force", TAP, name)
    with opened(open_warehouse) as warehouse:
        assert_tables_match_sandbox(warehouse, sandbox)
    # The gap's pages after the stored cursor (one of them perhaps again), and the incremental window.
    remaining = math.ceil((len(gap_orders) - delivered) / KILL_PAGE)
    read = window_requests(sandbox, "orders")
    assert len(read) <= remaining + 2, f"{len(read)} order pages, {remaining} of the gap left: {read}"


# 3. One stream again ------------------------------------------------------------------------------

# docs/incremental.md, "One stream again": the stream and its child tables, nothing else, from the
# beginning, into the pipeline's own state.
ONE_STREAM = ("orders", "order_lines")


def drop_tables(name: str, target: str, tables: tuple[str, ...]) -> None:
    """A table dropped by mistake."""
    if name == "target-duckdb":
        with duckdb.connect(target) as connection:
            for table in tables:
                connection.execute(f'drop table orderspace."{table}"')
        return
    with psycopg.connect(target, autocommit=True) as connection:
        for table in tables:
            connection.execute(f'drop table orderspace."{table}"')


def test_one_stream_again_with_meltanos_own_command_keeps_every_other_bookmark(
    meltano_project: MeltanoProject, loader: Loader, sandbox: Sandbox
) -> None:
    """`TAP_ORDERSPACE__SELECT_FILTER='["orders","order_lines"]' meltano run --full-refresh
    tap-orderspace <loader>`, after the tables were dropped by mistake. Before the engine change:
    the orders' merged state keeps the re-read's last cursor, which the next scheduled run continues
    instead of reading its window."""
    loader_name, open_warehouse, target = loader
    meltano_project.run(TAP, loader_name)
    sandbox.mutate(new_orders=4, new_dispatches=2, update_orders=4)
    meltano_project.run(TAP, loader_name)
    before = meltano_project.state(state_id(loader_name))["singer_state"]["bookmarks"]
    drop_tables(loader_name, target, ONE_STREAM)

    sandbox.reset_stats()
    # Slowed so that the loaders store states from the middle of the re-read, as on a large site.
    sandbox.add_fault("orders", 1, kind="slow", seconds=SLOW_PAGE_SECONDS, times=10**6)
    one_stream_env = {**meltano_project.env, "TAP_ORDERSPACE__SELECT_FILTER": '["orders", "order_lines"]'}
    saved_env, meltano_project.env = meltano_project.env, one_stream_env
    try:
        meltano_project.run("--full-refresh", TAP, loader_name)
    finally:
        meltano_project.env = saved_env
        sandbox.clear_faults()
    # Only the orders were read, all of them, from the first page.
    requests = {resource: int(n) for resource, n in sandbox.stats()["requests"].items() if int(n)}
    assert set(requests) == {"orders"}, requests
    pages = window_requests(sandbox, "orders")
    assert not pages[0].get("starting_after") and len(pages) >= math.ceil(len(sandbox.records("orders")) / PAGE_SIZE)
    after = meltano_project.state(state_id(loader_name))["singer_state"]["bookmarks"]
    kept = {stream: before[stream] for stream in before if stream not in ONE_STREAM}
    assert {stream: after.get(stream) for stream in kept} == kept, "another stream's bookmark changed"
    with opened(open_warehouse) as warehouse:
        for stream in ONE_STREAM:
            loaded = Counter(warehouse.live(stream, *SYNCED_KEYS[stream]))
            assert set(loaded) == sandbox_keys(sandbox, stream) and max(loaded.values()) == 1, stream

    # The schedule continues exactly: its windows from their first page, only what is new.
    sandbox.mutate(new_orders=3, new_invoices=2, update_orders=3)
    sandbox.reset_stats()
    meltano_project.run(TAP, loader_name)
    assert_no_stale_cursor(sandbox)
    assert len(window_requests(sandbox, "orders")) <= 2, window_requests(sandbox, "orders")
    with opened(open_warehouse) as warehouse:
        assert_tables_match_sandbox(warehouse, sandbox)
        assert_late_changes_landed(warehouse, sandbox, customers=False)


# 4. The run log ---------------------------------------------------------------------------------

MODES = {"incremental", "reconcile", "resume", "backfill", "full_table"}
SYNC_RUN_COLUMNS = (
    "stream",
    "run_started_at",
    "started_at",
    "completed_at",
    "mode",
    "records",
    "requests",
    "window_since",
    "bookmark",
)


def as_time(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=dt.UTC)
    return parse_utc(str(value))


def sync_runs(warehouse: Warehouse) -> list[dict[str, Any]]:
    rows = warehouse.select("sync_runs", *SYNC_RUN_COLUMNS)
    return [dict(zip(SYNC_RUN_COLUMNS, row, strict=True)) for row in rows]


def last_complete_run_query() -> str:
    """The query docs/operations.md gives for "last complete run per stream"."""
    text = OPERATIONS_DOC.read_text(encoding="utf-8")
    assert LAST_RUN_MARKER in text, f"docs/operations.md lacks {LAST_RUN_MARKER}"
    block = re.search(r"```sql\n(.*?)```", text.split(LAST_RUN_MARKER, 1)[1], re.DOTALL)
    assert block, "no sql block after the marker in docs/operations.md"
    return block.group(1).strip().rstrip(";")


def run_documented_query(warehouse: Warehouse) -> dict[str, dict[str, Any]]:
    sql = last_complete_run_query().replace("orderspace.", f"{warehouse.table('sync_runs').rsplit('.', 1)[0]}.")
    rows = warehouse.rows(sql)
    by_stream: dict[str, dict[str, Any]] = {}
    for row in rows:
        record = dict(zip(SYNC_RUN_COLUMNS, row[: len(SYNC_RUN_COLUMNS)], strict=True))
        assert record["stream"] not in by_stream, f"the documented query returns {record['stream']} twice"
        by_stream[record["stream"]] = record
    return by_stream


def expected_first_sync_mode(stream: str) -> set[str]:
    parent = PARENTS[stream][0] if stream in PARENTS else stream
    if parent in REFERENCE:
        return {"full_table"}
    if parent in RECONCILED:
        return {"reconcile"}
    # Dispatches are not reconciled: their first sync is a complete read all the same.
    return {"reconcile", "incremental"}


def test_sync_runs_records_what_each_run_read_and_the_docs_query_finds_the_last_complete_run(
    meltano_project: MeltanoProject, loader: Loader, sandbox: Sandbox
) -> None:
    """Before the engine change: there is no sync_runs table."""
    name, open_warehouse, _ = loader
    meltano_project.run(TAP, name)
    first_requests = {resource: int(n) for resource, n in sandbox.stats()["requests"].items()}
    state = meltano_project.state(state_id(name))["singer_state"]["bookmarks"]

    with opened(open_warehouse) as warehouse:
        assert "sync_runs" in warehouse.tables(), "no sync_runs table after a first sync"
        rows = sync_runs(warehouse)
        by_stream = Counter(row["stream"] for row in rows)
        missing = set(SYNCED_KEYS) - set(by_stream)
        assert not missing, f"no sync_runs row for {sorted(missing)}"
        twice = {stream for stream, n in by_stream.items() if n > 1}
        assert not twice, f"streams with more than one row for one run: {sorted(twice)}"
        assert len({row["run_started_at"] for row in rows}) == 1, "more than one run_started_at in one run"
        for row in rows:
            stream = row["stream"]
            assert row["mode"] in MODES, row
            assert row["completed_at"] is not None, f"{stream}: completed_at not set after the run"
            started, completed = as_time(row["started_at"]), as_time(row["completed_at"])
            run_started = as_time(row["run_started_at"])
            assert run_started and started and completed and run_started <= started <= completed, row
            if stream not in SYNCED_KEYS:
                continue
            landed = warehouse.rows(f"select count(*) from {warehouse.table(stream)}")[0][0]  # noqa: S608
            assert row["records"] == landed, f"{stream}: sync_runs says {row['records']} records, {landed} landed"
            assert row["mode"] in expected_first_sync_mode(stream), row
            if stream in first_requests:
                assert row["requests"] == first_requests[stream], (row, first_requests[stream])
        orders = next(row for row in rows if row["stream"] == "orders")
        assert as_time(orders["bookmark"]) == parse_utc(state["orders"]["replication_key_value"]), orders
        assert orders["window_since"] is None, orders
        first_run = as_time(rows[0]["run_started_at"])

    # An incremental run: a second set of rows, incremental where the windows were.
    changes = sandbox.mutate(new_orders=5, new_dispatches=2, new_invoices=2, new_customers=1)
    meltano_project.run(TAP, name)
    with opened(open_warehouse) as warehouse:
        rows = sync_runs(warehouse)
        second = [row for row in rows if as_time(row["run_started_at"]) != first_run]
        assert len({row["run_started_at"] for row in second}) == 1, "the second run has no rows, or several starts"
        modes = {row["stream"]: row["mode"] for row in second}
        for stream in ("customers", "orders", "dispatches", "invoices", "products", "inventory_levels"):
            assert modes.get(stream) == "incremental", (stream, modes.get(stream))
        for stream, created in changes["created"].items():
            if stream in modes:
                record = next(row for row in second if row["stream"] == stream)
                assert record["records"] >= len(created), (stream, record)
        orders = next(row for row in second if row["stream"] == "orders")
        assert as_time(orders["window_since"]) is not None, orders

        # The documented query: one row per stream, its latest complete run.
        latest = run_documented_query(warehouse)
        assert set(latest) == {row["stream"] for row in second}, sorted(latest)
        for stream, record in latest.items():
            assert as_time(record["run_started_at"]) != first_run, (stream, record)
            assert record["completed_at"] is not None, record
