"""`source-orderspace`'s parts, in-process: Airbyte state and catalog in the tap's terms, failure types,
the writer, and the tap's streams as the Airbyte catalog sees them. No Airbyte client is needed: these
run in the fast tier, so a change to the tap that breaks what the Airbyte source relies on fails there."""

from __future__ import annotations

import datetime as dt
import io
import json
import typing as t

import pytest
from singer_sdk.singerlib import RecordMessage, StateMessage

from tap_orderspace.airbyte import inputs
from tap_orderspace.airbyte.entrypoint import _discovered, _user_message
from tap_orderspace.airbyte.protocol import (
    CDC_DELETED_AT,
    CONFIG_ERROR,
    SYSTEM_ERROR,
    TRANSIENT_ERROR,
    StreamInfo,
    failure_type,
)
from tap_orderspace.airbyte.writer import AirbyteMessageWriter
from tap_orderspace.errors import AuthenticationError, ConfigError, InputFileError, OrderspaceAPIError, StateError

ORDERS = {"created": "2026-01-01T00:00:00Z", "open_ids": ["or_1"]}


def _info(name: str, parent: str | None = None, *, incremental: bool = True) -> StreamInfo:
    return StreamInfo(name, {}, ("id",), None, incremental, parent, tap_table=False)


INFOS = {
    "orders": _info("orders"),
    "order_lines": _info("order_lines", "orders"),
    "tax_rates": _info("tax_rates", incremental=False),
}


def _configured(**modes: str) -> inputs.ConfiguredStreams:
    catalog = {"streams": [{"stream": {"name": name}, "sync_mode": mode} for name, mode in modes.items()]}
    return inputs.configured_streams(catalog, INFOS)


def _stream_state(name: str, value: t.Any) -> dict[str, t.Any]:
    return {
        "type": "STREAM",
        "stream": {"stream_descriptor": {"name": name, "namespace": None}, "stream_state": value},
        "sourceStats": {"recordCount": 3.0},
        "destinationStats": {"recordCount": 3.0},
    }


@pytest.mark.parametrize(
    "raw",
    [
        [_stream_state("orders", ORDERS), _stream_state("tax_rates", None)],
        {
            "type": "GLOBAL",
            "global": {"shared_state": None, "stream_states": [_stream_state("orders", ORDERS)["stream"]]},
        },
        {"type": "LEGACY", "data": {"orders": ORDERS}},
        {"bookmarks": {"orders": ORDERS, "tax_rates": {}}},
        {"orders": ORDERS},
    ],
    ids=["platform-list", "global", "legacy", "singer", "mapping"],
)
def test_states_from_airbyte_and_pyairbyte_are_read(raw: t.Any) -> None:
    assert inputs.stream_states(raw) == {"orders": ORDERS}


@pytest.mark.parametrize("raw", [None, [], {}, [None], [_stream_state("orders", None)]])
def test_empty_states_mean_no_state(raw: t.Any) -> None:
    assert inputs.stream_states(raw) == {}


@pytest.mark.parametrize("raw", [[42], [{"type": "STREAM", "stream": {"stream_state": {}}}], [{"what": 1}]])
def test_unreadable_states_are_refused_in_one_line(raw: t.Any) -> None:
    with pytest.raises(StateError, match="clear the connection's state"):
        inputs.stream_states(raw)


def test_a_bookmark_is_resumed_only_if_every_table_read_under_it_carries_it() -> None:
    both = _configured(orders="incremental", order_lines="incremental")
    assert inputs.singer_state({"orders": ORDERS, "order_lines": ORDERS}, both, INFOS) == {
        "bookmarks": {"orders": ORDERS}
    }
    # The platform cleared order_lines (a reset): both are read from the start.
    assert inputs.singer_state({"orders": ORDERS}, both, INFOS) == {"bookmarks": {}}
    lines_only = _configured(order_lines="incremental")
    assert inputs.singer_state({"order_lines": ORDERS}, lines_only, INFOS) == {"bookmarks": {"orders": ORDERS}}


def test_a_child_overwritten_in_full_reads_its_parent_in_full() -> None:
    assert _configured(orders="incremental", order_lines="full_refresh").full_groups == {"orders"}
    # PyAirbyte asks for incremental everywhere; a full-table stream is read in full regardless.
    assert _configured(orders="incremental", tax_rates="incremental").full_groups == frozenset()


def test_a_catalog_naming_an_unknown_stream_is_refused() -> None:
    with pytest.raises(InputFileError, match="'refunds', which this source does not have"):
        _configured(refunds="incremental")


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (AuthenticationError("refused"), CONFIG_ERROR),
        (StateError("bad"), CONFIG_ERROR),
        (OrderspaceAPIError("failed 5 times"), TRANSIENT_ERROR),
        (OrderspaceAPIError("HTTP 503", 503), TRANSIENT_ERROR),
        (OrderspaceAPIError("HTTP 400", 400), SYSTEM_ERROR),
        (KeyError("x"), SYSTEM_ERROR),
    ],
)
def test_failure_types(error: Exception, kind: str) -> None:
    assert failure_type(error) == kind


