"""Where a stream starts reading, what it records as it goes, and where it ends.

A stream's entry in the Singer state looks like one of these:

    {"replication_key": "created", "replication_key_value": "2026-11-27T06:00:05Z"}
        streams whose records carry a creation time (customers, orders, dispatches)
    {"extraction_started_at": "2026-11-27T06:00:00Z"}
        streams whose records carry no time (invoices, products, inventory_levels):
        the moment the last complete extraction began, taken before its first request

plus, for change capture and reconciliation (see change_capture.py and window_read.py),

    "covers": ["order_lines", "orders"]   the streams the bookmark was kept for: a stream
                                           selected later reads its history again
    "reconciled_at": "2026-11-20T06:00:00Z"   when the last complete full read began
    "open_ids": [...], "pending_ids": [...]   records to re-read on the next run

    "read_started_at": "2026-11-27T06:00:00.000000Z"   when the last window read to its end began
    "history_since": "2024-01-01T00:00:00Z"   the earliest history the warehouse holds (the
                                           `start_date` of the last full read or backfill; null: all)

and, while a run is in progress, also

    {"in_progress": {"since": ..., "starting_after": ..., "newest_seen": ..., "started_at": ...,
                     "version": ..., "covers": [...]}}
    {"backfill": {"since": ..., "before": ..., "starting_after": ..., "started_at": ...}}

which is written after every page, so a run that dies resumes after the last page it
delivered instead of starting over. The bookmark itself only moves when the whole
window has been read: lists come newest first, so the newest record arrives on the
first page and must not become the bookmark before the older pages are delivered.

Merge-safe. Meltano stores the STATEs of a `--full-refresh` or `--state-strategy merge` run
deep-merged into one another, and a merge never removes a key. So nothing is ended by removing
it: an `in_progress` whose `started_at` is not after `read_started_at` belongs to a read that
completed, a `backfill` whose `since` is not before `history_since` to a backfill that
completed; both are recognised as stale and ignored (INFO). Lists that end are written empty.

The state's top level carries `state_format` (2). A state without it was written by a release
before 0.2.0 and is read as it is; a newer format fails before any request.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from tap_orderspace.errors import StateError

UTC = dt.UTC
IN_PROGRESS = "in_progress"
EXTRACTION_STARTED_AT = "extraction_started_at"
REPLICATION_KEY = "replication_key"
REPLICATION_KEY_VALUE = "replication_key_value"
COVERS = "covers"
RECONCILED_AT = "reconciled_at"
OPEN_IDS = "open_ids"
PENDING_IDS = "pending_ids"
READ_STARTED_AT = "read_started_at"
HISTORY_SINCE = "history_since"
BACKFILL = "backfill"
#: The top-level key of the state that names its format, and the format this release writes.
STATE_FORMAT = "state_format"
CURRENT_STATE_FORMAT = 2
# A record time this far past the server's clock is not believed (clock jitter aside).
FUTURE_TOLERANCE = dt.timedelta(minutes=5)

logger = logging.getLogger("tap-orderspace")


def parse_utc(value: str) -> dt.datetime:
    """Parse an ISO 8601 date or date-time; naive values are UTC."""
    parsed = dt.datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def format_utc(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_utc_precise(moment: dt.datetime) -> str:
    """To the microsecond: for times compared with `time_extracted`, which has them too."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


STATE_FIX = "correct it (meltano state get / meltano state set), or re-extract with meltano run --full-refresh"
_TIMES = (REPLICATION_KEY_VALUE, EXTRACTION_STARTED_AT, RECONCILED_AT, READ_STARTED_AT, HISTORY_SINCE)
_BACKFILL_TIMES = ("since", "before", "started_at")
_PROGRESS_TIMES = ("since", "newest_seen", "started_at", "new_after")
_ID_LISTS = (COVERS, OPEN_IDS, PENDING_IDS)


