"""Airbyte protocol messages as plain dicts, and what the tap's streams look like to Airbyte.

The protocol is modelled with dicts and msgspec's encoder rather than the Airbyte CDK, which
would bring pydantic and dozens of packages into the tap's runtime for a few message shapes.
The tests validate every line against `airbyte_protocol.models.AirbyteMessage`.
"""

from __future__ import annotations

import copy
import datetime as dt
import time
import typing as t
from dataclasses import dataclass

from singer_sdk.contrib.msgspec import encoder

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

from tap_orderspace.derived_streams import EmittedRowsStream
from tap_orderspace.errors import OrderspaceAPIError, UserFacingError

#: Airbyte's convention for a row deleted at the source (its CDC sources and destinations use it).
CDC_DELETED_AT = "_ab_cdc_deleted_at"
#: The tap's table of records a retrieve found gone (HTTP 404): stream, id, deleted_at.
DELETED_RECORDS = "deleted_records"
DOCUMENTATION_URL = "https://github.com/tap-orderspace/tap-orderspace/blob/main/docs/airbyte.md"

FULL_REFRESH = "full_refresh"
INCREMENTAL = "incremental"
CONFIG_ERROR = "config_error"
TRANSIENT_ERROR = "transient_error"
SYSTEM_ERROR = "system_error"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
ONE_MICROSECOND = dt.timedelta(microseconds=1)
# Statuses after which asking again later can succeed.
_TRANSIENT_STATUSES = frozenset({408, 425, 429})


def now_ms() -> int:
    return int(time.time() * 1000)


def encode(message: dict[str, t.Any]) -> bytes:
    return encoder.encode(message) + b"\n"


# Messages ---------------------------------------------------------------------------------


def spec_message(config_jsonschema: dict[str, t.Any], own_settings: t.Iterable[str]) -> dict[str, t.Any]:
    """SPEC: the tap's own settings (not the SDK's built-in ones), secrets marked for Airbyte."""
    properties = {}
    for order, name in enumerate(own_settings):
        prop = copy.deepcopy(config_jsonschema["properties"][name])
        if prop.get("secret"):
            prop["airbyte_secret"] = True
        prop["order"] = order
        properties[name] = prop
    required = [name for name in config_jsonschema.get("required", []) if name in properties]
    connection_specification = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Orderspace Spec",
        "type": "object",
        "required": required,
        "additionalProperties": True,
        "properties": properties,
    }
    return {
        "type": "SPEC",
        "spec": {
            "documentationUrl": DOCUMENTATION_URL,
            "connectionSpecification": connection_specification,
            "supportsIncremental": True,
            "supported_destination_sync_modes": ["overwrite", "append", "append_dedup"],
        },
    }


def connection_status(*, succeeded: bool, message: str | None = None) -> dict[str, t.Any]:
    status: dict[str, t.Any] = {"status": "SUCCEEDED" if succeeded else "FAILED"}
    if message is not None:
        status["message"] = message
    return {"type": "CONNECTION_STATUS", "connectionStatus": status}


def state_message(stream: str, stream_state: dict[str, t.Any], record_count: int) -> dict[str, t.Any]:
    return {
        "type": "STATE",
        "state": {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": stream}, "stream_state": stream_state},
            "sourceStats": {"recordCount": float(record_count)},
        },
    }


def stream_status(stream: str, status: str) -> dict[str, t.Any]:
    """STARTED, RUNNING, COMPLETE or INCOMPLETE, as the platform shows a sync's progress."""
    return {
        "type": "TRACE",
        "trace": {
            "type": "STREAM_STATUS",
            "emitted_at": float(now_ms()),
            "stream_status": {"stream_descriptor": {"name": stream}, "status": status},
        },
    }


def error_trace(message: str, failure_type: str, internal_message: str | None = None) -> dict[str, t.Any]:
    """A TRACE error: one readable line, no stack trace (that goes to stderr, for system errors)."""
    error: dict[str, t.Any] = {"message": message, "failure_type": failure_type}
    if internal_message:
        error["internal_message"] = internal_message
    return {"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": float(now_ms()), "error": error}}


