"""What the streams of one run tell each other, and what each stream's run carries.

One `RunContext` per run, made by the tap and handed to every stream. Streams never reach
into another stream: a stream that names records of another as changed (a new dispatch
names its order) says so here, and the ids are kept in the named stream's own state, by
that stream; deletions and completed full reads go to the tap's own tables through here;
what was repaired or skipped is summed up here once the last stream is done.

A `StreamRun` is one stream's run: the child tables it writes, the keys it emitted (change
capture never emits a record twice), the open set it saw, and what it cost.
"""

from __future__ import annotations

import datetime as dt
import logging
import typing as t
from dataclasses import dataclass, field

from tap_orderspace import state as st
from tap_orderspace.change_capture import pending_ids
from tap_orderspace.derived_streams import EmittedRowsStream, NestedRowsStream
from tap_orderspace.records import Problems

if t.TYPE_CHECKING:
    from tap_orderspace.stream import OrderspaceStream

logger = logging.getLogger("tap-orderspace")

#: The tables the tap writes itself.
DELETED_RECORDS = "deleted_records"
RECONCILIATIONS = "reconciliations"
SYNC_RUNS = "sync_runs"


@dataclass
class StreamRun:
    """One run of one stream, from its window to the end of its change capture."""

    stream: OrderspaceStream
    context: RunContext
    #: The selected child tables, cut from each record as it is emitted.
    children: list[NestedRowsStream]
    #: Keys emitted this run: change capture never emits a record twice.
    emitted: set[str] = field(default_factory=set)
    #: Records open at the end of the last run.
    previously_open: set[str] = field(default_factory=set)
    #: Records seen open this run: the open set the next run starts from.
    open_ids: set[str] = field(default_factory=set)
    records_emitted: int = 0
    #: Rows written per child table.
    rows_written: dict[str, int] = field(default_factory=dict)
    requests_at_start: int = 0
    #: Whether the window read every record (a first sync, a reconciliation, a full table).
    full_read: bool = False
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    #: How the stream is read, as the run log says it: incremental, reconcile, resume, backfill, full_table.
    mode: str | None = None
    window_since: dt.datetime | None = None

    def emitting(self, record: dict[str, t.Any], *, changed: bool) -> dict[str, t.Any]:
        """What goes with emitting `record`, which the caller then yields: its child rows
        are written, whether it is open is noted, and, if it is `changed` (new, or no longer
        open), the records of other streams it names are signalled as changed."""
        stream = self.stream
        for child in self.children:
            written = child.write_rows_of(record, extracted_at=stream.extracted_at)
            self.rows_written[child.name] = self.rows_written.get(child.name, 0) + written
        if stream.open_records is not None and stream.open_records.is_open(record):
            self.open_ids.add(record[stream.cursor_field])
        if changed:
            for signal in stream.change_signals:
                self.context.signal_changed(signal.stream, signal.ids_in(record))
        self.records_emitted += 1
        return record