def check_stream_state(stream: str, stream_state: Any) -> None:
    """Refuse, in one line naming the stream and key, a state entry this module cannot read.

    The tap calls it for every stream before the first request; `open_window` again, so that
    no state reaches the window code unchecked.
    """
    problem = (
        _problem_in(stream_state)
        if isinstance(stream_state, dict)
        else f"is a JSON {type(stream_state).__name__}, not an object"
    )
    if problem:
        raise StateError(f"the state of stream '{stream}' {problem}: {STATE_FIX}")


def check_state_format(state: dict[str, Any]) -> None:
    """Refuse a state written by a newer release of the tap, whose keys this one may misread."""
    found = state.get(STATE_FORMAT, 1)
    if not isinstance(found, int) or isinstance(found, bool) or found < 1:
        raise StateError(f"the state's '{STATE_FORMAT}' is {_shown(found)}, not a format number: {STATE_FIX}")
    if found > CURRENT_STATE_FORMAT:
        raise StateError(
            f"the state was written in format {found} by a newer tap-orderspace (this one reads up to "
            f"{CURRENT_STATE_FORMAT}): upgrade tap-orderspace, or {STATE_FIX}"
        )


def _problem_in(stream_state: dict[str, Any]) -> str | None:
    times = [(key, stream_state.get(key)) for key in _TIMES]
    lists = [(key, stream_state.get(key)) for key in _ID_LISTS]
    progress = stream_state.get(IN_PROGRESS)
    if progress is not None:
        if not isinstance(progress, dict) or progress.get("started_at") is None:
            return f"has a malformed '{IN_PROGRESS}' entry (remove it to restart the interrupted run)"
        if not isinstance(progress.get("starting_after"), str | None):
            return f"has {IN_PROGRESS}.starting_after={_shown(progress['starting_after'])}, which is not a record id"
        version = progress.get("version")
        if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
            return f"has {IN_PROGRESS}.version={_shown(version)}, which is not an integer"
        times += [(f"{IN_PROGRESS}.{key}", progress.get(key)) for key in _PROGRESS_TIMES]
        lists.append((f"{IN_PROGRESS}.{COVERS}", progress.get(COVERS)))
    backfill = stream_state.get(BACKFILL)
    if backfill is not None:
        if not isinstance(backfill, dict) or not isinstance(backfill.get("before"), str):
            return f"has a malformed '{BACKFILL}' entry (remove it to start the backfill again)"
        if not isinstance(backfill.get("starting_after"), str | None):
            return f"has {BACKFILL}.starting_after={_shown(backfill['starting_after'])}, which is not a record id"
        times += [(f"{BACKFILL}.{key}", backfill.get(key)) for key in _BACKFILL_TIMES]
    for key, value in lists:
        if value is not None and not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
            return f"has '{key}' that is not a list of names or ids"
    for key, value in times:
        if value is None:
            continue
        try:
            parse_utc(value)
        except (TypeError, ValueError):
            return f"has {key}={_shown(value)}, which is not an ISO 8601 date-time"
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_utc_or_none(value: str | None) -> dt.datetime | None:
    """A time from a state that `check_stream_state` has passed, or None where it holds none."""
    return None if value is None else parse_utc(value)


@dataclass
class ExtractionWindow:
    """One run's pass over a stream: its lower bound and how far it has got."""

    since: dt.datetime | None
    started_at: dt.datetime
    starting_after: str | None = None
    newest_seen: dt.datetime | None = None
    resumed: bool = False
    #: Set when this pass reads the whole stream: the Singer table version of its records,
    #: activated (older rows marked deleted) only once the pass is complete.
    version: int | None = None
    covers: tuple[str, ...] = ()
    #: Records after this time are new since the last run (None on a full read): only
    #: they tell of changes to other records, not records re-read by the lookback.
    new_after: dt.datetime | None = None
    #: The latest record time the server's clock allows (its time at the window's start).
    latest_believable: dt.datetime | None = field(default=None, compare=False)

    @property
    def reconciling(self) -> bool:
        """A complete read (a first sync, or a reconciliation), unless it starts in the future."""
        return self.version is not None and not self.starts_in_future

    @property
    def starts_in_future(self) -> bool:
        """A start date past the server's clock: nothing can be read, nothing may be concluded."""
        return self.since is not None and self.since > self.started_at

    def as_state(self) -> dict[str, Any]:
        progress: dict[str, Any] = {
            "since": None if self.since is None else format_utc(self.since),
            "starting_after": self.starting_after,
            "newest_seen": None if self.newest_seen is None else format_utc(self.newest_seen),
            "started_at": format_utc_precise(self.started_at),
            COVERS: list(self.covers),
            "new_after": None if self.new_after is None else format_utc(self.new_after),
        }
        if self.version is not None:
            progress["version"] = self.version
        return progress

    def saw(self, record_time: dt.datetime) -> bool:
        """Note a record's time; False if it lies in the server's future (it is not bookmarked)."""
        if self.latest_believable is not None and record_time > self.latest_believable + FUTURE_TOLERANCE:
            return False
        if self.newest_seen is None or record_time > self.newest_seen:
            self.newest_seen = record_time
        return True


