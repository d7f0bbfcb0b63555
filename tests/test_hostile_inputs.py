"""Issue 12's hostile inputs, one test per row, end to end: the real tap process over HTTP.

Every run is held to the same promises: no record the sandbox holds is lost, no bookmark
lies past a record that was not emitted or in the future, requests stay bounded, no
traceback, no secret or token printed, every record valid against the SCHEMA the tap
emitted, one line for a user's mistake, and a summary WARNING when records were repaired
or skipped. Row 9's long waits are tested on an injected clock in test_http_client.py;
row 10's matrix runs `main()` in-process, with one process run per kind of input.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest
from jsonschema import Draft7Validator, FormatChecker
from orderspace_sandbox import Sandbox
from tap_process import TapRun, catalog_selecting, run_tap, tap_config
from test_reliability import assert_nothing_secret_in, single_line_error

from tap_orderspace import tap as tap_module

SUMMARY = "Run complete, with records skipped or repaired:"
TIME_FIELDS = {"orders": "created", "customers": "created_at", "dispatches": "created"}
DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


# What every run must keep ------------------------------------------------------------------


def selecting(*streams: str) -> dict[str, t.Any]:
    # Discovery reads no connection setting: the catalog is the one every test shares.
    return catalog_selecting(streams, {"max_requests_per_minute": 0, "request_timeout": 10})


def _format_checker() -> FormatChecker:
    """Draft 7's checker, plus `date-time`, which jsonschema checks only with an optional package."""
    checker = copy.deepcopy(Draft7Validator.FORMAT_CHECKER)

    def _is_date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True  # formats constrain strings only; the type is checked apart
        if DATE_TIME.fullmatch(value) is None:
            return False
        dt.datetime.fromisoformat(value)
        return True

    checker.checkers["date-time"] = (_is_date_time, (ValueError,))
    return checker


FORMATS = _format_checker()


def server_now(sb: Sandbox) -> dt.datetime:
    offset = float(sb.set_config()["clock_offset"])
    return dt.datetime.fromtimestamp(time.time() + offset, dt.UTC)


def assert_sound(run: TapRun, sb: Sandbox, *, max_requests: int = 80) -> None:
    """What every run promises, whatever it was fed."""
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert_nothing_secret_in(run, sb)
    assert sb.stats()["requests_total"] <= max_requests, sb.stats()["requests"]
    schemas = {}
    for message in run.messages:
        if message["type"] == "SCHEMA":
            schemas[message["stream"]] = Draft7Validator(message["schema"], format_checker=FORMATS)
        elif message["type"] == "RECORD":
            errors = [e.message for e in schemas[message["stream"]].iter_errors(message["record"])]
            assert not errors, (message["stream"], errors[:3])
    if run.states:
        assert_no_future_bookmark(run.final_state, sb)


def assert_no_future_bookmark(state: dict[str, t.Any], sb: Sandbox) -> None:
    now = server_now(sb) + dt.timedelta(seconds=2)
    for stream, bookmark in state.get("bookmarks", {}).items():
        for key in ("replication_key_value", "extraction_started_at"):
            if bookmark.get(key):
                assert dt.datetime.fromisoformat(bookmark[key]) <= now, (stream, key, bookmark[key])


def ids(run: TapRun, stream: str) -> set[str]:
    return {record["id"] for record in run.records[stream]}


def all_ids(sb: Sandbox, stream: str) -> set[str]:
    return {record["id"] for record in sb.records(stream)}


def succeeded(run: TapRun) -> TapRun:
    assert run.returncode == 0, run.stderr[-3000:]
    return run


# Row 1: child tables and their parents -----------------------------------------------------


@pytest.mark.parametrize(
    ("first", "then"),
    [(("order_lines",), ("orders", "order_lines")), (("orders",), ("orders", "order_lines"))],
    ids=["child-then-parent", "parent-then-child"],
)
def test_row1_a_table_selected_later_gets_its_whole_history(first: tuple[str, ...], then: tuple[str, ...]) -> None:
    with Sandbox(seed=101, orders=250, rate_limit=None) as sb:
        config = tap_config(sb, lookback_window_days=0, page_size=100)
        one = succeeded(run_tap(config, catalog=selecting(*first)))
        assert_sound(one, sb)
        sb.mutate(new_orders=5)
        sb.reset_stats()
        two = succeeded(run_tap(config, catalog=selecting(*then), state=one.final_state))
        assert_sound(two, sb)
        assert ids(two, "orders") == all_ids(sb, "orders")
        assert len(two.records["order_lines"]) == sb.totals()["order_lines"]


