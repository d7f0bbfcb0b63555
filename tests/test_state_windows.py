"""Where a stream's window starts and how the bookmark moves, without HTTP."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from tap_orderspace import state as st
from tap_orderspace.errors import StateError

NOW = dt.datetime(2026, 11, 27, 6, 0, tzinfo=dt.UTC)
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def rules(*, key: str | None = "created", start_date: bool = True, lookback_days: int = 0) -> st.WindowRules:
    return st.WindowRules(
        stream="orders",
        incremental=True,
        replication_key=key,
        honours_start_date=start_date,
        lookback=dt.timedelta(days=lookback_days),
    )


def test_first_sync_starts_at_start_date_only_where_history_is_bounded() -> None:
    assert st.open_window(rules(), {}, start_date=START, now=NOW).since == START
    assert st.open_window(rules(start_date=False), {}, start_date=START, now=NOW).since is None


def test_bookmark_minus_lookback_floored_at_start_date() -> None:
    state = {"replication_key": "created", "replication_key_value": "2026-11-20T10:00:00Z"}
    window = st.open_window(rules(lookback_days=3), state, start_date=START, now=NOW)
    assert window.since == dt.datetime(2026, 11, 17, 10, tzinfo=dt.UTC)
    late_start = dt.datetime(2026, 11, 19, tzinfo=dt.UTC)
    assert st.open_window(rules(lookback_days=3), state, start_date=late_start, now=NOW).since == late_start


def test_bookmark_moves_to_newest_record_only_when_the_window_closes() -> None:
    state: dict[str, t.Any] = {"replication_key": "created", "replication_key_value": "2026-11-20T10:00:00Z"}
    window = st.open_window(rules(), state, start_date=None, now=NOW)
    window.saw(dt.datetime(2026, 11, 26, tzinfo=dt.UTC))
    window.saw(dt.datetime(2026, 11, 21, tzinfo=dt.UTC))
    state[st.IN_PROGRESS] = window.as_state()
    assert state["replication_key_value"] == "2026-11-20T10:00:00Z"
    st.close_window(rules(), state, window)
    assert state == {
        "replication_key": "created",
        "replication_key_value": "2026-11-26T00:00:00Z",
        # The read that completed, so a merged state's stale `in_progress` is told from a live one.
        "read_started_at": "2026-11-27T06:00:00.000000Z",
        # The history held: a state from before this key began at the start_date of the run.
        "history_since": None,
    }


def test_window_without_new_records_keeps_the_bookmark() -> None:
    state = {"replication_key": "created", "replication_key_value": "2026-11-20T10:00:00Z"}
    window = st.open_window(rules(), state, start_date=None, now=NOW)
    st.close_window(rules(), state, window)
    assert state["replication_key_value"] == "2026-11-20T10:00:00Z"


def test_timeless_streams_bookmark_the_extraction_start() -> None:
    timeless = rules(key=None, start_date=False)
    state: dict[str, t.Any] = {}
    window = st.open_window(timeless, state, start_date=START, now=NOW)
    assert window.since is None
    st.close_window(timeless, state, window)
    # A first sync reads everything: it is also a reconciliation.
    assert state == {
        "extraction_started_at": "2026-11-27T06:00:00Z",
        "reconciled_at": "2026-11-27T06:00:00Z",
        "read_started_at": "2026-11-27T06:00:00.000000Z",
    }
    later = st.open_window(timeless, state, start_date=START, now=NOW + dt.timedelta(hours=6))
    assert later.since == NOW


def test_resume_continues_the_interrupted_window() -> None:
    first = st.open_window(rules(key=None), {}, start_date=START, now=NOW)
    first.starting_after = "in_abc"
    state = {st.IN_PROGRESS: first.as_state()}
    resumed = st.open_window(rules(key=None), state, start_date=None, now=NOW + dt.timedelta(hours=1))
    assert (resumed.resumed, resumed.since, resumed.starting_after, resumed.started_at) == (True, START, "in_abc", NOW)


def test_bookmark_of_another_field_is_ignored() -> None:
    state = {"replication_key": "updated", "replication_key_value": "2026-11-20T10:00:00Z"}
    assert st.open_window(rules(start_date=False), state, start_date=None, now=NOW).since is None


@pytest.mark.parametrize(
    "state",
    [
        {"replication_key": "created", "replication_key_value": "yesterday"},
        {"in_progress": "page 3"},
        {"in_progress": {"started_at": 17}},
        {"in_progress": {"started_at": None, "starting_after": "or_1"}},
    ],
)
def test_malformed_state_is_a_clear_error(state: dict[str, t.Any]) -> None:
    with pytest.raises(StateError, match="orders"):
        st.open_window(rules(), state, start_date=None, now=NOW)