@dataclass(frozen=True)
class WindowRules:
    """What one stream's incremental behaviour is made of (declared on the stream)."""

    stream: str
    incremental: bool
    replication_key: str | None
    honours_start_date: bool
    lookback: dt.timedelta
    #: The streams read in this pass (the stream and its selected child tables).
    covers: tuple[str, ...] = ()
    #: How often an incremental stream is read in full to find deletions (None: never).
    reconcile_every: dt.timedelta | None = None


def open_window(
    rules: WindowRules,
    stream_state: dict[str, Any],
    *,
    start_date: dt.datetime | None,
    now: dt.datetime,
) -> ExtractionWindow:
    """Resume the interrupted run, or start a new one from the bookmark.

    `now` is the server's time: no bookmark, record time or start date past it is believed.
    """
    check_stream_state(rules.stream, stream_state)
    _drop_stale_progress(rules.stream, stream_state)
    covered = _covers(rules, stream_state)
    progress = stream_state.get(IN_PROGRESS)
    if progress is not None and covered:
        window = _resumed_window(rules, progress)
        window.latest_believable = now
        return window
    if progress is not None:
        logger.info(
            "'%s' was interrupted while fewer tables were selected; reading its window again from the start",
            rules.stream,
        )
        stream_state.pop(IN_PROGRESS, None)

    if not rules.incremental:
        return ExtractionWindow(since=None, started_at=now, version=_version(now), covers=rules.covers)

    bookmark = current_bookmark(rules, stream_state) if covered else None
    if not covered:
        logger.info(
            "'%s' is now read for %s, which its bookmark did not cover: reading its history again",
            rules.stream,
            ", ".join(sorted(set(rules.covers) - set(stream_state.get(COVERS) or ()))),
        )
    if bookmark is not None and bookmark > now:
        logger.warning(
            "The bookmark of '%s' (%s) is in the future of Orderspace's clock (%s): reading from now instead",
            rules.stream,
            format_utc(bookmark),
            format_utc(now),
        )
        bookmark = now
    first_bound = start_date if rules.honours_start_date else None
    if first_bound is not None and first_bound > now:
        logger.warning(
            "start_date %s of '%s' is in the future of Orderspace's clock (%s): nothing is read and "
            "the bookmark does not move until it is reached or corrected",
            format_utc(first_bound),
            rules.stream,
            format_utc(now),
        )
    if bookmark is not None and rules.honours_start_date and HISTORY_SINCE not in stream_state:
        # A state from before `history_since` existed: its history began at today's start_date.
        stream_state[HISTORY_SINCE] = None if first_bound is None else format_utc(first_bound)
    new_after = None
    if bookmark is None or _reconcile_due(rules, stream_state, now):
        since = first_bound
        version = _version(now)
    else:
        since = bookmark - rules.lookback
        if first_bound is not None:
            since = max(since, first_bound)
        version = None
        new_after = bookmark
    window = ExtractionWindow(since=since, started_at=now, version=version, covers=rules.covers, new_after=new_after)
    window.latest_believable = now
    return window


