"""The one base stream: paging, windows, change capture, reconciliation and the record path.

Streams in `streams.py` only declare what differs between resources; the wire belongs to
`http_client.OrderspaceClient`, the bookmarks to `state`, the record checks to `records`.

A run of an incremental stream has up to two passes:

1. the window: records created (or updated) since the bookmark, less the lookback, newest
   first; or, once every `reconcile_interval_days` and on a first sync, every record, as one
   Singer table version that is activated (older rows marked deleted) when the read is complete;
2. change capture, for streams whose records stay open for months (orders, invoices): the
   records open at the last run are listed again through the API's cheapest filter
   (`status=...`, `paid=false`), and those that left the open set since, or that another
   stream named as changed (a new dispatch names its order), are retrieved by id; a 404
   there is a deletion, written to `deleted_records` at once.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import logging
import typing as t
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from singer_sdk import Stream, StreamSchema
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.schema.source import SchemaDirectory
from singer_sdk.singerlib import RecordMessage

from tap_orderspace import state as st
from tap_orderspace.http_client import OrderspaceClient, RecordNotFound
from tap_orderspace.paging import ListEndpoint, Pager
from tap_orderspace.records import UNDOCUMENTED_FIELDS, UNDOCUMENTED_SCHEMA, Problems, RecordShape

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

logger = logging.getLogger("tap-orderspace")

# Orderspace's `*_since` filters take whole seconds; asking from one second earlier
# makes the window safe whether the API treats the bound as inclusive or exclusive.
# Records older than the window are then dropped here, so none is emitted twice.
SINCE_MARGIN = dt.timedelta(seconds=1)


def _schema_directory() -> Path | importlib.resources.abc.Traversable:
    """`schemas/` inside the installed wheel, else beside the package in a checkout."""
    packaged = importlib.resources.files("tap_orderspace") / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "schemas"


SCHEMAS = SchemaDirectory(_schema_directory())


class OrderspaceSchema(StreamSchema[str]):
    """The stream's schema file, plus the column that keeps the fields it does not list."""

    def get_stream_schema(self, stream: t.Any, stream_class: t.Any) -> dict[str, t.Any]:
        schema = super().get_stream_schema(stream, stream_class)
        if getattr(stream, "keeps_undocumented_fields", False):
            schema["properties"].setdefault(UNDOCUMENTED_FIELDS, dict(UNDOCUMENTED_SCHEMA))
        return schema


@dataclass(frozen=True)
class OpenRecords:
    """Which records still change (an order not yet fulfilled, an unpaid invoice), and the
    list filter that finds them: `?<field>=<value>` for each open value."""

    field: str
    open_values: tuple[t.Any, ...]

    def is_open(self, record: dict[str, t.Any]) -> bool:
        return record.get(self.field) in self.open_values

    def filters(self) -> list[dict[str, str]]:
        return [
            {self.field: str(value).lower() if isinstance(value, bool) else str(value)} for value in self.open_values
        ]


@dataclass(frozen=True)
class ChangeSignal:
    """A new record of this stream changes records of another: `path` leads to their ids
    (`("order_id",)`, or `("orders", "id")` through an array)."""

    stream: str
    path: tuple[str, ...]

    def ids_in(self, record: dict[str, t.Any]) -> set[str]:
        values: list[t.Any] = [record]
        for step in self.path:
            nested: list[t.Any] = []
            for value in values:
                found = value.get(step) if isinstance(value, dict) else None
                nested.extend(found if isinstance(found, list) else [found])
            values = nested
        return {value for value in values if isinstance(value, str) and value}


@dataclass
class _StreamRun:
    """What one run of a stream carries from its window to its change capture."""

    children: list[NestedRowsStream]
    #: Keys emitted this run: change capture never emits a record twice.
    emitted: set[str] = field(default_factory=set)
    #: Records seen open this run: the open set the next run starts from.
    open_ids: set[str] = field(default_factory=set)


