"""The tap's Singer messages, written as Airbyte messages.

RECORD becomes an Airbyte RECORD (`emitted_at` is the record's extraction time, in milliseconds);
STATE, which the tap writes after every page, becomes one STREAM state per configured stream whose
bookmark changed or that received records since its last state; SCHEMA and ACTIVATE_VERSION have
no Airbyte counterpart (the catalog carries schemas, the `reconciliations` stream carries the full
reads that make older rows deletions). A row of `deleted_records` also reaches the stream it names
as the record's key with `_ab_cdc_deleted_at` set.

Lines are held until the next STATE and written with it, as the Singer writer does, with SIGTERM
and SIGINT held off while they are written: a stopped read never leaves half a line, and every
record it wrote is covered by the state written after it or is read again on resume.
"""

from __future__ import annotations

import signal
import typing as t

from singer_sdk.contrib.msgspec import encoder
from singer_sdk.singerlib import RecordMessage, StateMessage
from singer_sdk.singerlib.encoding.base import GenericSingerWriter
from singer_sdk.singerlib.encoding.simple import Message

from tap_orderspace.airbyte.protocol import (
    CDC_DELETED_AT,
    DELETED_RECORDS,
    StreamInfo,
    emitted_at_ms,
    encode,
    state_message,
    stream_status,
)

if t.TYPE_CHECKING:
    import datetime as dt

    from tap_orderspace.airbyte.inputs import ConfiguredStreams

# Records are written early, without a state, past this many bytes (a long change capture).
MAX_BUFFERED_BYTES = 4 * 1024 * 1024
_HELD_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


class AirbyteMessageWriter(GenericSingerWriter[bytes, Message]):
    def __init__(
        self, out: t.BinaryIO, infos: t.Mapping[str, StreamInfo], configured: ConfiguredStreams | None = None
    ) -> None:
        self.out = out
        #: The configured streams, in the tap's order.
        self.streams: tuple[str, ...] = tuple(configured.sync_modes if configured else ())
        self._configured = frozenset(self.streams)
        #: For each stream that keeps a bookmark, the configured streams read under it.
        self.members: dict[str, list[str]] = {}
        for name in self.streams:
            self.members.setdefault(infos[name].group, []).append(name)
        #: For each stream that marks deletions, the column that holds its key.
        self.deletion_keys = {
            name: infos[name].key_properties[0]
            for name in self.streams
            if infos[name].marks_deletions and infos[name].key_properties
        }
        self.records_since_state: dict[str, int] = {}
        self._running: set[str] = set()
        self._sent_bookmarks: dict[str, bytes] = {}
        self._buffer = bytearray()
        self._time: dt.datetime | None = None
        self._time_ms = 0

    # Run boundaries (called by the entrypoint) ---------------------------------------------

    def start(self, initial_state: t.Mapping[str, t.Any]) -> None:
        """STARTED for every stream; bookmarks handed in are not written back unchanged."""
        bookmarks = initial_state.get("bookmarks", {})
        for group in self.members:
            self._sent_bookmarks[group] = encoder.encode(bookmarks.get(group) or {})
        for name in self.streams:
            self._buffer += encode(stream_status(name, "STARTED"))
        self.flush()

    def finish(self, final_state: t.Mapping[str, t.Any]) -> None:
        """A last state for every stream, then COMPLETE: the read is done."""
        self._write_states(final_state, every_stream=True)
        for name in self.streams:
            self._buffer += encode(stream_status(name, "COMPLETE"))
        self.flush()

    def fail(self) -> None:
        """INCOMPLETE for every stream; records after the last state are dropped (read again on resume)."""
        self._buffer.clear()
        for name in self.streams:
            self._buffer += encode(stream_status(name, "INCOMPLETE"))
        self.flush()

    def emit(self, message: dict[str, t.Any]) -> None:
        """A message of the entrypoint's own (SPEC, CATALOG, CONNECTION_STATUS, TRACE), written at once."""
        self._buffer += encode(message)
        self.flush()

    def flush(self) -> None:
        if not self._buffer:
            return
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
        try:
            self.out.write(self._buffer)
            self.out.flush()
            self._buffer.clear()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    # The tap's messages --------------------------------------------------------------------

    def serialize_message(self, message: Message) -> bytes:
        if isinstance(message, RecordMessage):
            return self._record_line(message.stream, message.record, message.time_extracted)
        return b""

    def write_message(self, message: Message) -> None:
        if isinstance(message, RecordMessage):
            self._write_record(message)
        elif isinstance(message, StateMessage):
            self._write_states(message.value, every_stream=False)
            self.flush()

    def _write_record(self, message: RecordMessage) -> None:
        stream = message.stream
        if stream == DELETED_RECORDS:
            self._mark_deleted(message)
        if stream not in self._configured:
            return
        self._buffer += self._record_line(stream, message.record, message.time_extracted)
        count = self.records_since_state.get(stream, 0)
        self.records_since_state[stream] = count + 1
        if count == 0 and stream not in self._running:
            self._running.add(stream)
            self._buffer += encode(stream_status(stream, "RUNNING"))
        if len(self._buffer) > MAX_BUFFERED_BYTES:
            self.flush()

    def _mark_deleted(self, message: RecordMessage) -> None:
        row = message.record
        stream = row.get("stream")
        key = self.deletion_keys.get(stream) if isinstance(stream, str) else None
        if key is None or stream is None:
            return
        deleted = {key: row.get("id"), CDC_DELETED_AT: row.get("deleted_at")}
        self._buffer += self._record_line(stream, deleted, message.time_extracted)
        self.records_since_state[stream] = self.records_since_state.get(stream, 0) + 1

    def _record_line(self, stream: str, data: dict[str, t.Any], extracted: dt.datetime | None) -> bytes:
        if extracted is not self._time:
            # Records of one page share one extraction time: computed once per page.
            self._time, self._time_ms = extracted, emitted_at_ms(extracted)
        return encode({"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": self._time_ms}})

    def _write_states(self, singer_state: t.Mapping[str, t.Any], *, every_stream: bool) -> None:
        bookmarks = singer_state.get("bookmarks") or {}
        for group, members in self.members.items():
            bookmark = bookmarks.get(group) or {}
            encoded = encoder.encode(bookmark)
            changed = encoded != self._sent_bookmarks.get(group)
            self._sent_bookmarks[group] = encoded
            for name in members:
                count = self.records_since_state.pop(name, 0)
                if changed or count or every_stream:
                    self._buffer += encode(state_message(name, bookmark, count))