def _drop_stale_progress(stream: str, stream_state: dict[str, Any]) -> None:
    """Forget an `in_progress` that a merged state kept from a read that went on to complete."""
    progress = stream_state.get(IN_PROGRESS)
    completed = parse_utc_or_none(stream_state.get(READ_STARTED_AT))
    if progress is None or completed is None or parse_utc(progress["started_at"]) > completed:
        return
    logger.info(
        "'%s': the state's in_progress (started %s) belongs to a read that completed (a state merged by "
        "Meltano keeps it): ignored",
        stream,
        progress["started_at"],
    )
    del stream_state[IN_PROGRESS]


def _resumed_window(rules: WindowRules, progress: dict[str, Any]) -> ExtractionWindow:
    return ExtractionWindow(
        since=parse_utc_or_none(progress.get("since")),
        started_at=parse_utc(progress["started_at"]),
        starting_after=progress.get("starting_after"),
        newest_seen=parse_utc_or_none(progress.get("newest_seen")),
        resumed=True,
        version=progress.get("version"),
        covers=rules.covers,
        new_after=parse_utc_or_none(progress.get("new_after")),
    )


def _covers(rules: WindowRules, stream_state: dict[str, Any]) -> bool:
    """Whether the state was kept for every table read now (states from before `covers` existed: yes)."""
    progress = stream_state.get(IN_PROGRESS)
    kept_for = (progress if progress is not None else stream_state).get(COVERS)
    return kept_for is None or set(rules.covers) <= set(kept_for)


def _reconcile_due(rules: WindowRules, stream_state: dict[str, Any], now: dt.datetime) -> bool:
    if rules.reconcile_every is None:
        return False
    last = parse_utc_or_none(stream_state.get(RECONCILED_AT))
    return last is None or now - last >= rules.reconcile_every


def _version(now: dt.datetime) -> int:
    """A Singer table version: milliseconds since the epoch, as the SDK and its targets use."""
    return int(now.timestamp() * 1000)


def current_bookmark(rules: WindowRules, stream_state: dict[str, Any]) -> dt.datetime | None:
    if rules.replication_key is None:
        return parse_utc_or_none(stream_state.get(EXTRACTION_STARTED_AT))
    if stream_state.get(REPLICATION_KEY) not in (None, rules.replication_key):
        return None  # the bookmark was kept for another field: start afresh
    return parse_utc_or_none(stream_state.get(REPLICATION_KEY_VALUE))


def close_window(rules: WindowRules, stream_state: dict[str, Any], window: ExtractionWindow) -> None:
    """The window was read to its end: move the bookmark and forget the progress."""
    stream_state.pop(IN_PROGRESS, None)
    if not window.starts_in_future:  # nothing was read: the state stays as it was
        stream_state[READ_STARTED_AT] = format_utc_precise(window.started_at)
    if rules.covers:
        stream_state[COVERS] = sorted(rules.covers)
    if window.reconciling and rules.incremental:
        stream_state[RECONCILED_AT] = format_utc(window.started_at)
        if rules.honours_start_date:
            # A full read from `start_date` holds every record since it: no gap is left to backfill.
            stream_state[HISTORY_SINCE] = None if window.since is None else format_utc(window.since)
            stream_state.pop(BACKFILL, None)
    if not rules.incremental:
        return
    if window.starts_in_future:
        return  # nothing was read, so nothing is bookmarked
    if rules.replication_key is None:
        stream_state[EXTRACTION_STARTED_AT] = format_utc(window.started_at)
        return
    previous = current_bookmark(rules, stream_state)
    newest = max((t for t in (previous, window.newest_seen) if t is not None), default=None)
    if newest is not None and newest > window.started_at:
        newest = window.started_at
    if newest is not None:
        stream_state[REPLICATION_KEY] = rules.replication_key
        stream_state[REPLICATION_KEY_VALUE] = format_utc(newest)


def bookmark_of(rules: WindowRules, stream_state: dict[str, Any]) -> str | None:
    """The bookmark as the run log shows it: the newest record time, or the extraction's start."""
    if not rules.incremental:
        return None
    bookmark = current_bookmark(rules, stream_state)
    return None if bookmark is None else format_utc(bookmark)
