"""Singer messages on stdout: msgspec-encoded JSON lines, flushed with every STATE.

The SDK's default writer encodes with simplejson and flushes after every message, a
system call per record. Here records are buffered and the buffer is flushed whenever
a STATE message is written: the target then always holds every record a STATE covers,
and a process killed between two STATEs loses only records that no STATE claimed.
"""

from __future__ import annotations

import sys
import typing as t

from singer_sdk.contrib.msgspec import encoder
from singer_sdk.singerlib.encoding.base import GenericSingerWriter, SingerMessageType
from singer_sdk.singerlib.encoding.simple import Message


class StateFlushedWriter(GenericSingerWriter[bytes, Message]):
    def serialize_message(self, message: Message) -> bytes:
        return encoder.encode(message.to_dict()) + b"\n"

    def write_message(self, message: Message) -> None:
        stdout: t.Any = sys.stdout
        stdout.buffer.write(self.format_message(message))
        if message.type != SingerMessageType.RECORD:
            stdout.flush()