def test_the_writer_splits_each_state_per_stream_and_marks_404s() -> None:
    infos = {
        **INFOS,
        "deleted_records": StreamInfo("deleted_records", {}, ("stream", "id"), None, False, None, tap_table=True),
    }
    configured = inputs.configured_streams(
        {"streams": [{"stream": {"name": name}, "sync_mode": "incremental"} for name in ("orders", "order_lines")]},
        infos,
    )
    out = io.BytesIO()
    writer = AirbyteMessageWriter(out, infos, configured)
    writer.start({"bookmarks": {"orders": ORDERS}})
    extracted = dt.datetime(2026, 1, 2, 3, 4, 5, 678_901, tzinfo=dt.UTC)
    writer.write_message(RecordMessage(stream="orders", record={"id": "or_2"}, time_extracted=extracted))
    writer.write_message(RecordMessage(stream="order_lines", record={"id": "ol_1"}, time_extracted=extracted))
    deleted = {"stream": "orders", "id": "or_1", "deleted_at": "2026-01-02T03:04:06Z"}
    writer.write_message(RecordMessage(stream="deleted_records", record=deleted, time_extracted=extracted))
    moved = {**ORDERS, "open_ids": ["or_2"]}
    writer.write_message(StateMessage(value={"bookmarks": {"orders": moved, "tax_rates": {}}}))
    writer.write_message(StateMessage(value={"bookmarks": {"orders": moved}}))  # nothing new: no state
    writer.finish({"bookmarks": {"orders": moved}})
    messages = [json.loads(line) for line in out.getvalue().splitlines()]

    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert [(r["stream"], r["data"]) for r in records] == [
        ("orders", {"id": "or_2"}),
        ("order_lines", {"id": "ol_1"}),
        ("orders", {"id": "or_1", "_ab_cdc_deleted_at": "2026-01-02T03:04:06Z"}),
    ]
    assert {r["emitted_at"] for r in records} == {1767323045679}  # rounded up to the millisecond
    states = [m["state"] for m in messages if m["type"] == "STATE"]
    # One after the page (both tables read under orders), one for each at the end.
    assert [(s["stream"]["stream_descriptor"]["name"], s["sourceStats"]["recordCount"]) for s in states] == [
        ("orders", 2.0),
        ("order_lines", 1.0),
        ("orders", 0.0),
        ("order_lines", 0.0),
    ]
    assert all(s["type"] == "STREAM" and s["stream"]["stream_state"] == moved for s in states)
    statuses = [(m["trace"]["stream_status"]["stream_descriptor"]["name"], m["trace"]["stream_status"]["status"])
                for m in messages if m["type"] == "TRACE"]  # fmt: skip
    assert statuses == [
        ("orders", "STARTED"),
        ("order_lines", "STARTED"),
        ("orders", "RUNNING"),
        ("order_lines", "RUNNING"),
        ("orders", "COMPLETE"),
        ("order_lines", "COMPLETE"),
    ]


def test_the_catalog_is_the_taps_streams() -> None:
    _, infos = _discovered({"client_id": "id", "client_secret": "secret"})
    assert {name: info.parent for name, info in infos.items() if info.parent} == {
        "order_lines": "orders",
        "invoice_lines": "invoices",
        "invoice_payments": "invoices",
        "dispatch_lines": "dispatches",
        "product_variants": "products",
    }
    assert {"deleted_records", "reconciliations"} <= {name for name, info in infos.items() if info.tap_table}
    orders = infos["orders"].airbyte_stream()
    assert orders["supported_sync_modes"] == ["full_refresh", "incremental"]
    assert orders["default_cursor_field"] == ["created"]
    assert orders["source_defined_primary_key"] == [["id"]]
    assert CDC_DELETED_AT in orders["json_schema"]["properties"]
    assert CDC_DELETED_AT not in infos["order_lines"].airbyte_stream()["json_schema"]["properties"]
    assert infos["tax_rates"].airbyte_stream()["supported_sync_modes"] == ["full_refresh"]
    assert "incremental" in infos["deleted_records"].airbyte_stream()["supported_sync_modes"]


def test_meltano_advice_becomes_airbyte_advice() -> None:
    config = ConfigError("setting 'page_size' must be at most 200: fix the tap's settings (meltano config list x)")
    assert (
        _user_message(config)
        == "setting 'page_size' must be at most 200: fix the source's settings in Airbyte (or in the --config file)"
    )
    state = StateError("the state of stream 'orders' is bad: correct it (meltano state get / meltano state set)")
    assert _user_message(state).endswith(
        ": clear the stream's state in Airbyte (or pass no --state) to read it from the start"
    )
    refused = AuthenticationError("Orderspace refused the client credentials: check client_id and client_secret")
    assert _user_message(refused) == str(refused)
