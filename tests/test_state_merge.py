"""The state survives Meltano's merge of a run's STATEs, and `start_date` moved back opens a backfill."""

from __future__ import annotations

import copy
import datetime as dt
import typing as t

import pytest

from tap_orderspace import backfill as bf
from tap_orderspace import state as st
from tap_orderspace.errors import StateError

UTC = dt.UTC
RULES = st.WindowRules(
    stream="orders",
    incremental=True,
    replication_key="created",
    honours_start_date=True,
    lookback=dt.timedelta(0),
    covers=("order_lines", "orders"),
    reconcile_every=dt.timedelta(days=7),
)


def meltano_merge(src: dict[str, t.Any], dest: dict[str, t.Any]) -> dict[str, t.Any]:
    """Meltano's `meltano.core.utils.merge`, as its state store applies it to partial states:
    keys are added and overwritten at depth, never removed."""
    for key, value in src.items():
        if isinstance(value, dict):
            merge_into = dest.setdefault(key, {})
            meltano_merge(value, merge_into)
        else:
            dest[key] = value
    return dest


def at(day: int, hour: int = 6) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=UTC)


def run_window(
    stream_state: dict[str, t.Any], now: dt.datetime, *, start_date: dt.datetime | None = None
) -> list[dict[str, t.Any]]:
    """A run of one stream as the tap makes it: a STATE after its first page, one at its end."""
    window = st.open_window(RULES, stream_state, start_date=start_date, now=now)
    window.starting_after = "or_page1last"
    window.saw(now - dt.timedelta(hours=1))
    stream_state[st.IN_PROGRESS] = window.as_state()
    emitted = [copy.deepcopy(stream_state)]
    st.close_window(RULES, stream_state, window)
    emitted.append(copy.deepcopy(stream_state))
    return emitted


def test_a_completed_read_merged_with_its_own_progress_is_not_resumed(caplog: pytest.LogCaptureFixture) -> None:
    states = run_window({}, at(1))
    merged: dict[str, t.Any] = {}
    for emitted in states:
        meltano_merge(emitted, merged)
    assert st.IN_PROGRESS in merged, "the merge keeps the first page's progress: the case under test"

    with caplog.at_level("INFO", logger="tap-orderspace"):
        window = st.open_window(RULES, merged, start_date=None, now=at(2))
    assert not window.resumed
    assert window.starting_after is None
    assert window.since == at(1, 5), "continues from the bookmark, not from a stale page"
    assert "belongs to a read that completed" in caplog.text


def test_a_killed_run_after_a_completed_one_still_resumes() -> None:
    stream_state: dict[str, t.Any] = {}
    run_window(stream_state, at(1))
    window = st.open_window(RULES, stream_state, start_date=None, now=at(2))
    window.starting_after = "or_killedhere"
    stream_state[st.IN_PROGRESS] = window.as_state()  # the run dies after this page

    resumed = st.open_window(RULES, copy.deepcopy(stream_state), start_date=None, now=at(3))
    assert resumed.resumed
    assert resumed.starting_after == "or_killedhere"


def test_a_resumed_read_that_completes_leaves_no_live_progress_in_a_merge() -> None:
    stream_state: dict[str, t.Any] = {}
    run_window(stream_state, at(1))
    window = st.open_window(RULES, stream_state, start_date=None, now=at(2))
    window.starting_after = "or_killedhere"
    stream_state[st.IN_PROGRESS] = window.as_state()
    merged = copy.deepcopy(stream_state)
    for emitted in run_window(copy.deepcopy(stream_state), at(3)):
        meltano_merge(emitted, merged)
    assert not st.open_window(RULES, merged, start_date=None, now=at(4)).resumed


def test_a_state_of_a_newer_format_is_refused_in_one_line() -> None:
    with pytest.raises(StateError, match="format 3 by a newer tap-orderspace"):
        st.check_state_format({st.STATE_FORMAT: 3, "bookmarks": {}})
    st.check_state_format({"bookmarks": {}})  # written before the format was named
    st.check_state_format({st.STATE_FORMAT: st.CURRENT_STATE_FORMAT})
    with pytest.raises(StateError, match="not a format number"):
        st.check_state_format({st.STATE_FORMAT: "two"})


def first_sync(start_date: dt.datetime | None) -> dict[str, t.Any]:
    stream_state: dict[str, t.Any] = {}
    run_window(stream_state, at(1), start_date=start_date)
    return stream_state


def test_start_date_moved_back_opens_the_gap_only() -> None:
    stream_state = first_sync(start_date=at(1) - dt.timedelta(days=365))
    assert stream_state[st.HISTORY_SINCE] == "2025-11-01T06:00:00Z"
    earlier = at(1) - dt.timedelta(days=3 * 365)
    window = st.open_window(RULES, stream_state, start_date=earlier, now=at(2))
    assert not window.reconciling
    gap = bf.open_backfill(RULES, stream_state, window, start_date=earlier, now=at(2))
    assert gap is not None
    assert (gap.since, gap.before) == (earlier, at(1) - dt.timedelta(days=365))

    bf.close_backfill(stream_state, gap)
    assert stream_state[st.HISTORY_SINCE] == st.format_utc(earlier)
    again = st.open_window(RULES, stream_state, start_date=earlier, now=at(3))
    assert bf.open_backfill(RULES, stream_state, again, start_date=earlier, now=at(3)) is None


def test_start_date_moved_later_or_kept_opens_no_gap() -> None:
    for start_date in (at(1) - dt.timedelta(days=365), at(1) - dt.timedelta(days=30)):
        stream_state = first_sync(start_date=at(1) - dt.timedelta(days=365))
        window = st.open_window(RULES, stream_state, start_date=start_date, now=at(2))
        assert bf.open_backfill(RULES, stream_state, window, start_date=start_date, now=at(2)) is None


def test_a_killed_backfill_resumes_after_its_last_page_and_a_merged_finished_one_is_stale() -> None:
    stream_state = first_sync(start_date=at(1) - dt.timedelta(days=365))
    earlier = at(1) - dt.timedelta(days=1000)
    window = st.open_window(RULES, stream_state, start_date=earlier, now=at(2))
    gap = bf.open_backfill(RULES, stream_state, window, start_date=earlier, now=at(2))
    assert gap is not None
    gap.starting_after = "or_gappage3"
    stream_state[st.BACKFILL] = gap.as_state()
    killed = copy.deepcopy(stream_state)

    window = st.open_window(RULES, killed, start_date=earlier, now=at(3))
    resumed = bf.open_backfill(RULES, killed, window, start_date=earlier, now=at(3))
    assert resumed is not None
    assert resumed.resumed
    assert resumed.starting_after == "or_gappage3"

    bf.close_backfill(killed, resumed)
    merged = meltano_merge(killed, copy.deepcopy(stream_state))  # the progress survives the merge
    assert st.BACKFILL in merged
    window = st.open_window(RULES, merged, start_date=earlier, now=at(4))
    assert bf.open_backfill(RULES, merged, window, start_date=earlier, now=at(4)) is None


def test_a_state_from_before_history_since_takes_todays_start_date() -> None:
    stream_state = first_sync(start_date=None)
    del stream_state[st.HISTORY_SINCE]
    start = at(1) - dt.timedelta(days=365)
    window = st.open_window(RULES, stream_state, start_date=start, now=at(2))
    assert stream_state[st.HISTORY_SINCE] == st.format_utc(start)
    assert bf.open_backfill(RULES, stream_state, window, start_date=start, now=at(2)) is None
