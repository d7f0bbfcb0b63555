"""The one base stream: what a stream declares, and the order a run of it goes in.

Streams in `streams.py` only declare what differs between resources. A run of an
incremental stream has up to three passes, each done by a part with its own module:

1. the window (`window_read`): records created (or updated) since the bookmark, less the
   lookback, newest first; or, once every `reconcile_interval_days` and on a first sync,
   every record, as one Singer table version that is activated (older rows marked deleted)
   when the read is complete;
2. the backfill (`backfill`), when `start_date` was moved back before the history the
   state holds: the gap, read once, without touching the bookmark;
3. change capture (`change_capture`), for streams whose records stay open for months
   (orders, invoices): the records open at the last run are listed again, and those that
   left the open set, or that another stream named as changed, are retrieved by id.

Each pages through `paging.Pager`; what streams tell each other goes through
`run_context.RunContext`; the bookmarks belong to `state`, the record checks to `records`,
the wire to `http_client.OrderspaceClient`.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import typing as t
from functools import cached_property
from pathlib import Path

from singer_sdk import Stream, StreamSchema
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.schema.source import SchemaDirectory
from singer_sdk.singerlib import RecordMessage

from tap_orderspace import backfill
from tap_orderspace import state as st
from tap_orderspace.change_capture import ChangeCapture, ChangeSignal, OpenRecords, add_pending_ids, open_ids
from tap_orderspace.paging import ListEndpoint, Pager
from tap_orderspace.records import UNDOCUMENTED_FIELDS, UNDOCUMENTED_SCHEMA, RecordShape
from tap_orderspace.window_read import WindowRead

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_orderspace.http_client import OrderspaceClient
    from tap_orderspace.run_context import RunContext, StreamRun

# Orderspace's `*_since` and `*_before` filters take whole seconds; asking one second wider
# makes a bound safe whether the API treats it as inclusive or exclusive. Records outside
# it are dropped by the reader, so none is emitted twice.
TIME_FILTER_MARGIN = dt.timedelta(seconds=1)


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
    #: The query parameter bounding a backfill above (`created_before`), where the API has one.
    before_parameter: str | None = None
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
        run_context: RunContext,
        requested_replication_methods: t.Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(tap)
        self.client = client
        self.run_context = run_context
        requested_replication_method = (requested_replication_methods or {}).get(self.name)
        self.requested_replication_method = requested_replication_method
        #: Singer `time_extracted` of the records written now: when their answer arrived.
        self.extracted_at = dt.datetime.now(dt.UTC)
        #: The Singer table version of the records written now (during a full read).
        self.record_version: int | None = None
        self._schema_written = False
        if self.since_parameter and self.replication_key is None:
            # No record field to bookmark on: the bookmark is the extraction's start.
            self.forced_replication_method = "INCREMENTAL"
        if requested_replication_method:
            self.forced_replication_method = requested_replication_method
        if getattr(self.parent_stream_type, "since_parameter", None):
            # A child table's rows follow its parent's incremental window, whatever their own columns.
            self.forced_replication_method = "INCREMENTAL"

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
            self.run_context.problems,
            field_aliases=self.field_aliases,
        )

    @cached_property
    def list_endpoint(self) -> ListEndpoint:
        return ListEndpoint(
            stream=self.name,
            resource=self.path,
            page_size=int(self.config["page_size"]) if self.paginated else None,
            cursor_field=self.cursor_field,
            key_fields=tuple(self.primary_keys or (self.cursor_field,)),
        )

    @cached_property
    def start_date(self) -> dt.datetime | None:
        value = self.config.get("start_date")
        return st.parse_utc(value) if value else None

    def _window_rules(self, run: StreamRun) -> st.WindowRules:
        reconcile_days = int(self.config.get("reconcile_interval_days", 7))
        covers = ([self.name] if self.selected else []) + [child.name for child in run.children]
        return st.WindowRules(
            stream=self.name,
            incremental=self.is_incremental,
            replication_key=self.replication_key,
            honours_start_date=self.honours_start_date,
            lookback=dt.timedelta(days=self.config["lookback_window_days"] if self.honours_lookback else 0),
            covers=tuple(sorted(covers)),
            reconcile_every=dt.timedelta(days=reconcile_days) if self.reconciles else None,
        )

    # A run -------------------------------------------------------------------------

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        with self.client.counting_requests(self.name):
            yield from self._run()

    def _run(self) -> t.Iterator[dict[str, t.Any]]:
        """The window, its end (a version activated, the bookmark moved), then change capture."""
        run = self.run_context.start(self)
        rules = self._window_rules(run)
        stream_state = self.stream_state
        window = st.open_window(rules, stream_state, start_date=self.start_date, now=self.client.server_now())
        local_started_at = dt.datetime.now(dt.UTC)
        run.full_read = window.reconciling
        gap = backfill.open_backfill(rules, stream_state, window, start_date=self.start_date, now=window.started_at)
        self.run_context.reading(run, mode=self._mode(rules, window, gap), since=window.since)
        self._log_window(window)
        for child in run.children:
            child.write_schema_once()
        self._set_version(window.version, run)
        if self.open_records is not None:
            run.previously_open = open_ids(stream_state)

        yield from WindowRead(self, window, run).records()

        if window.version is not None and window.reconciling:
            self._activate_version(window.version, self._reconciled_from(window, local_started_at), run)
        st.close_window(rules, stream_state, window)
        self._set_version(None, run)
        self.state_manager.is_flushed = False

        if gap is not None:
            yield from backfill.BackfillRead(self, gap, run).records()
            backfill.close_backfill(stream_state, gap)
            self.state_manager.is_flushed = False

        if self.open_records is not None and rules.incremental:
            yield from ChangeCapture(self, self.open_records, run).records(reconciling=window.reconciling)
            self.state_manager.is_flushed = False
        self.run_context.finish(run, bookmark=st.bookmark_of(rules, stream_state))

    @staticmethod
    def _mode(rules: st.WindowRules, window: st.ExtractionWindow, gap: backfill.BackfillWindow | None) -> str:
        """The run log's word for this read."""
        if window.resumed or (gap is not None and gap.resumed):
            return "resume"
        if gap is not None:
            return "backfill"
        if not rules.incremental:
            return "full_table"
        return "reconcile" if window.reconciling else "incremental"

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

    # What the parts of a run call -----------------------------------------------------

    def time_filters(self, since: dt.datetime | None, before: dt.datetime | None = None) -> dict[str, str]:
        """The list filters for records created (or updated) from `since` and before `before`, as far
        as this endpoint takes them, each one second wider (`TIME_FILTER_MARGIN`)."""
        filters: dict[str, str] = {}
        if since is not None and self.since_parameter:
            filters[self.since_parameter] = st.format_utc(since - TIME_FILTER_MARGIN)
        if before is not None and self.before_parameter:
            filters[self.before_parameter] = st.format_utc(before + TIME_FILTER_MARGIN)
        return filters

    def pager(
        self,
        query: dict[str, t.Any],
        *,
        cursor: str | None = None,
        what: str = "",
        read: str = "the list",
        stopped: str = "",
        on_advance: t.Callable[[str | None], None] | None = None,
    ) -> Pager:
        """A pass over this stream's list under `query` (see `paging.Pager` for the rest)."""
        return Pager(
            self.client,
            self.list_endpoint,
            self.shape,
            query,
            log=self.logger,
            cursor=cursor,
            what=what,
            read=read,
            stopped=stopped,
            on_advance=on_advance,
            on_page=self.received_page,
        )

    def received_page(self, received_at: dt.datetime) -> None:
        """The records written next came in an answer received at `received_at`."""
        self.extracted_at = received_at

    def save_progress(self, window: st.ExtractionWindow) -> None:
        """A page of the window is delivered: a STATE claims it, so a stopped run resumes after it."""
        self.stream_state[st.IN_PROGRESS] = window.as_state()
        self.state_manager.is_flushed = False
        self._write_state_message()

    def save_backfill_progress(self, gap: backfill.BackfillWindow) -> None:
        """A page of the backfill is delivered: a STATE claims it, so a stopped backfill resumes after it."""
        self.stream_state[st.BACKFILL] = gap.as_state()
        self.state_manager.is_flushed = False
        self._write_state_message()

    def keep_pending_ids(self, ids: set[str]) -> None:
        """Another stream named these records as changed: they are kept in this stream's state
        (and so in the next STATE) until its change capture reads them."""
        add_pending_ids(self.stream_state, ids)

    def write_schema_once(self) -> None:
        """Send the SCHEMA now, if it has not gone out yet: this stream's rows are written while
        another stream syncs, before the SDK would send it."""
        if not self._schema_written:
            self._write_schema_message()
            self._schema_written = True

    def activate_version(self, version: int) -> None:
        """Send ACTIVATE_VERSION: rows of an older table version are deletions."""
        self._write_activate_version_message(version)

    # Deletions ----------------------------------------------------------------------------

    def _set_version(self, version: int | None, run: StreamRun) -> None:
        self.record_version = version
        for child in run.children:
            child.record_version = version

    @staticmethod
    def _reconciled_from(window: st.ExtractionWindow, local_started_at: dt.datetime) -> dt.datetime:
        """The time before which a row not seen by the full read is a deletion; a resumed read
        began in the run before, so its start is the bound."""
        return min(local_started_at, window.started_at) if window.resumed else local_started_at

    def _activate_version(self, version: int, started: dt.datetime, run: StreamRun) -> None:
        """The full read is complete: rows of an older version are deletions.

        ACTIVATE_VERSION is what SDK-based SQL loaders turn into `_sdc_deleted_at`; the
        `reconciliations` row says the same to loaders that ignore it (rows extracted before
        `started_at` were not seen), on the clock of `time_extracted`.
        """
        completed = dt.datetime.now(dt.UTC)
        for stream in [self, *run.children] if self.selected else run.children:
            stream.activate_version(version)
            self.run_context.record_reconciliation(stream.name, version, started=started, completed=completed)

    # The SDK's hooks --------------------------------------------------------------------

    def generate_child_contexts(self, record: dict[str, t.Any], context: Context | None) -> t.Iterable[Context | None]:
        # Child tables are cut from the parent's record as it is emitted (`StreamRun.emitting`);
        # nothing is requested per parent, so the SDK's per-record child sync is not used.
        return ()

    def _increment_stream_state(self, latest_record: dict[str, t.Any], *, context: Context | None = None) -> None:
        # Bookmarks are kept by `state.open_window` / `close_window` (see that module).
        return

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