# Row 2: the future, in data, state and start_date ------------------------------------------


def test_row2_a_future_record_and_a_future_bookmark_are_not_believed() -> None:
    with Sandbox(seed=102, orders=250, rate_limit=None) as sb:
        config = tap_config(sb, lookback_window_days=0)
        catalog = selecting("orders", "invoices")
        sb.add_fault(resource="orders", nth=1, kind="future_record")
        sb.add_fault(resource="invoices", nth=1, kind="future_record")
        one = succeeded(run_tap(config, catalog=catalog))
        assert_sound(one, sb)
        assert ids(one, "orders") == all_ids(sb, "orders")
        assert ids(one, "invoices") == all_ids(sb, "invoices")
        assert re.search(r"'orders' record \w+ has created=2099-01-01T00:00:00Z, in the future", one.stderr)
        sb.clear_faults()

        # A bookmark in the future (a bad `meltano state set`, a clock gone wrong) is read from now.
        state = copy.deepcopy(one.final_state)
        state["bookmarks"]["orders"]["replication_key_value"] = "2099-01-01T00:00:00Z"
        sb.reset_stats()
        two = succeeded(run_tap(config, catalog=catalog, state=state))
        assert_sound(two, sb)
        assert "The bookmark of 'orders' (2099-01-01T00:00:00Z) is in the future" in two.stderr

        made = sb.mutate(new_orders=4, new_invoices=3, at=time.time() + 1)
        sb.reset_stats()
        three = succeeded(run_tap(config, catalog=catalog, state=two.final_state))
        assert_sound(three, sb)
        assert set(made["created"]["orders"]) <= ids(three, "orders")
        assert set(made["created"]["invoices"]) <= ids(three, "invoices")


def test_row2_a_future_start_date_later_corrected_loses_nothing() -> None:
    with Sandbox(seed=104, orders=200, rate_limit=None) as sb:
        config = tap_config(sb, start_date="2099-01-01T00:00:00Z")
        one = succeeded(run_tap(config, catalog=selecting("orders", "invoices")))
        assert_sound(one, sb)
        assert "start_date 2099-01-01T00:00:00Z of 'orders' is in the future" in one.stderr
        corrected = {**config, "start_date": "2020-01-01T00:00:00Z"}
        sb.reset_stats()
        two = succeeded(run_tap(corrected, catalog=selecting("orders", "invoices"), state=one.final_state))
        assert_sound(two, sb)
        assert ids(two, "orders") == all_ids(sb, "orders")
        assert ids(two, "invoices") == all_ids(sb, "invoices")


# Rows 3-5: paging that lies ----------------------------------------------------------------


def test_row3_an_empty_page_saying_more_follow_is_asked_again() -> None:
    with Sandbox(seed=105, orders=250, rate_limit=None) as sb:
        config = tap_config(sb, page_size=100)
        sb.add_fault(resource="orders", nth=2, kind="empty_has_more")
        run = succeeded(run_tap(config, catalog=selecting("orders")))
        assert_sound(run, sb, max_requests=20)
        assert ids(run, "orders") == all_ids(sb, "orders")
        assert "answered an empty page that says more follow; asking again" in run.stderr


def test_row3_empty_pages_that_persist_stop_without_moving_the_bookmark() -> None:
    with Sandbox(seed=106, orders=250, rate_limit=None) as sb:
        config = tap_config(sb, page_size=100)
        sb.add_fault(resource="orders", nth=2, kind="empty_has_more", times=50)
        one = run_tap(config, catalog=selecting("orders"))
        assert "answered 3 times an empty page that says more follow" in single_line_error(one)
        assert_sound(one, sb, max_requests=10)
        assert "replication_key_value" not in one.final_state["bookmarks"].get("orders", {})
        sb.clear_faults()
        two = succeeded(run_tap(config, catalog=selecting("orders"), state=one.final_state))
        assert_sound(two, sb, max_requests=40)
        assert ids(one, "orders") | ids(two, "orders") == all_ids(sb, "orders")


