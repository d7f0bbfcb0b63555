"""Backfill: the history between a `start_date` moved back and the history the state holds.

A user who first loads a year and then sets `start_date` three years back gets the two missing
years on the next run, without touching the bookmarks: after the usual window, the stream reads
the gap (orders and dispatches bound it on both ends with `created_since` and `created_before`;
invoices can only be bounded below, so they read everything since the new `start_date`). The gap's
progress is kept in the state after every page (`backfill`), so a killed backfill resumes after
its last page; once read, `history_since` moves back to the new `start_date`.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass
from typing import Any

from tap_orderspace.state import (
    BACKFILL,
    HISTORY_SINCE,
    ExtractionWindow,
    WindowRules,
    format_utc,
    format_utc_precise,
    logger,
    parse_utc,
    parse_utc_or_none,
)

if t.TYPE_CHECKING:
    from tap_orderspace.run_context import StreamRun
    from tap_orderspace.stream import OrderspaceStream


@dataclass
class BackfillWindow:
    """The history between a `start_date` moved back and the history the state already holds."""

    since: dt.datetime | None
    before: dt.datetime
    started_at: dt.datetime
    starting_after: str | None = None
    resumed: bool = False

    def as_state(self) -> dict[str, Any]:
        return {
            "since": None if self.since is None else format_utc(self.since),
            "before": format_utc(self.before),
            "starting_after": self.starting_after,
            "started_at": format_utc_precise(self.started_at),
        }


def open_backfill(
    rules: WindowRules,
    stream_state: dict[str, Any],
    window: ExtractionWindow,
    *,
    start_date: dt.datetime | None,
    now: dt.datetime,
) -> BackfillWindow | None:
    """The gap to read after `window`, if `start_date` now lies before the history held.

    Called after `open_window`, which has noted `history_since` for states that lacked it. A full
    read (`window.reconciling`) covers any gap itself; a stream whose bookmark does not cover the
    tables read now reads its whole history in its window.
    """
    if not (rules.incremental and rules.honours_start_date) or window.reconciling or window.since is None:
        return None
    history = parse_utc_or_none(stream_state.get(HISTORY_SINCE))
    gap_before = history if history is not None and (start_date is None or start_date < history) else None
    progress = stream_state.get(BACKFILL)
    if progress is not None and not (
        gap_before is not None
        and parse_utc_or_none(progress.get("since")) == start_date
        and parse_utc(progress["before"]) == gap_before
    ):
        logger.info(
            "'%s': the state's backfill from %s is complete or no longer asked for (start_date changed): ignored",
            rules.stream,
            progress.get("since") or "the beginning",
        )
        del stream_state[BACKFILL]
        progress = None
    if gap_before is None:
        return None
    if progress is not None:
        return BackfillWindow(
            since=start_date,
            before=gap_before,
            started_at=parse_utc_or_none(progress.get("started_at")) or now,
            starting_after=progress.get("starting_after"),
            resumed=True,
        )
    return BackfillWindow(since=start_date, before=gap_before, started_at=now)


def close_backfill(stream_state: dict[str, Any], backfill: BackfillWindow) -> None:
    """The gap was read to its end: the history held now begins at its start."""
    stream_state[HISTORY_SINCE] = None if backfill.since is None else format_utc(backfill.since)
    stream_state.pop(BACKFILL, None)


class BackfillRead:
    """One pass over the gap, through the one pager, claiming each page in the state (`backfill`)."""

    def __init__(self, stream: OrderspaceStream, gap: BackfillWindow, run: StreamRun) -> None:
        self.stream = stream
        self.gap = gap
        self.run = run
        self.claims_progress = stream.get_batch_config(stream.config) is None

    def records(self) -> t.Iterator[dict[str, Any]]:
        stream, gap, run = self.stream, self.gap, self.run
        stream.logger.info(
            "Backfilling '%s' from %s to %s: start_date now lies before the history held%s",
            stream.name,
            "the beginning" if gap.since is None else format_utc(gap.since),
            format_utc(gap.before),
            " (resumed)" if gap.resumed else "",
        )
        pager = stream.pager(
            stream.time_filters(gap.since, gap.before),
            cursor=gap.starting_after,
            what=f"'{stream.name}' (backfill)",
            read="the backfill",
            stopped="The bookmarks did not move: the next run resumes the backfill at that cursor.",
            on_advance=self._advanced,
        )
        time_field = stream.replication_key
        for key, record in pager.records():
            if key in run.emitted or (time_field is not None and self._before_gap(record.get(time_field))):
                continue
            run.emitted.add(key)
            # History: the records it would name are in the gap too, or already held.
            yield run.emitting(record, changed=False)

    def _before_gap(self, value: Any) -> bool:
        if self.gap.since is None or not isinstance(value, str):
            return False
        try:
            return parse_utc(value) < self.gap.since
        except ValueError:
            return False

    def _advanced(self, cursor: str | None) -> None:
        self.gap.starting_after = cursor
        if cursor is not None and self.claims_progress:
            self.stream.save_backfill_progress(self.gap)
