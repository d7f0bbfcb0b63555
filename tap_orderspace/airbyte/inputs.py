"""Airbyte's inputs in the tap's terms: config, configured catalog and state.

Airbyte keeps one state per stream; the tap keeps one bookmark per stream it requests, and a child
table (order lines, ...) is read under its parent's. Each Airbyte stream therefore carries the
bookmark of the stream it is read under (see `writer`), and a read resumes a bookmark only if every
selected table read under it still has it: when the platform clears one table's state (a reset),
all the tables read with it are read again from the start, so none is left with a gap.
"""

from __future__ import annotations

import json
import logging
import typing as t
from dataclasses import dataclass

from tap_orderspace.airbyte.protocol import DELETED_RECORDS, FULL_REFRESH, INCREMENTAL, StreamInfo
from tap_orderspace.errors import InputFileError, StateError

logger = logging.getLogger("tap-orderspace")

STATE_FIX = "clear the connection's state in Airbyte (or pass no --state) to read from the start"


class _NotJSONConstant(ValueError):
    """NaN and Infinity, which Python reads but JSON does not have."""


def _refuse_constant(name: str) -> t.NoReturn:
    raise _NotJSONConstant(name)


def read_json_file(path: str, what: str) -> t.Any:
    """A JSON file's content, or one line saying why it cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle, parse_constant=_refuse_constant)
    except OSError as exc:
        raise InputFileError(f"cannot read the {what} file {path}: {exc.strerror or type(exc).__name__}") from None
    except UnicodeDecodeError:
        raise InputFileError(f"the {what} file {path} is not UTF-8 text") from None
    except _NotJSONConstant as exc:
        raise InputFileError(f"the {what} file {path} holds {exc}, which is not a JSON number") from None
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"the {what} file {path} is not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from None


def read_config(path: str) -> dict[str, t.Any]:
    config = read_json_file(path, "config")
    if not isinstance(config, dict):
        raise InputFileError(f"the config file {path} holds a JSON {type(config).__name__}, not an object")
    return config


# The configured catalog -------------------------------------------------------------------


@dataclass(frozen=True)
class ConfiguredStreams:
    """What the configured catalog asks for, in the tap's terms."""

    #: Stream name -> Airbyte sync mode, in the tap's stream order.
    sync_modes: dict[str, str]
    #: Groups (a stream and its child tables) that must be read in full this run.
    full_groups: frozenset[str]

    def members(self, infos: t.Mapping[str, StreamInfo], group: str) -> list[str]:
        return [name for name in self.sync_modes if infos[name].group == group]


def configured_streams(catalog: t.Any, infos: t.Mapping[str, StreamInfo]) -> ConfiguredStreams:
    if not isinstance(catalog, dict) or not isinstance(catalog.get("streams"), list):
        raise InputFileError("the configured catalog has no 'streams' list: pass the catalog Airbyte configured")
    asked: dict[str, str] = {}
    for position, entry in enumerate(catalog["streams"]):
        stream = entry.get("stream") if isinstance(entry, dict) else None
        name = stream.get("name") if isinstance(stream, dict) else None
        if not isinstance(name, str):
            raise InputFileError(f"the configured catalog's stream number {position + 1} has no stream name")
        if name not in infos:
            raise InputFileError(
                f"the configured catalog asks for stream '{name}', which this source does not have: "
                "refresh the source's schema (discover) and select its streams again"
            )
        mode = entry.get("sync_mode", FULL_REFRESH)
        if mode not in (FULL_REFRESH, INCREMENTAL):
            raise InputFileError(f"the configured catalog asks for sync mode {mode!r} on stream '{name}'")
        asked[name] = mode
    if not asked:
        raise InputFileError("the configured catalog selects no stream")
    ordered = {name: asked[name] for name in infos if name in asked}
    # Child rows come with their parent's records: a child overwritten in full needs its parent
    # read in full, and a parent read in full brings every child row again.
    full_groups = frozenset(
        infos[name].group for name, mode in ordered.items() if mode == FULL_REFRESH and infos[name].incremental
    )
    return ConfiguredStreams(ordered, full_groups)