class ChangeLog:
    """Where streams write what the warehouse needs besides records: deletions seen by a
    retrieve, and the full reads that make older rows deletions."""

    def __init__(self) -> None:
        self.deleted_records: EmittedRowsStream | None = None
        self.reconciliations: EmittedRowsStream | None = None
        self.problems = Problems()
        self.streams: dict[str, OrderspaceStream] = {}
        #: Ids other streams named as changed, per stream, as kept in its state's `pending_ids`.
        self.pending: dict[str, set[str]] = {}
        self._unfinished: set[str] | None = None

    def captures_changes_of(self, name: str) -> bool:
        """Whether this run performs `name`'s change capture (only then is it signalled)."""
        stream = self.streams.get(name)
        return stream is not None and stream.open_records is not None and stream.selected

    def stream_done(self, name: str) -> None:
        """After the run's last stream, one WARNING sums up what was skipped or repaired."""
        if self._unfinished is None:
            self._unfinished = {
                stream.name
                for stream in self.streams.values()
                if not isinstance(stream, NestedRowsStream) and (stream.selected or stream.has_selected_descendents)
            }
        self._unfinished.discard(name)
        if not self._unfinished and (summary := self.problems.summary()):
            logger.warning("Run complete, with records skipped or repaired: %s", summary)


