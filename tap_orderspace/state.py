"""Where a stream starts reading, what it records as it goes, and where it ends.

A stream's entry in the Singer state looks like one of these:

    {"replication_key": "created", "replication_key_value": "2026-11-27T06:00:05Z"}
        streams whose records carry a creation time (customers, orders, dispatches)
    {"extraction_started_at": "2026-11-27T06:00:00Z"}
        streams whose records carry no time (invoices, products, inventory_levels):
        the moment the last complete extraction began, taken before its first request

and, while a run is in progress, also

    {"in_progress": {"since": ..., "starting_after": ..., "newest_seen": ..., "started_at": ...}}

which is written after every page, so a run that dies resumes after the last page it
delivered instead of starting over. The bookmark itself only moves when the whole
window has been read: lists come newest first, so the newest record arrives on the
first page and must not become the bookmark before the older pages are delivered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tap_orderspace.errors import StateError

UTC = dt.UTC
IN_PROGRESS = "in_progress"
EXTRACTION_STARTED_AT = "extraction_started_at"
REPLICATION_KEY = "replication_key"
REPLICATION_KEY_VALUE = "replication_key_value"


def parse_utc(value: str) -> dt.datetime:
    """Parse an ISO 8601 date or date-time; naive values are UTC."""
    parsed = dt.datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def format_utc(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _state_time(stream: str, key: str, value: Any) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return parse_utc(value)
    except (TypeError, ValueError):
        raise StateError(
            f"The state of stream '{stream}' has {key}={value!r}, which is not an ISO 8601 "
            "date-time: correct it (meltano state get / meltano state set), or re-extract "
            "with meltano run --full-refresh"
        ) from None


@dataclass
class ExtractionWindow:
    """One run's pass over a stream: its lower bound and how far it has got."""

    since: dt.datetime | None
    started_at: dt.datetime
    starting_after: str | None = None
    newest_seen: dt.datetime | None = None
    resumed: bool = False

    def as_state(self) -> dict[str, Any]:
        return {
            "since": None if self.since is None else format_utc(self.since),
            "starting_after": self.starting_after,
            "newest_seen": None if self.newest_seen is None else format_utc(self.newest_seen),
            "started_at": format_utc(self.started_at),
        }

    def saw(self, record_time: dt.datetime) -> None:
        if self.newest_seen is None or record_time > self.newest_seen:
            self.newest_seen = record_time


@dataclass(frozen=True)
class WindowRules:
    """What one stream's incremental behaviour is made of (declared on the stream)."""

    stream: str
    incremental: bool
    replication_key: str | None
    honours_start_date: bool
    lookback: dt.timedelta


def open_window(
    rules: WindowRules,
    stream_state: dict[str, Any],
    *,
    start_date: dt.datetime | None,
    now: dt.datetime,
) -> ExtractionWindow:
    """Resume the interrupted run, or start a new one from the bookmark."""
    progress = stream_state.get(IN_PROGRESS)
    if progress is not None:
        if not isinstance(progress, dict) or "started_at" not in progress:
            raise StateError(
                f"The state of stream '{rules.stream}' has a malformed '{IN_PROGRESS}' entry: "
                "remove that entry to restart the stream's interrupted run from its bookmark"
            )
        started_at = _state_time(rules.stream, "in_progress.started_at", progress["started_at"])
        assert started_at is not None
        return ExtractionWindow(
            since=_state_time(rules.stream, "in_progress.since", progress.get("since")),
            started_at=started_at,
            starting_after=progress.get("starting_after"),
            newest_seen=_state_time(rules.stream, "in_progress.newest_seen", progress.get("newest_seen")),
            resumed=True,
        )

    if not rules.incremental:
        return ExtractionWindow(since=None, started_at=now)

    bookmark = current_bookmark(rules, stream_state)
    if bookmark is None:
        since = start_date if rules.honours_start_date else None
    else:
        since = bookmark - rules.lookback
        if rules.honours_start_date and start_date is not None:
            since = max(since, start_date)
    return ExtractionWindow(since=since, started_at=now)


def current_bookmark(rules: WindowRules, stream_state: dict[str, Any]) -> dt.datetime | None:
    if rules.replication_key is None:
        return _state_time(rules.stream, EXTRACTION_STARTED_AT, stream_state.get(EXTRACTION_STARTED_AT))
    if stream_state.get(REPLICATION_KEY) not in (None, rules.replication_key):
        return None  # the bookmark was kept for another field: start afresh
    return _state_time(rules.stream, REPLICATION_KEY_VALUE, stream_state.get(REPLICATION_KEY_VALUE))


def close_window(rules: WindowRules, stream_state: dict[str, Any], window: ExtractionWindow) -> None:
    """The window was read to its end: move the bookmark and forget the progress."""
    stream_state.pop(IN_PROGRESS, None)
    if not rules.incremental:
        return
    if rules.replication_key is None:
        stream_state[EXTRACTION_STARTED_AT] = format_utc(window.started_at)
        return
    previous = current_bookmark(rules, stream_state)
    newest = max((t for t in (previous, window.newest_seen) if t is not None), default=None)
    if newest is not None:
        stream_state[REPLICATION_KEY] = rules.replication_key
        stream_state[REPLICATION_KEY_VALUE] = format_utc(newest)