def test_row4_paging_that_does_not_advance_stops_in_a_few_requests() -> None:
    with Sandbox(seed=107, orders=250, rate_limit=None) as sb:
        config = tap_config(sb, page_size=100)
        sb.add_fault(resource="orders", nth=2, kind="ignore_cursor", times=1000)
        run = run_tap(config, catalog=selecting("orders"), timeout=60)
        line = single_line_error(run)
        assert "Paging of 'orders' does not advance" in line
        assert re.search(r"cursor or_\w+", line)
        assert_sound(run, sb, max_requests=5)
        assert "replication_key_value" not in run.final_state["bookmarks"].get("orders", {})


def test_row5_an_empty_answer_to_a_saved_cursor_reads_the_window_again() -> None:
    with Sandbox(seed=108, orders=300, rate_limit=None) as sb:
        config = tap_config(sb, page_size=100)
        one = run_tap(
            config,
            catalog=selecting("orders"),
            stop_after_lines=lambda lines: sum('"in_progress"' in line for line in lines) >= 2,
        )
        cursor = one.final_state["bookmarks"]["orders"]["in_progress"]["starting_after"]
        assert cursor
        sb.add_fault(resource="orders", nth=1, kind="empty_after_cursor")
        sb.reset_stats()
        two = succeeded(run_tap(config, catalog=selecting("orders"), state=one.final_state))
        assert_sound(two, sb, max_requests=20)
        assert f"answered nothing after cursor {cursor}; reading the window again" in two.stderr
        assert ids(one, "orders") | ids(two, "orders") == all_ids(sb, "orders")
        assert ids(two, "orders") >= all_ids(sb, "orders") - ids(one, "orders")


# Rows 6-7: records that do not match their schema ------------------------------------------


def test_row6_numeric_strings_are_converted_and_a_null_id_is_not_a_cursor() -> None:
    with Sandbox(seed=109, orders=250, rate_limit=None) as sb:
        config = tap_config(sb, page_size=100)
        sb.add_fault(resource="orders", nth=1, kind="string_numbers")
        sb.add_fault(resource="products", nth=1, kind="string_numbers")
        sb.add_fault(resource="invoices", nth=1, kind="null_id")
        streams = ("orders", "order_lines", "products", "product_variants", "invoices")
        run = succeeded(run_tap(config, catalog=selecting(*streams)))
        assert_sound(run, sb)
        for stream in ("orders", "products", "invoices"):
            assert ids(run, stream) == all_ids(sb, stream), stream
        assert len(run.records["order_lines"]) == sb.totals()["order_lines"]
        assert "starting_after" not in str(run.final_state)
        assert "None" not in json.dumps(run.final_state)
        assert re.search(r"A 'invoices' record has no usable 'id' \(None\): skipped", run.stderr)
        assert re.search(r"'orders' record or_\w+: \w+='[\d.]+' converted to [\d.]+", run.stderr)
        summary = next(line for line in run.stderr.splitlines() if SUMMARY in line)
        assert "1 record(s) of 'invoices' skipped" in summary
        assert "converted or nulled" in summary


def test_row7_malformed_records_neither_fail_the_run_nor_the_next() -> None:
    with Sandbox(seed=110, orders=300, rate_limit=None) as sb:
        config = tap_config(sb)
        first_page = sb.records("orders")[:200]
        # The first record's time is "not a date", the second's nested list a string, and 42 mid-list.
        sb.add_fault(resource="orders", nth=1, kind="malformed_record")
        sb.add_fault(resource="invoices", nth=1, kind="malformed_record")
        streams = ("orders", "order_lines", "invoices", "invoice_lines")
        one = succeeded(run_tap(config, catalog=selecting(*streams)))
        assert_sound(one, sb)
        assert ids(one, "orders") == all_ids(sb, "orders")
        assert ids(one, "invoices") == all_ids(sb, "invoices")
        assert len(one.records["order_lines"]) == sb.totals()["order_lines"] - len(first_page[1]["order_lines"])
        assert re.search(r"order_lines='\[object Object\]' is a str, not array: emitted as null", one.stderr)
        assert "created='not a date' is not a date-time: emitted as null" in one.stderr
        assert "a list element that is not an object (int): skipped" in one.stderr
        summary = next(line for line in one.stderr.splitlines() if SUMMARY in line)
        assert "1 record(s) of 'orders' skipped" in summary
        assert "'orders.order_lines' converted or nulled" in summary
        sb.clear_faults()
        sb.reset_stats()
        two = succeeded(run_tap(config, catalog=selecting(*streams), state=one.final_state))
        assert_sound(two, sb)
        assert SUMMARY not in two.stderr