class OrderspaceStream(Stream):
    """A list endpoint of the Orderspace API."""

    schema = OrderspaceSchema(SCHEMAS)

    primary_keys: t.ClassVar[tuple[str, ...]] = ("id",)
    #: The list endpoint, below the API URL; the stream's name unless declared.
    path: str = ""
    #: Whether the endpoint pages with `limit` / `starting_after` / `has_more`.
    paginated: bool = True
    #: The record field whose value is the `starting_after` cursor for the next page.
    cursor_field: str = "id"
    #: The query parameter bounding an incremental window (`created_since`, `updated_since`).
    since_parameter: str | None = None
    #: Whether `start_date` bounds the first sync (history); reference data is always complete.
    honours_start_date: bool = False
    #: Whether `lookback_window_days` re-reads records that change after creation.
    honours_lookback: bool = False
    #: Names the API sends for a schema field (the reference and the live API disagree).
    field_aliases: t.ClassVar[dict[str, str]] = {}
    #: Whether this incremental stream is read in full every `reconcile_interval_days`
    #: (the API can delete its records). Full-table streams are complete on every run.
    reconciles: bool = False
    #: Records that keep changing, re-read on every run (change capture).
    open_records: OpenRecords | None = None
    #: The key of one record in a retrieve's answer (`{"order": {...}}`).
    record_name: str | None = None
    #: Records of other streams that a new record of this one changes.
    change_signals: tuple[ChangeSignal, ...] = ()
    #: Whether fields the schema does not list are kept in `undocumented_fields`.
    keeps_undocumented_fields: bool = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        # Every Orderspace list lives at /<resource>, the stream's name.
        if "path" not in cls.__dict__ and "name" in cls.__dict__:
            cls.path = cls.__dict__["name"]

    def __init__(
        self,
        tap: Tap,
        *,
        client: OrderspaceClient,
        change_log: ChangeLog,
        requested_replication_methods: t.Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(tap)
        self.client = client
        self.change_log = change_log
        requested_replication_method = (requested_replication_methods or {}).get(self.name)
        self.requested_replication_method = requested_replication_method
        self.extracted_at = dt.datetime.now(dt.UTC)
        self.record_version: int | None = None
        self._previously_open: set[str] = set()
        if self.since_parameter and self.replication_key is None:
            # No record field to bookmark on: the bookmark is the extraction's start.
            self.forced_replication_method = "INCREMENTAL"
        if requested_replication_method:
            self.forced_replication_method = requested_replication_method

    # Configuration -----------------------------------------------------------------

    def apply_catalog(self, catalog: t.Any) -> None:
        super().apply_catalog(catalog)
        if self.requested_replication_method:
            self.forced_replication_method = self.requested_replication_method

    @property
    def emit_activate_version_messages(self) -> bool:
        # The SDK's ACTIVATE_VERSION goes out before a full-table read: every older row would
        # count as deleted until the read ends, and for ever if it never does. This tap sends
        # its own once a complete read is done (`_activate_version`).
        return False

    @property
    def is_incremental(self) -> bool:
        return self.replication_method == "INCREMENTAL" and self.since_parameter is not None

    @cached_property
    def shape(self) -> RecordShape:
        return RecordShape(
            self.name,
            self.effective_schema,
            self.primary_keys or (),
            self.change_log.problems,
            field_aliases=self.field_aliases,
        )

    @cached_property
    def start_date(self) -> dt.datetime | None:
        value = self.config.get("start_date")
        return st.parse_utc(value) if value else None

    def selected_children(self) -> list[NestedRowsStream]:
        return [child for child in self.child_streams if isinstance(child, NestedRowsStream) and child.selected]

    def _window_rules(self, children: list[NestedRowsStream]) -> st.WindowRules:
        reconcile_days = int(self.config.get("reconcile_interval_days", 7))
        covers = ([self.name] if self.selected else []) + [child.name for child in children]
        return st.WindowRules(
            stream=self.name,
            incremental=self.is_incremental,
            replication_key=self.replication_key,
            honours_start_date=self.honours_start_date,
            lookback=dt.timedelta(days=self.config["lookback_window_days"] if self.honours_lookback else 0),
            covers=tuple(sorted(covers)),
            reconcile_every=dt.timedelta(days=reconcile_days) if self.reconciles else None,
        )

    # Records -----------------------------------------------------------------------

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        children = self.selected_children()
        rules = self._window_rules(children)
        stream_state = self.stream_state
        window = st.open_window(rules, stream_state, start_date=self.start_date, now=self.client.server_now())
        local_started_at = dt.datetime.now(dt.UTC)
        self._log_window(window)
        for child in children:
            child.write_schema_once()
        self._set_version(window.version, children)

        run = _StreamRun(children)
        if self.open_records is not None:
            self._previously_open = _id_list(stream_state.get(st.OPEN_IDS))
        yield from self._read_window(window, stream_state, run)

        if window.reconciling:
            self._activate_version(window, local_started_at, children)
        st.close_window(rules, stream_state, window)
        self._set_version(None, children)
        self.state_manager.is_flushed = False

        if self.open_records is not None and rules.incremental:
            yield from self._capture_changes(window, stream_state, run)
            self.state_manager.is_flushed = False
        self.change_log.stream_done(self.name)

    def _read_window(
        self, window: st.ExtractionWindow, stream_state: dict[str, t.Any], run: _StreamRun
    ) -> t.Iterator[dict[str, t.Any]]:
        time_field = self.replication_key if self.is_incremental else None
        # In BATCH mode records reach the target later, in files: progress may only be
        # claimed when the stream ends.
        batch_mode = self.get_batch_config(self.config) is not None

        def advanced(cursor: str | None) -> None:
            window.starting_after = cursor
            if cursor is not None and not batch_mode:
                stream_state[st.IN_PROGRESS] = window.as_state()
                self.state_manager.is_flushed = False
                self._write_state_message()

        query: dict[str, t.Any] = {}
        if window.since is not None and self.since_parameter:
            query[self.since_parameter] = st.format_utc(window.since - SINCE_MARGIN)
        pager = Pager(
            self.client,
            self.list_endpoint,
            self.shape,
            query,
            log=self.logger,
            cursor=window.starting_after,
            read="the window",
            stopped=(
                f"The bookmark of '{self.name}' did not move: the next run resumes at that cursor; if this "
                "repeats, report it to Orderspace, or set page_size to 200 and run again"
            ),
            on_advance=advanced,
            on_page=self._received,
        )
        for key, record in pager.records():
            if key in run.emitted:
                continue
            run.emitted.add(key)
            if time_field is not None and not self._within(window, record, time_field):
                continue
            yield self._emit(record, run, changed=self._is_change(window, record, time_field))

    def _received(self, moment: dt.datetime) -> None:
        self.extracted_at = moment

    @cached_property
    def list_endpoint(self) -> ListEndpoint:
        return ListEndpoint(
            stream=self.name,
            resource=self.path,
            page_size=int(self.config["page_size"]) if self.paginated else None,
            cursor_field=self.cursor_field,
            key_fields=tuple(self.primary_keys or (self.cursor_field,)),
        )

    def _within(self, window: st.ExtractionWindow, record: dict[str, t.Any], time_field: str) -> bool:
        """Whether the record belongs to the window; its time is noted for the bookmark."""
        value = record.get(time_field)
        if value is None:
            return True
        try:
            created = st.parse_utc(value)
        except ValueError:
            self.change_log.problems.warn(
                self.name,
                time_field,
                "'%s' record %s: %s=%r is not a date-time: emitted as null",
                self.name,
                self.shape.record_label(record),
                time_field,
                value,
            )
            record[time_field] = None
            return True
        if window.since is not None and created < window.since:
            return False
        if not window.saw(created):
            self.logger.warning(
                "'%s' record %s has %s=%s, in the future of Orderspace's clock: emitted, but not bookmarked",
                self.name,
                self.shape.record_label(record),
                time_field,
                value,
            )
        return True

    def _emit(self, record: dict[str, t.Any], run: _StreamRun, *, changed: bool = True) -> dict[str, t.Any]:
        """Write the record's child rows and note what it tells; the caller yields it.

        `changed` is False for records re-listed only because they are open: an unpaid
        invoice listed again names the same orders as before, so they are not re-read
        for it (once it is paid, its retrieve names them).
        """
        for child in run.children:
            child.extracted_at = self.extracted_at
            child.write_rows_of(record)
        if self.open_records is not None and self.open_records.is_open(record):
            run.open_ids.add(record[self.cursor_field])
        if changed:
            for signal in self.change_signals:
                self._signal(signal, signal.ids_in(record))
        return record

    def _is_change(self, window: st.ExtractionWindow, record: dict[str, t.Any], time_field: str | None) -> bool:
        """Whether a record read in the window tells of changes to others: it is new since the
        last run (not re-read by the lookback), or it left the open set (an invoice now paid)."""
        if not self.change_signals:
            return False
        if self.open_records is not None and record.get(self.cursor_field) in self._previously_open:
            return not self.open_records.is_open(record)
        if window.new_after is None:
            return False  # a full read: the records it would name are read in full too
        value = record.get(time_field) if time_field else None
        return value is None or st.parse_utc(value) > window.new_after

    def _signal(self, signal: ChangeSignal, ids: set[str]) -> None:
        if not ids or not self.change_log.captures_changes_of(signal.stream):
            return
        target = self.tap_state.setdefault("bookmarks", {}).setdefault(signal.stream, {})
        pending = self.change_log.pending.get(signal.stream)
        if pending is None:
            listed = target.get(st.PENDING_IDS)
            pending = self.change_log.pending[signal.stream] = set(listed if isinstance(listed, list) else ())
        new = ids - pending
        if new:
            pending |= new
            target.setdefault(st.PENDING_IDS, []).extend(sorted(new))

    def _log_window(self, window: st.ExtractionWindow) -> None:
        since = "the beginning" if window.since is None else st.format_utc(window.since)
        whole = " (a full read: rows it does not see are then marked deleted)" if window.reconciling else ""
        if window.resumed:
            self.logger.info(
                "Resuming '%s' after %s (records from %s)%s, as the previous run left it",
                self.name,
                window.starting_after,
                since,
                whole,
            )
        else:
            self.logger.info("Reading '%s' from %s%s", self.name, since, whole)

    # Deletions --------------------------------------------------------------------------

    def _set_version(self, version: int | None, children: list[NestedRowsStream]) -> None:
        self.record_version = version
        for child in children:
            child.record_version = version

    def _activate_version(
        self, window: st.ExtractionWindow, local_started_at: dt.datetime, children: list[NestedRowsStream]
    ) -> None:
        """The full read is complete: rows of an older version are deletions.

        ACTIVATE_VERSION is what SDK-based SQL loaders turn into `_sdc_deleted_at`; the
        `reconciliations` row says the same to loaders that ignore it (rows extracted before
        `started_at` were not seen), on the clock of `time_extracted`.
        """
        assert window.version is not None
        completed = dt.datetime.now(dt.UTC)
        # A resumed read began in the run before: its start is the bound.
        started = min(local_started_at, window.started_at) if window.resumed else local_started_at
        for stream in [self, *children] if self.selected else children:
            stream._write_activate_version_message(window.version)
            if self.change_log.reconciliations is not None:
                self.change_log.reconciliations.write_row(
                    {
                        "stream": stream.name,
                        "version": window.version,
                        "started_at": st.format_utc_precise(started),
                        "completed_at": st.format_utc_precise(completed),
                    }
                )

    def _record_deleted(self, record_id: str) -> None:
        self.logger.info("'%s' record %s is gone from Orderspace (HTTP 404): marked deleted", self.name, record_id)
        if self.change_log.deleted_records is not None:
            self.change_log.deleted_records.write_row(
                {"stream": self.name, "id": record_id, "deleted_at": st.format_utc_precise(self.client.server_now())}
            )

    # Change capture ---------------------------------------------------------------------

    def _capture_changes(
        self, window: st.ExtractionWindow, stream_state: dict[str, t.Any], run: _StreamRun
    ) -> t.Iterator[dict[str, t.Any]]:
        assert self.open_records is not None
        previous = _id_list(stream_state.get(st.OPEN_IDS))
        pending = _id_list(stream_state.get(st.PENDING_IDS))
        if not window.reconciling:
            for query in self.open_records.filters():
                yield from self._read_filtered(query, run)
            to_retrieve = sorted((previous | pending) - run.emitted)
            if to_retrieve:
                self.logger.info(
                    "Retrieving %d '%s' record(s) that left the open set or were named by a change",
                    len(to_retrieve),
                    self.name,
                )
            for record_id in to_retrieve:
                record = self._retrieve(record_id)
                if record is not None and not self._before_start_date(record):
                    run.emitted.add(self.list_endpoint.key_of(record))
                    yield self._emit(record, run)
        stream_state[st.OPEN_IDS] = sorted(run.open_ids)
        stream_state.pop(st.PENDING_IDS, None)
        self.change_log.pending.pop(self.name, None)

    def _read_filtered(self, query: dict[str, str], run: _StreamRun) -> t.Iterator[dict[str, t.Any]]:
        """Every page of the list under `query`, emitting what this run has not emitted yet."""
        pager = Pager(
            self.client,
            self.list_endpoint,
            self.shape,
            query,
            log=self.logger,
            what=f"'{self.name}' with {query}",
            stopped="The open records are read again on the next run.",
            on_page=self._received,
        )
        for key, record in pager.records():
            if self._before_start_date(record):
                run.emitted.add(key)  # accounted for: not re-read by id either
                continue
            if self.open_records is not None and self.open_records.is_open(record):
                run.open_ids.add(record[self.cursor_field])
            if key in run.emitted:
                continue
            run.emitted.add(key)
            yield self._emit(record, run, changed=False)

    def _before_start_date(self, record: dict[str, t.Any]) -> bool:
        """Open records older than `start_date` lie outside the history asked for."""
        if not (self.honours_start_date and self.start_date and self.replication_key):
            return False
        value = record.get(self.replication_key)
        try:
            return value is not None and st.parse_utc(value) < self.start_date
        except ValueError:
            return False

    def _retrieve(self, record_id: str) -> dict[str, t.Any] | None:
        try:
            page = self.client.retrieve(self.path, record_id)
        except RecordNotFound:
            self._record_deleted(record_id)
            return None
        self.extracted_at = page.received_at
        raw = page.body.get(self.record_name or "", page.body)
        return self.shape.conform(raw)

    def generate_child_contexts(self, record: dict[str, t.Any], context: Context | None) -> t.Iterable[Context | None]:
        # Child tables are cut from the parent's record in `get_records`; nothing is
        # requested per parent, so the SDK's per-record child sync is not used.
        return ()

    def _increment_stream_state(self, latest_record: dict[str, t.Any], *, context: Context | None = None) -> None:
        # Bookmarks are kept by `state.open_window` / `close_window` (see that module).
        return

    # Record messages -----------------------------------------------------------------

    @cached_property
    def _some_property_deselected(self) -> bool:
        return not all(self.mask.values())

    def _generate_record_messages(self, record: dict[str, t.Any]) -> t.Generator[RecordMessage, None, None]:
        """The SDK's record path, less the work `records.RecordShape` has already done.

        The SDK conforms every value to the schema recursively in Python and walks the
        selection mask for every record; that is most of the tap's CPU. Records here were
        checked against the schema in one C pass (and repaired where they failed), so what
        is left is to drop deselected properties, only when some are.
        """
        if self._some_property_deselected:
            pop_deselected_record_properties(record, self.schema, self.mask)
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self.record_version,
                    time_extracted=self.extracted_at,
                )


