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
)


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
    held = stream_state.get(HISTORY_SINCE, "")
    progress = stream_state.get(BACKFILL)
    history = _time_or_none(held) if held != "" else None
    gap = history is not None and (start_date is None or start_date < history)
    if progress is not None and not (
        gap and _time_or_none(progress.get("since")) == start_date and _time_or_none(progress["before"]) == history
    ):
        logger.info(
            "'%s': the state's backfill from %s is complete or no longer asked for (start_date changed): ignored",
            rules.stream,
            progress.get("since") or "the beginning",
        )
        del stream_state[BACKFILL]
        progress = None
    if not gap or history is None:
        return None
    if progress is not None:
        return BackfillWindow(
            since=start_date,
            before=history,
            started_at=parse_utc(progress.get("started_at") or format_utc(now)),
            starting_after=progress.get("starting_after"),
            resumed=True,
        )
    return BackfillWindow(since=start_date, before=history, started_at=now)


def close_backfill(stream_state: dict[str, Any], backfill: BackfillWindow) -> None:
    """The gap was read to its end: the history held now begins at its start."""
    stream_state[HISTORY_SINCE] = None if backfill.since is None else format_utc(backfill.since)
    stream_state.pop(BACKFILL, None)


def _time_or_none(value: str | None) -> dt.datetime | None:
    return None if value is None else parse_utc(value)