# Row 8: a token that cannot be sent --------------------------------------------------------


def test_row8_a_token_with_a_line_break_is_refused_and_never_printed() -> None:
    with Sandbox(seed=111, orders=50, rate_limit=None) as sb:
        sb.add_fault(resource="token", nth=1, kind="crlf_token", times=10)
        run = run_tap(tap_config(sb), catalog=selecting("orders"))
        assert "issued an access token that cannot be sent in an HTTP header" in single_line_error(run)
        assert_sound(run, sb, max_requests=0)
        for token in sb.issued_tokens():
            for part in re.split(r"[\r\n]+", token):
                assert part not in run.stdout + run.stderr


# Row 9: absurd Retry-After (the cap; the long waits are on an injected clock elsewhere) -----


def test_row9_an_absurd_retry_after_is_capped_and_said() -> None:
    # 3600 and inf, and the cap at its default, on an injected clock in test_http_client.py.
    retry_after = "1e10"
    with Sandbox(seed=112, orders=250, rate_limit=None) as sb:
        config = tap_config(sb, max_retry_after_seconds=1)
        sb.add_fault(resource="orders", nth=2, kind="status", status=429, retry_after=retry_after)
        started = time.monotonic()
        run = succeeded(run_tap(config, catalog=selecting("orders")))
        assert time.monotonic() - started < 30
        assert_sound(run, sb, max_requests=20)
        assert ids(run, "orders") == all_ids(sb, "orders")
        assert "OverflowError" not in run.stderr
        assert re.search(
            r"WARNING .* throttled GET /orders and asked for 10000000000 s; waiting 1 s \(max_retry_after_seconds\)",
            run.stderr,
        )


# Row 10: settings, state and catalog a user got wrong --------------------------------------

GOOD_URL = "http://127.0.0.1:9/v1"


def _setting(**change: t.Any) -> dict[str, t.Any]:
    return {"config": change}