def _query_value(value: t.Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _id_list(value: list[str] | None) -> set[str]:
    """Ids kept in the state (`state.check_stream_state` has checked their shape)."""
    return set(value or ())


class NestedRowsStream(OrderspaceStream):
    """A child table cut from an array inside each parent record (no request of its own).

    Rows carry the parent's key and the position in the array, and the parent's
    bookmark field where it has one, so they follow the parent's window exactly.
    """

    parent_stream_type: type[OrderspaceStream]
    #: The array field of the parent record that holds the rows.
    nested_array: str
    #: The column that carries the parent's `id`.
    parent_key: str
    #: The column that carries the parent's bookmark field, if the parent has one.
    parent_time_column: str | None = None

    _schema_written = False

    def __init__(self, tap: Tap, **kwargs: t.Any) -> None:
        super().__init__(tap, **kwargs)
        if self.parent_stream_type.since_parameter:
            # The rows follow the parent's incremental window, whatever their own columns.
            self.forced_replication_method = "INCREMENTAL"

    def write_schema_once(self) -> None:
        if not self._schema_written:
            self._write_schema_message()
            self._schema_written = True

    def write_rows_of(self, parent: dict[str, t.Any]) -> None:
        parent_id = parent["id"]
        parent_time_field = t.cast("str | None", self.parent_stream_type.replication_key)
        parent_time = parent.get(parent_time_field) if parent_time_field else None
        items = parent.get(self.nested_array)
        for position, item in enumerate(items if isinstance(items, list) else ()):
            row = dict(item)
            row[self.parent_key] = parent_id
            row["position"] = position
            if self.parent_time_column:
                row[self.parent_time_column] = parent_time
            # The parent's check covered these values; what is left is the key and new fields.
            conformed = self.shape.conform(row, validate=False)
            if conformed is not None:
                self._write_record_message(conformed)

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        return ()


class EmittedRowsStream(OrderspaceStream):
    """A table the tap writes itself (deletions, reconciliations), not read from the API."""

    keeps_undocumented_fields = False
    _schema_written = False

    def write_row(self, row: dict[str, t.Any]) -> None:
        if not self.selected:
            return
        if not self._schema_written:
            self._write_schema_message()
            self._schema_written = True
        self.extracted_at = dt.datetime.now(dt.UTC)
        self._write_record_message(row)

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        # Rows are written as other streams find them; the SDK still sends the SCHEMA first.
        self._schema_written = True
        self.change_log.stream_done(self.name)
        return ()
