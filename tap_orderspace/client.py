"""The one base stream: requests, pacing, retries, paging, windows and state.

Streams in `streams.py` only declare what differs between resources; everything that
happens on the wire or in the state happens here.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import typing as t
from functools import cached_property
from pathlib import Path

import backoff
import msgspec
import requests
from singer_sdk import RESTStream, SchemaDirectory, StreamSchema
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.singerlib import RecordMessage

from tap_orderspace import state as st
from tap_orderspace.errors import AuthenticationError, OrderspaceAPIError

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_orderspace.tap import TapOrderspace

REQUEST_TRIES = 6  # the first attempt and five retries, about 30 s of backoff in all
MAX_BACKOFF_SECONDS = 30
DEFAULT_THROTTLE_WAIT_SECONDS = 60.0
MAX_CONSECUTIVE_THROTTLES = 10
CURSOR_REFUSED = frozenset({400, 404, 422})
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


class TransientRequestError(Exception):
    """A failure worth retrying: 5xx, a dropped connection, a timeout, a garbled body."""


class OrderspaceStream(RESTStream[str]):
    """A list endpoint of the Orderspace API."""

    schema = StreamSchema(SCHEMAS)

    primary_keys: t.ClassVar[tuple[str, ...]] = ("id",)  # type: ignore[misc]
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

    _tap: TapOrderspace

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        # Every Orderspace list lives at /<resource>, the stream's name.
        if "path" not in cls.__dict__ and "name" in cls.__dict__:
            cls.path = f"/{cls.__dict__['name']}"

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._undocumented_seen: set[str] = set()
        if self.since_parameter and self.replication_key is None:
            # No record field to bookmark on: the bookmark is the extraction's start.
            self.forced_replication_method = "INCREMENTAL"

    # Configuration -----------------------------------------------------------------

    @property
    def url_base(self) -> str:
        return str(self.config["api_url"]).rstrip("/")

    @property
    def timeout(self) -> int:
        return int(self.config["request_timeout"])

    @property
    def requests_session(self) -> requests.Session:
        return self._tap.http_session

    def apply_catalog(self, catalog: t.Any) -> None:
        super().apply_catalog(catalog)
        if method := self._tap.requested_replication_methods.get(self.name):
            self.forced_replication_method = method

    @property
    def is_incremental(self) -> bool:
        return self.replication_method == "INCREMENTAL" and self.since_parameter is not None

    def _window_rules(self) -> st.WindowRules:
        return st.WindowRules(
            stream=self.name,
            incremental=self.is_incremental,
            replication_key=self.replication_key,
            honours_start_date=self.honours_start_date,
            lookback=dt.timedelta(days=self.config["lookback_window_days"] if self.honours_lookback else 0),
        )

    # Records -----------------------------------------------------------------------

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        rules = self._window_rules()
        stream_state = self.stream_state
        window = st.open_window(
            rules,
            stream_state,
            start_date=self._tap.start_date,
            now=dt.datetime.now(dt.UTC),
        )
        self._log_window(window)
        children = [child for child in self.child_streams if isinstance(child, NestedRowsStream) and child.selected]
        for child in children:
            child.write_schema_once()

        record_time_field = self.replication_key if rules.incremental else None
        batch_mode = self.get_batch_config(self.config) is not None
        while True:
            try:
                page = self._fetch_page(self._page_params(window))
            except OrderspaceAPIError as refused:
                if not (window.resumed and window.starting_after and refused.status in CURSOR_REFUSED):
                    raise
                # The record the saved cursor names is gone: read the interrupted window
                # again from its start rather than fail or skip what lies past it.
                self.logger.warning(
                    "Orderspace refused the saved cursor %s of '%s' (%s); reading the window again from its start",
                    window.starting_after,
                    self.name,
                    refused,
                )
                window.starting_after = None
                window.resumed = False
                continue
            # Every list answers {"<resource>": [...], "has_more": ...}.
            records = page.get(self.name)
            if not isinstance(records, list):
                msg = f"GET {self.path} answered without a '{self.name}' list"
                raise OrderspaceAPIError(msg)
            for record in records:
                if record_time_field is not None and record.get(record_time_field) is not None:
                    created = st.parse_utc(record[record_time_field])
                    if window.since is not None and created < window.since:
                        continue
                    window.saw(created)
                for child in children:
                    child.write_rows_of(record)
                yield record

            has_more = self.paginated and bool(page.get("has_more")) and bool(records)
            if not has_more:
                break
            window.starting_after = str(records[-1][self.cursor_field])
            if not batch_mode:
                # In BATCH mode records reach the target later, in files: progress
                # may only be claimed when the stream ends.
                stream_state[st.IN_PROGRESS] = window.as_state()
                self.state_manager.is_flushed = False
                self._write_state_message()

        st.close_window(rules, stream_state, window)
        self.state_manager.is_flushed = False

    def _page_params(self, window: st.ExtractionWindow) -> dict[str, t.Any]:
        params: dict[str, t.Any] = {}
        if self.paginated:
            params["limit"] = self.config["page_size"]
            if window.starting_after is not None:
                params["starting_after"] = window.starting_after
        if window.since is not None and self.since_parameter:
            params[self.since_parameter] = st.format_utc(window.since - SINCE_MARGIN)
        return params

    def _log_window(self, window: st.ExtractionWindow) -> None:
        since = "the beginning" if window.since is None else st.format_utc(window.since)
        if window.resumed:
            self.logger.info(
                "Resuming '%s' after %s (records from %s), as the previous run left it",
                self.name,
                window.starting_after,
                since,
            )
        else:
            self.logger.info("Reading '%s' from %s", self.name, since)

    def generate_child_contexts(self, record: dict, context: Context | None) -> t.Iterable[Context | None]:
        # Child tables are cut from the parent's record in `get_records`; nothing is
        # requested per parent, so the SDK's per-record child sync is not used.
        return ()

    def _increment_stream_state(self, latest_record: dict, *, context: Context | None = None) -> None:
        # Bookmarks are kept by `state.open_window` / `close_window` (see that module).
        return

    # Record messages -----------------------------------------------------------------

    @cached_property
    def _schema_fields(self) -> frozenset[str]:
        return frozenset(self.effective_schema["properties"])

    @cached_property
    def _some_property_deselected(self) -> bool:
        return not all(self.mask.values())

    def _generate_record_messages(self, record: dict[str, t.Any]) -> t.Generator[RecordMessage, None, None]:
        """The SDK's record path, less the work that JSON from this API never needs.

        The SDK conforms every value to the schema recursively and walks the selection
        mask for every record; that is most of the tap's CPU. Records here are parsed
        JSON whose types the schemas already describe, so what is left to do is to drop
        deselected properties (only when some are) and fields no schema lists yet (the
        API is in beta), which keeps every record valid against the schema it is sent
        with.
        """
        if self._some_property_deselected:
            pop_deselected_record_properties(record, self.schema, self.mask)
        if not record.keys() <= self._schema_fields:
            self._note_undocumented(record.keys() - self._schema_fields)
            record = {key: value for key, value in record.items() if key in self._schema_fields}
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=self._tap.page_extracted_at,
                )

    def _note_undocumented(self, fields: t.AbstractSet[str]) -> None:
        new = fields - self._undocumented_seen
        if new:
            self._undocumented_seen |= new
            self.logger.info(
                "'%s' records carry fields the schema does not list yet, left out: %s",
                self.name,
                ", ".join(sorted(new)),
            )

    # HTTP --------------------------------------------------------------------------

    def _fetch_page(self, params: dict[str, t.Any]) -> dict[str, t.Any]:
        """One page, with pacing, token renewal, 429 waits and retries of transient errors."""
        try:
            return self._fetch_with_retries(params)
        except TransientRequestError as exc:
            msg = f"GET {self.path} failed {REQUEST_TRIES} times in a row; the last error: {exc}"
            raise OrderspaceAPIError(msg) from None

    def _log_retry(self, details: t.Any) -> None:
        self.logger.warning(
            "GET %s failed (%s); retry %d of %d in %.1f s",
            self.path,
            details["exception"],
            details["tries"],
            REQUEST_TRIES - 1,
            details["wait"],
        )

    @cached_property
    def _fetch_with_retries(self) -> t.Callable[[dict[str, t.Any]], dict[str, t.Any]]:
        """`_fetch_once` wrapped in the retry policy, built once per stream, not per page."""
        return t.cast(
            "t.Callable[[dict[str, t.Any]], dict[str, t.Any]]",
            backoff.on_exception(
                backoff.expo,
                TransientRequestError,
                max_tries=REQUEST_TRIES,
                max_value=MAX_BACKOFF_SECONDS,
                jitter=backoff.full_jitter,
                on_backoff=self._log_retry,
                logger=None,
            )(self._fetch_once),
        )

    def _fetch_once(self, params: dict[str, t.Any]) -> dict[str, t.Any]:
        tap = self._tap
        url = self.get_url(None)
        renewed_after_401 = False
        throttled = 0
        while True:
            tap.pacer.wait_for_turn()
            headers = {
                "Authorization": tap.token.authorization_header(),
                "Accept": "application/json",
                "User-Agent": tap.user_agent,
            }
            try:
                response = self.requests_session.get(url, params=params, headers=headers, timeout=self.timeout)
            except requests.Timeout:
                raise TransientRequestError(f"no answer within request_timeout={self.timeout} s") from None
            except requests.ConnectionError as exc:
                raise TransientRequestError(f"connection failed: {_exception_summary(exc)}") from None
            except requests.RequestException as exc:
                raise TransientRequestError(_exception_summary(exc)) from None

            status = response.status_code
            if status == 429:
                throttled += 1
                if throttled > MAX_CONSECUTIVE_THROTTLES:
                    msg = (
                        f"GET {self.path} was throttled {throttled} times in a row: another client "
                        "may be using this site's request allowance; lower max_requests_per_minute"
                    )
                    raise OrderspaceAPIError(msg)
                wait = _retry_after_seconds(response)
                self.logger.info(
                    "Orderspace throttled GET %s (HTTP 429); sending nothing for %.0f s (%s)",
                    self.path,
                    wait,
                    "Retry-After" if "Retry-After" in response.headers else "the documented minimum",
                )
                tap.pacer.hold(wait)
                continue
            if status == 401:
                if renewed_after_401:
                    msg = (
                        f"Orderspace rejected a newly issued access token on GET {self.path} "
                        "(HTTP 401): check that the integration is enabled and may read this resource"
                    )
                    raise AuthenticationError(msg)
                self.logger.info("Access token refused on GET %s (HTTP 401); renewing it once", self.path)
                tap.token.invalidate()
                renewed_after_401 = True
                continue
            if status >= 500:
                raise TransientRequestError(f"HTTP {status}")
            if status >= 400:
                msg = f"Orderspace answered HTTP {status} to GET {self.path}: {_api_message(response)}"
                raise OrderspaceAPIError(msg, status)
            tap.page_extracted_at = dt.datetime.now(dt.UTC)
            try:
                body = msgspec.json.decode(response.content)
            except msgspec.DecodeError:
                raise TransientRequestError(f"HTTP {status} with a body that is not JSON") from None
            if not isinstance(body, dict):
                raise TransientRequestError(f"HTTP {status} with a body that is not a JSON object")
            return body


def _retry_after_seconds(response: requests.Response) -> float:
    value = response.headers.get("Retry-After")
    if value is not None:
        try:
            return max(float(value), 0.0)
        except ValueError:
            pass
    return DEFAULT_THROTTLE_WAIT_SECONDS


def _api_message(response: requests.Response) -> str:
    try:
        message = response.json().get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message) if message else response.reason or "no message"


def _exception_summary(exc: Exception) -> str:
    # requests' messages name the URL and the cause; they never carry headers.
    return f"{type(exc).__name__}: {exc}"[:300]


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

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
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
        for position, item in enumerate(parent.get(self.nested_array) or ()):
            row = dict(item)
            row[self.parent_key] = parent_id
            row["position"] = position
            if self.parent_time_column:
                row[self.parent_time_column] = parent_time
            self._write_record_message(row)

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        return ()