def singer_catalog(
    discovered: dict[str, t.Any], configured: ConfiguredStreams, infos: t.Mapping[str, StreamInfo]
) -> dict[str, t.Any]:
    """The tap's discovered catalog with the configured streams selected and their replication set.

    `deleted_records` is read whenever a stream that marks deletions is, so that a 404 can reach
    that stream as `_ab_cdc_deleted_at`; its own rows go out only if it was configured.
    """
    wanted = set(configured.sync_modes)
    if any(infos[name].marks_deletions for name in wanted) and DELETED_RECORDS in infos:
        wanted.add(DELETED_RECORDS)
    catalog: dict[str, t.Any] = json.loads(json.dumps(discovered))
    for entry in catalog["streams"]:
        name = entry["tap_stream_id"]
        info = infos[name]
        for metadata in entry.get("metadata", []):
            if metadata.get("breadcrumb") != []:
                continue
            metadata["metadata"]["selected"] = name in wanted
            if info.incremental:
                full = info.group in configured.full_groups
                metadata["metadata"]["replication-method"] = "FULL_TABLE" if full else "INCREMENTAL"
    return catalog


# State ----------------------------------------------------------------------------------


def stream_states(raw: t.Any) -> dict[str, t.Any]:
    """Per-stream states from whatever Airbyte or PyAirbyte keeps: a list of STREAM or GLOBAL
    state messages (with stats, nulls and namespaces), one such message, a legacy `data` blob,
    a Singer state, or a mapping of stream name to state. Nulls and empty states mean "no state"."""
    if raw is None:
        return {}
    if isinstance(raw, dict) and isinstance(raw.get("bookmarks"), dict):
        raw = raw["bookmarks"]
    if isinstance(raw, dict) and not raw.keys() & {"type", "stream", "global", "data"}:
        # A legacy state: stream name -> its state.
        return {name: value for name, value in raw.items() if value not in (None, {})}
    messages = raw if isinstance(raw, list) else [raw]
    states: dict[str, t.Any] = {}
    for position, message in enumerate(messages):
        if message is None:
            continue
        if not isinstance(message, dict):
            raise StateError(f"the state's entry number {position + 1} is not an object: {STATE_FIX}")
        kind = str(message.get("type") or "").upper()
        if kind == "STREAM" or (not kind and "stream" in message):
            _add_stream_state(states, message.get("stream"), position)
        elif kind == "GLOBAL" or (not kind and "global" in message):
            shared = message.get("global") or {}
            for stream_state in shared.get("stream_states") or () if isinstance(shared, dict) else ():
                _add_stream_state(states, stream_state, position)
        elif kind == "LEGACY" or (not kind and "data" in message):
            data = message.get("data") or {}
            if isinstance(data, dict):
                states.update(data["bookmarks"] if isinstance(data.get("bookmarks"), dict) else data)
        elif not kind:
            raise StateError(f"the state's entry number {position + 1} is not an Airbyte state message: {STATE_FIX}")
    return {name: value for name, value in states.items() if value not in (None, {})}


def _add_stream_state(states: dict[str, t.Any], stream_state: t.Any, position: int) -> None:
    descriptor = stream_state.get("stream_descriptor") if isinstance(stream_state, dict) else None
    name = descriptor.get("name") if isinstance(descriptor, dict) else None
    if not isinstance(name, str):
        raise StateError(f"the state's entry number {position + 1} names no stream: {STATE_FIX}")
    states[name] = stream_state.get("stream_state")


def singer_state(
    states: t.Mapping[str, t.Any], configured: ConfiguredStreams, infos: t.Mapping[str, StreamInfo]
) -> dict[str, t.Any]:
    """The tap's state: for each group, the bookmark its tables carry, if all of them carry one."""
    bookmarks: dict[str, t.Any] = {}
    groups = dict.fromkeys(infos[name].group for name in configured.sync_modes)
    for group in groups:
        members = configured.members(infos, group)
        carried = [name for name in members if name in states]
        if not carried:
            continue
        if len(carried) < len(members):
            logger.info(
                "Reading '%s' from the start: %s carried no state (a new or reset table)",
                group,
                ", ".join(sorted(set(members) - set(carried))),
            )
            continue
        source = group if group in carried else carried[0]
        bookmark = states[source]
        if not isinstance(bookmark, dict):
            raise StateError(f"the state of stream '{source}' is a JSON {type(bookmark).__name__}: {STATE_FIX}")
        bookmarks[group] = bookmark
    return {"bookmarks": bookmarks}
