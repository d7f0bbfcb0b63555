"""A stream's first pass: its window, read newest first through the one pager.

The window is what `state.open_window` decided: records created (or updated) since the
bookmark, less the lookback, or every record on a first sync and a reconciliation. Each
page delivered is claimed in a STATE (`in_progress`), so a stopped run resumes after it.
"""

from __future__ import annotations

import typing as t

from tap_orderspace import state as st

if t.TYPE_CHECKING:
    from tap_orderspace.run_context import StreamRun
    from tap_orderspace.stream import OrderspaceStream


class WindowRead:
    """One pass over a stream's window."""

    def __init__(self, stream: OrderspaceStream, window: st.ExtractionWindow, run: StreamRun) -> None:
        self.stream = stream
        self.window = window
        self.run = run
        # In BATCH mode records reach the target later, in files: progress may only be
        # claimed when the stream ends.
        self.claims_progress = stream.get_batch_config(stream.config) is None

    def records(self) -> t.Iterator[dict[str, t.Any]]:
        stream, window, run = self.stream, self.window, self.run
        time_field = stream.replication_key if stream.is_incremental else None
        pager = stream.pager(
            stream.time_filters(window.since),
            cursor=window.starting_after,
            read="the window",
            stopped=(
                f"The bookmark of '{stream.name}' did not move: the next run resumes at that cursor; if this "
                "repeats, report it to Orderspace, or set page_size to 200 and run again"
            ),
            on_advance=self._advanced,
        )
        for key, record in pager.records():
            if key in run.emitted:
                continue
            run.emitted.add(key)
            if time_field is not None and not self._check_time_and_admit(record, time_field):
                continue
            yield run.emitting(record, changed=self._tells_of_changes(record, time_field))

    def _advanced(self, cursor: str | None) -> None:
        self.window.starting_after = cursor
        if cursor is not None and self.claims_progress:
            self.stream.save_progress(self.window)

    def _check_time_and_admit(self, record: dict[str, t.Any], time_field: str) -> bool:
        """Whether the record belongs to the window (not older than its start).

        On the way its time is checked and noted: a value that is not a date-time is
        nulled (with a WARNING), and a believable one counts towards the bookmark
        (`ExtractionWindow.saw`).
        """
        stream, window = self.stream, self.window
        value = record.get(time_field)
        if value is None:
            return True
        try:
            created = st.parse_utc(value)
        except ValueError:
            stream.run_context.problems.warn(
                stream.name,
                time_field,
                "'%s' record %s: %s=%r is not a date-time: emitted as null",
                stream.name,
                stream.shape.record_label(record),
                time_field,
                value,
            )
            record[time_field] = None
            return True
        if window.since is not None and created < window.since:
            return False
        if not window.saw(created):
            stream.logger.warning(
                "'%s' record %s has %s=%s, in the future of Orderspace's clock: emitted, but not bookmarked",
                stream.name,
                stream.shape.record_label(record),
                time_field,
                value,
            )
        return True

    def _tells_of_changes(self, record: dict[str, t.Any], time_field: str | None) -> bool:
        """Whether a record read in the window tells of changes to others: it is new since the
        last run (not re-read by the lookback), or it left the open set (an invoice now paid)."""
        stream = self.stream
        if not stream.change_signals:
            return False
        if stream.open_records is not None and record.get(stream.cursor_field) in self.run.previously_open:
            return not stream.open_records.is_open(record)
        if self.window.new_after is None:
            return False  # a full read: the records it would name are read in full too
        value = record.get(time_field) if time_field else None
        return value is None or st.parse_utc(value) > self.window.new_after