SETTING_CASES: dict[str, tuple[dict[str, t.Any], str]] = {
    "config-not-json": ({"config_text": "{not json"}, "the config file"),
    "config-empty": ({"config_text": ""}, "the config file"),
    "config-array": ({"config_text": "[1, 2]"}, "holds a JSON list, not an object"),
    "config-missing": ({"config_path": "missing.json"}, "cannot read the config file"),
    "config-directory": ({"config_path": "."}, "cannot read the config file"),
    "client-id-missing": ({"config_drop": "client_id"}, "setting 'client_id' is required"),
    "client-secret-missing": ({"config_drop": "client_secret"}, "setting 'client_secret' is required"),
    "page-size-too-big": (_setting(page_size=500), "setting 'page_size' must be at most 200"),
    "page-size-text": (_setting(page_size="lots"), "setting 'page_size' must be of type integer"),
    "rate-negative": (_setting(max_requests_per_minute=-1), "setting 'max_requests_per_minute' must be at least 0"),
    "page-size-null": (_setting(page_size=None), "setting 'page_size' is null"),
    "rate-null": (_setting(max_requests_per_minute=None), "setting 'max_requests_per_minute' is null"),
    "timeout-null": (_setting(request_timeout=None), "setting 'request_timeout' is null"),
    "retry-after-null": (_setting(max_retry_after_seconds=None), "setting 'max_retry_after_seconds' is null"),
    "lookback-null": (_setting(lookback_window_days=None), "setting 'lookback_window_days' is null"),
    "huge-page-size": (_setting(page_size=10**30), "setting 'page_size' must be at most 200"),
    "huge-timeout": (_setting(request_timeout=10**400), "setting 'request_timeout' must be at most"),
    "float-timeout": (_setting(request_timeout=1e308), "setting 'request_timeout' must be"),
    "infinite-retry-after": ({"config_raw": '"max_retry_after_seconds": 1e999'}, "'max_retry_after_seconds'"),
    "nan-lookback": ({"config_raw": '"lookback_window_days": NaN'}, "holds NaN, which is not a JSON number"),
    "api-url-not-url": (_setting(api_url="not a url"), "setting 'api_url' must be"),
    "api-url-ftp": (_setting(api_url="ftp://example.com/v1"), "setting 'api_url' must be an http(s):// URL"),
    "api-url-crlf": (_setting(api_url="http://example.com/v1\r\nX: y"), "setting 'api_url' must be"),
    "api-url-bad-port": (_setting(api_url="http://example.com:99999/v1"), "setting 'api_url' must be"),
    "auth-url-no-host": (_setting(auth_url="http:///oauth/token"), "setting 'auth_url' must be"),
    "auth-url-number": (_setting(auth_url=42), "setting 'auth_url' must be of type string"),
    "user-agent-crlf": (_setting(user_agent="tap\r\nX-Evil: 1"), "setting 'user_agent' must be printable ASCII"),
    "user-agent-unicode": (_setting(user_agent="tap-ørderspace"), "setting 'user_agent' must be printable ASCII"),
    "start-date-garbage": (_setting(start_date="last tuesday"), "setting 'start_date'"),
    "env-page-size": ({"env": {"PAGE_SIZE": "lots"}}, "'page_size'"),
    "env-negative-rate": ({"env": {"MAX_REQUESTS_PER_MINUTE": "-5"}}, "'max_requests_per_minute' must be at least 0"),
    "env-huge-timeout": ({"env": {"REQUEST_TIMEOUT": "1e999"}}, "'request_timeout'"),
    "env-api-url": ({"env": {"API_URL": "not a url"}}, "setting 'api_url' must be"),
    "env-start-date": ({"env": {"START_DATE": "yesterday"}}, "setting 'start_date'"),
    "state-rkv-garbage": (
        {"state": {"bookmarks": {"orders": {"replication_key": "created", "replication_key_value": "soon"}}}},
        "stream 'orders' has replication_key_value='soon'",
    ),
    "state-rkv-number": (
        {"state": {"bookmarks": {"orders": {"replication_key": "created", "replication_key_value": 20240101}}}},
        "stream 'orders' has replication_key_value=20240101",
    ),
    "state-not-json": ({"state_text": "{not json"}, "the state file"),
    "state-a-list": ({"state_text": "[1, 2]"}, "the state file"),
    "catalog-not-json": ({"catalog_text": '{"streams": ['}, "the catalog file"),
    "state-bookmark-string": ({"state": {"bookmarks": {"orders": "2024-01-01"}}}, "'orders'"),
    "state-bookmark-list": ({"state": {"bookmarks": {"orders": [1, 2]}}}, "'orders'"),
    "state-in-progress-string": ({"state": {"bookmarks": {"orders": {"in_progress": "page 3"}}}}, "in_progress"),
    "state-open-ids-number": ({"state": {"bookmarks": {"orders": {"open_ids": 7}}}}, "'open_ids'"),
    "state-bookmarks-list": ({"state": {"bookmarks": []}}, "'bookmarks' that is not an object"),
    "catalog-without-schema": ({"catalog_change": "drop_schema"}, "'orders'"),
    "catalog-schema-not-object": ({"catalog_change": "schema_string"}, "'orders'"),
    "catalog-streams-not-list": ({"catalog_change": "streams_object"}, "catalog"),
}
# One process run for each kind of input; the rest run `main()` in-process (a process each
# would cost a second apiece and show nothing more).
PROCESS_CASES = (
    "config-not-json",
    "huge-page-size",
    "env-page-size",
    "state-bookmark-string",
    "catalog-without-schema",
)