def failure_type(exc: BaseException) -> str:
    """What kind of failure an exception is: the user's to fix, worth retrying, or a defect."""
    if isinstance(exc, OrderspaceAPIError):
        status = exc.status
        if status is None or status >= 500 or status in _TRANSIENT_STATUSES:
            return TRANSIENT_ERROR
        return SYSTEM_ERROR
    if isinstance(exc, UserFacingError):
        return CONFIG_ERROR
    if isinstance(exc, ConnectionError | TimeoutError):
        return TRANSIENT_ERROR
    return SYSTEM_ERROR


# Streams --------------------------------------------------------------------------------


def _parents(tap_streams: t.Iterable[Stream]) -> dict[str, str]:
    """Child table -> the stream whose records it is cut from, as the tap declares them."""
    by_type = {type(stream): stream.name for stream in tap_streams}
    return {
        stream.name: by_type[stream.parent_stream_type]
        for stream in tap_streams
        if stream.parent_stream_type is not None and stream.parent_stream_type in by_type
    }


def _is_tap_table(stream: Stream) -> bool:
    """A table the tap writes itself (deletions, reconciliations, ...), not read from the API.

    Its rows arrive once each, whatever the sync mode: it is offered as an incremental stream
    so that a destination keeps its rows instead of overwriting them on the next sync.
    """
    return isinstance(stream, EmittedRowsStream)


@dataclass(frozen=True)
class StreamInfo:
    """One stream of the tap, as Airbyte sees it."""

    name: str
    schema: dict[str, t.Any]
    key_properties: tuple[str, ...]
    replication_key: str | None
    #: The tap reads it incrementally (a bookmark) unless a full read is asked for.
    incremental: bool
    #: The stream whose records it is cut from, for the five child tables.
    parent: str | None
    tap_table: bool

    @property
    def group(self) -> str:
        """The stream that keeps the bookmark this stream is read under."""
        return self.parent or self.name

    @property
    def marks_deletions(self) -> bool:
        """A record of an API resource that a retrieve finds gone may arrive as its key with
        `_ab_cdc_deleted_at` set; child rows and the tap's own tables never do."""
        return self.parent is None and not self.tap_table

    def airbyte_stream(self) -> dict[str, t.Any]:
        schema = copy.deepcopy(self.schema)
        if self.marks_deletions:
            schema.setdefault("properties", {})[CDC_DELETED_AT] = {
                "type": ["null", "string"],
                "format": "date-time",
                "description": "Set when Orderspace answered 404 for this record: deleted at the source.",
            }
        modes = [FULL_REFRESH, INCREMENTAL] if self.incremental or self.tap_table else [FULL_REFRESH]
        stream: dict[str, t.Any] = {
            "name": self.name,
            "json_schema": schema,
            "supported_sync_modes": modes,
            "source_defined_primary_key": [[key] for key in self.key_properties],
            "is_resumable": self.incremental,
        }
        if INCREMENTAL in modes:
            stream["source_defined_cursor"] = True
            if self.replication_key:
                stream["default_cursor_field"] = [self.replication_key]
        return stream


def stream_infos(singer_catalog: dict[str, t.Any], tap_streams: t.Iterable[Stream]) -> dict[str, StreamInfo]:
    """Every stream of the tap (`streams.STREAM_TYPES`, as the tap made them), in its catalog's order."""
    made = list(tap_streams)
    parents = _parents(made)
    tap_tables = {stream.name for stream in made if _is_tap_table(stream)}
    infos = {}
    for entry in singer_catalog["streams"]:
        name = entry["tap_stream_id"]
        infos[name] = StreamInfo(
            name=name,
            schema=entry["schema"],
            key_properties=tuple(entry.get("key_properties") or ()),
            replication_key=entry.get("replication_key"),
            incremental=entry.get("replication_method") == "INCREMENTAL",
            parent=parents.get(name),
            tap_table=name in tap_tables,
        )
    return infos


def catalog_message(infos: t.Mapping[str, StreamInfo]) -> dict[str, t.Any]:
    return {"type": "CATALOG", "catalog": {"streams": [info.airbyte_stream() for info in infos.values()]}}


def emitted_at_ms(moment: t.Any) -> int:
    """A record's `time_extracted` in whole milliseconds, rounded up: a row read after a full read
    began never shows an earlier `_airbyte_extracted_at` than the reconciliation's `started_at`."""
    if moment is None:
        return now_ms()
    microseconds: int = (moment - EPOCH) // ONE_MICROSECOND
    return -(-microseconds // 1000)