class RunContext:
    """The registry of one run's streams, and what passes between them."""

    def __init__(self) -> None:
        self.problems = Problems()
        self._streams: dict[str, OrderspaceStream] = {}
        self._tables: dict[str, EmittedRowsStream] = {}
        #: Ids signalled this run, per stream, as kept in its state's `pending_ids`.
        self._pending: dict[str, set[str]] = {}
        self._unfinished: set[str] | None = None
        #: When the run's first stream began: the run log's `run_started_at` for every stream.
        self._run_started_at: dt.datetime | None = None

    def add(self, stream: OrderspaceStream) -> None:
        self._streams[stream.name] = stream
        if isinstance(stream, EmittedRowsStream):
            self._tables[stream.name] = stream

    # One stream's run ------------------------------------------------------------------

    def start(self, stream: OrderspaceStream) -> StreamRun:
        children = [child for child in stream.child_streams if isinstance(child, NestedRowsStream) and child.selected]
        run = StreamRun(stream, self, children, requests_at_start=stream.client.requests_sent)
        if self._run_started_at is None:
            self._run_started_at = run.started_at
        return run

    def reading(self, run: StreamRun, *, mode: str, since: dt.datetime | None) -> None:
        """The stream's read has begun: the run log says so (completed_at null) until it completes."""
        run.mode, run.window_since = mode, since
        self._log_run(run, completed=None, bookmark=None)

    def finish(self, run: StreamRun, *, bookmark: str | None = None) -> None:
        self._log_run(run, completed=dt.datetime.now(dt.UTC), bookmark=bookmark)
        stream = run.stream
        logger.info(
            "'%s' done: %d record(s) in %d request(s)%s",
            stream.name,
            run.records_emitted,
            stream.client.requests_sent - run.requests_at_start,
            ", a full read" if run.full_read else "",
        )
        self.stream_done(stream.name)

    def stream_done(self, name: str) -> None:
        """After the run's last stream, one WARNING sums up what was skipped or repaired."""
        if self._unfinished is None:
            self._unfinished = {
                stream.name
                for stream in self._streams.values()
                if not isinstance(stream, NestedRowsStream) and (stream.selected or stream.has_selected_descendents)
            }
        self._unfinished.discard(name)
        if not self._unfinished and (summary := self.problems.summary()):
            logger.warning("Run complete, with records skipped or repaired: %s", summary)

    # Between streams -------------------------------------------------------------------

    def signal_changed(self, name: str, ids: set[str]) -> None:
        """Records of stream `name` changed: its change capture reads them again, in this run
        or, if this one stops first, in the next. Only a stream whose change capture this run
        performs is signalled."""
        target = self._streams.get(name)
        if not ids or target is None or target.open_records is None or not target.selected:
            return
        pending = self._pending.get(name)
        if pending is None:
            pending = self._pending[name] = pending_ids(target.stream_state)
        new = ids - pending
        if new:
            pending |= new
            target.keep_pending_ids(new)

    def pending_ids_taken(self, name: str) -> None:
        """Stream `name`'s change capture has read its pending ids."""
        self._pending.pop(name, None)

    # The tap's own tables --------------------------------------------------------------

    def record_deletion(self, stream: str, record_id: str, *, deleted_at: dt.datetime) -> None:
        table = self._tables.get(DELETED_RECORDS)
        if table is not None:
            table.write_row({"stream": stream, "id": record_id, "deleted_at": st.format_utc_precise(deleted_at)})

    def record_reconciliation(self, stream: str, version: int, *, started: dt.datetime, completed: dt.datetime) -> None:
        """A full read is complete: rows of `stream` extracted before `started` were not seen."""
        table = self._tables.get(RECONCILIATIONS)
        if table is not None:
            table.write_row(
                {
                    "stream": stream,
                    "version": version,
                    "started_at": st.format_utc_precise(started),
                    "completed_at": st.format_utc_precise(completed),
                }
            )

    def _log_run(self, run: StreamRun, *, completed: dt.datetime | None, bookmark: str | None) -> None:
        """A `sync_runs` row for the stream and each child table it wrote, keyed by the run's start."""
        table = self._tables.get(SYNC_RUNS)
        if table is None or self._run_started_at is None:
            return
        stream = run.stream
        # (table, records, requests): child tables cost no request of their own.
        counts = [(child.name, run.rows_written.get(child.name, 0), 0) for child in run.children]
        if stream.selected:
            counts.insert(0, (stream.name, run.records_emitted, stream.client.requests_sent - run.requests_at_start))
        for name, records, requests in counts:
            table.write_row(
                {
                    "stream": name,
                    "run_started_at": st.format_utc_precise(self._run_started_at),
                    "started_at": st.format_utc_precise(run.started_at),
                    "completed_at": None if completed is None else st.format_utc_precise(completed),
                    "mode": run.mode,
                    "records": records,
                    "requests": requests,
                    "window_since": None if run.window_since is None else st.format_utc(run.window_since),
                    "bookmark": bookmark,
                }
            )