def _prepare(case: dict[str, t.Any], sb: Sandbox, directory: Path) -> tuple[list[str], dict[str, str]]:
    config: dict[str, t.Any] = {**tap_config(sb), **case.get("config", {})}
    config.pop(case.get("config_drop", ""), None)
    env: dict[str, str] = {}
    args: list[str] = []
    if "env" in case:
        for name, value in {**config, **case["env"]}.items():
            env[f"TAP_ORDERSPACE_{name.upper()}"] = str(value)
        args += ["--config", "ENV"]
    elif "config_path" in case:
        args += ["--config", case["config_path"]]
    else:
        path = directory / "config.json"
        if "config_text" in case:
            path.write_text(case["config_text"], encoding="utf-8")
        elif "config_raw" in case:
            path.write_text(json.dumps(config)[:-1] + ", " + case["config_raw"] + "}", encoding="utf-8")
        else:
            path.write_text(json.dumps(config), encoding="utf-8")
        args += ["--config", str(path)]
    if "state" in case or "state_text" in case:
        state_text = case.get("state_text", json.dumps(case.get("state")))
        (directory / "state.json").write_text(state_text, encoding="utf-8")
        args += ["--state", str(directory / "state.json")]
    catalog = selecting("orders")
    change = case.get("catalog_change")
    entry = next(e for e in catalog["streams"] if e["tap_stream_id"] == "orders")
    if change == "drop_schema":
        del entry["schema"]
    elif change == "schema_string":
        entry["schema"] = "orders.json"
    elif change == "streams_object":
        catalog["streams"] = {"orders": entry}
    (directory / "catalog.json").write_text(case.get("catalog_text", json.dumps(catalog)), encoding="utf-8")
    args += ["--catalog", str(directory / "catalog.json")]
    return args, env


@pytest.fixture
def sdk_globals_restored() -> t.Iterator[None]:
    """The SDK's `cli()` adds a root log handler on the stderr of the moment, and a tap
    installs SIGINT and SIGTERM handlers: pytest gets its own back after each case."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    signals = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for number, handler in signals.items():
        signal.signal(number, handler)


@pytest.fixture(scope="module")
def quiet_sandbox() -> t.Iterator[Sandbox]:
    with Sandbox(seed=113, orders=20, rate_limit=None) as sb:
        yield sb


def _assert_one_line_before_any_request(stderr: str, returncode: int, sb: Sandbox, expected: str) -> None:
    assert returncode == 1, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    errors = [line for line in stderr.splitlines() if line.startswith("tap-orderspace: error: ")]
    assert len(errors) == 1, stderr[-3000:]
    assert expected in errors[0], errors[0]
    assert sb.client_secret not in stderr
    stats = sb.stats()
    assert stats["requests_total"] == 0, stats["requests"]
    assert stats["tokens_issued"] == 0


@pytest.mark.parametrize("name", sorted(SETTING_CASES))
def test_row10_a_bad_input_is_one_line_before_any_request(
    name: str,
    quiet_sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    sdk_globals_restored: None,
) -> None:
    case, expected = SETTING_CASES[name]
    quiet_sandbox.reset_stats()
    monkeypatch.chdir(tmp_path)
    args, env = _prepare(case, quiet_sandbox, tmp_path)
    if name in PROCESS_CASES:
        process = subprocess.run(
            [sys.executable, "-m", "tap_orderspace", *args],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
        assert process.stdout == ""
        _assert_one_line_before_any_request(process.stderr, process.returncode, quiet_sandbox, expected)
        return
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(sys, "argv", ["tap-orderspace", *args])
    with pytest.raises(SystemExit) as exited:
        tap_module.main()
    captured = capfd.readouterr()
    assert "RECORD" not in captured.out
    _assert_one_line_before_any_request(captured.err, int(exited.value.code or 0), quiet_sandbox, expected)


# Row 11: a throttled token endpoint --------------------------------------------------------


def test_row11_a_429_from_the_token_endpoint_is_waited_on() -> None:
    with Sandbox(seed=114, orders=300, rate_limit=None) as sb:
        sb.add_fault(resource="token", nth=1, kind="status", status=429, retry_after="1")
        config = tap_config(sb)
        started = time.monotonic()
        run = succeeded(run_tap(config, catalog=selecting("orders")))
        assert time.monotonic() - started >= 1.0
        assert_sound(run, sb, max_requests=20)
        assert ids(run, "orders") == all_ids(sb, "orders")
        assert "throttled the token request (HTTP 429); sending nothing for 1 s (Retry-After)" in run.stderr
        assert "auth_url" not in run.stderr
