"""tap-orderspace: the settings, the stream list, and the command line."""

from __future__ import annotations

import copy
import io
import json
import math
import os
import signal
import sys
import typing as t
import urllib.parse
from functools import cached_property
from pathlib import Path, PurePath

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.plugin_base import JSONSchemaValidator

from tap_orderspace import state as st
from tap_orderspace import streams
from tap_orderspace.errors import ConfigError, InputFileError, StateError, UserFacingError
from tap_orderspace.http_client import ClientSettings, OrderspaceClient, header_value_is_sendable
from tap_orderspace.output import StateFlushedWriter
from tap_orderspace.run_context import RunContext
from tap_orderspace.state import parse_utc

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

DEFAULT_LOOKBACK_DAYS = 30
DEFAULT_RECONCILE_INTERVAL_DAYS = 7
DEFAULT_MAX_RETRY_AFTER_SECONDS = 900
# Bounds that keep every setting a number the tap can compute with (a timeout of 10^30
# seconds overflows the socket layer; a year is plenty for any of them).
MAX_SECONDS = 366 * 24 * 3600
MAX_DAYS = 100 * 366


class TapOrderspace(Tap):
    """Singer tap for Orderspace, the B2B wholesale ordering platform."""

    name = "tap-orderspace"
    message_writer_class = StateFlushedWriter

    config_jsonschema = th.PropertiesList(
        th.Property(
            "client_id",
            th.StringType(nullable=False),
            required=True,
            title="Client ID",
            description="Client ID of the Orderspace private integration (Settings > Integrations).",
        ),
        th.Property(
            "client_secret",
            th.StringType(nullable=False),
            required=True,
            secret=True,
            title="Client Secret",
            description="Client secret of the Orderspace private integration.",
        ),
        th.Property(
            "start_date",
            th.DateTimeType(nullable=True),
            title="Start Date",
            description=(
                "Earliest history to extract for orders, dispatches and invoices (ISO 8601 date-time). "
                "Customers, products, stock and reference tables are always extracted in full on a first sync."
            ),
        ),
        th.Property(
            "api_url",
            th.URIType(nullable=False),
            default="https://api.orderspace.com/v1",
            title="API URL",
            description="Base URL of the Orderspace API.",
        ),
        th.Property(
            "auth_url",
            th.URIType(nullable=False),
            default="https://identity.orderspace.com/oauth/token",
            title="Token URL",
            description="OAuth token endpoint for the client-credentials grant.",
        ),
        th.Property(
            "page_size",
            th.IntegerType(nullable=False, minimum=1, maximum=200),
            default=200,
            title="Page Size",
            description="Records per request (1-200); 200 needs a quarter of the requests of the API's default 50.",
        ),
        th.Property(
            "max_requests_per_minute",
            th.IntegerType(nullable=False, minimum=0, maximum=1_000_000),
            default=60,
            title="Max Requests per Minute",
            description=(
                "Requests sent in any 60 seconds, across all streams (Orderspace allows 60). "
                "0 turns pacing off, for local sandboxes only."
            ),
        ),
        th.Property(
            "lookback_window_days",
            th.IntegerType(nullable=False, minimum=0, maximum=MAX_DAYS),
            default=DEFAULT_LOOKBACK_DAYS,
            title="Lookback Window (days)",
            description=(
                "Customers and dispatches created this many days before the bookmark are read again on every "
                "incremental run, to catch edits to recent records. Orders and invoices need no lookback: "
                "change capture re-reads the open ones, whatever their age."
            ),
        ),
        th.Property(
            "reconcile_interval_days",
            th.IntegerType(nullable=False, minimum=0, maximum=MAX_DAYS),
            default=DEFAULT_RECONCILE_INTERVAL_DAYS,
            title="Reconcile Interval (days)",
            description=(
                "Every this many days, customers, orders, invoices, products and stock levels are read in full: "
                "records Orderspace no longer has are marked deleted in the warehouse, and edits no filter "
                "reveals arrive. 0 reconciles on every run."
            ),
        ),
        th.Property(
            "max_retry_after_seconds",
            th.IntegerType(nullable=False, minimum=1, maximum=MAX_SECONDS),
            default=DEFAULT_MAX_RETRY_AFTER_SECONDS,
            title="Max Retry-After (seconds)",
            description="The longest wait a throttled request (HTTP 429) is granted, whatever Retry-After asks.",
        ),
        th.Property(
            "request_timeout",
            th.IntegerType(nullable=False, minimum=1, maximum=MAX_SECONDS),
            default=60,
            title="Request Timeout (seconds)",
            description="Seconds to wait for an answer before retrying the request.",
        ),
        th.Property(
            "user_agent",
            th.StringType(nullable=True),
            title="User Agent",
            description="User-Agent header sent with every request (default: tap-orderspace/<version>).",
        ),
    ).to_dict()
    #: The tap's own settings; the SDK appends its built-in ones to `config_jsonschema` in place.
    own_settings: t.ClassVar[tuple[str, ...]] = tuple(config_jsonschema["properties"])

    def __init__(self, *args: t.Any, catalog: t.Any = None, **kwargs: t.Any) -> None:
        # The Singer metadata `replication-method` (what Meltano's `metadata:` extra writes)
        # is dropped when the SDK parses a catalog, so it is read from the raw catalog here.
        self.requested_replication_methods = _requested_replication_methods(catalog)
        super().__init__(*args, catalog=catalog, **kwargs)

    @cached_property
    def client(self) -> OrderspaceClient:
        """The run's one HTTP client; no request is sent until a stream asks for a page."""
        # Discovery runs without credentials: defaults stand in, and nothing is sent then.
        config = {**_defaults(self.config_jsonschema), **self.config}
        return OrderspaceClient(
            ClientSettings(
                api_url=str(config["api_url"]),
                auth_url=str(config["auth_url"]),
                client_id=str(config.get("client_id", "")),
                client_secret=str(config.get("client_secret", "")),
                user_agent=str(config.get("user_agent") or f"{self.name}/{self.plugin_version}"),
                max_requests_per_minute=int(config["max_requests_per_minute"]),
                request_timeout=float(config["request_timeout"]),
                max_retry_after_seconds=float(config["max_retry_after_seconds"]),
            )
        )

    @cached_property
    def run_context(self) -> RunContext:
        """What the run's streams tell each other (see run_context.py)."""
        return RunContext()

    def discover_streams(self) -> list[Stream]:
        discovered: list[Stream] = []
        for stream_class in streams.STREAM_TYPES:
            stream = stream_class(
                tap=self,
                client=self.client,
                run_context=self.run_context,
                requested_replication_methods=self.requested_replication_methods,
            )
            self.run_context.add(stream)
            discovered.append(stream)
        return discovered

    def _handle_termination(self, signum: int, frame: t.Any) -> None:
        # The SDK writes a STATE from inside the signal handler, which can land in the
        # middle of a record being written. Every STATE this tap emits is already
        # flushed with the records it covers, so stopping is all that is left to do.
        raise TerminationRequested(signum)

    # Configuration errors, without echoing any value ---------------------------------

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # A deep copy: the SDK adds its built-in settings in place, and the class's schema is shared.
        schema = copy.deepcopy(self.config_jsonschema)
        self.append_builtin_config(schema)
        # The SDK makes every setting nullable, and a JSON Schema bound does not refuse
        # NaN: both are refused here, before a stream could compute with them.
        problems = _null_or_not_finite(self._config, self.config_jsonschema)
        if not problems:
            # The SDK's validator also fills in each setting's default.
            problems = [
                _describe_setting_error(error) for error in JSONSchemaValidator(schema).iter_errors(self._config)
            ]
        if not problems:
            problems += _semantic_problems(self.config)
        if problems and raise_errors:
            raise ConfigError("; ".join(problems) + ": fix the tap's settings (meltano config list tap-orderspace)")
        return problems

    def load_state(self, state: dict[str, t.Any]) -> None:
        # Checked whole before any stream starts: a bookmark that cannot be read would
        # otherwise fail its stream after the streams before it had sent their requests.
        bookmarks = state.get("bookmarks", {}) if isinstance(state, dict) else None
        if not isinstance(bookmarks, dict):
            raise StateError("the state's 'bookmarks' is not an object: pass a Singer state, or none for a full sync")
        for stream, bookmark in bookmarks.items():
            st.check_stream_state(stream, bookmark)
        super().load_state(state)

    # Command line: user-fixable input errors become one line ---------------------------

    @classmethod
    def cb_config(cls, ctx: t.Any, param: t.Any, value: tuple[str, ...]) -> t.Any:
        for source in value:
            if source == "ENV":
                _check_environment(cls.config_jsonschema, f"{cls.name.upper().replace('-', '_')}_")
            else:
                _read_json_object(source, "config", "a JSON object of settings (see --about)")
        return super().cb_config(ctx, param, value)

    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: t.Any = None,
        state: t.IO[str] | None = None,
        catalog: t.IO[str] | None = None,
    ) -> None:
        super().invoke(
            about=about,
            about_format=about_format,
            config=config,
            state=_checked_json_file(state, "state", 'a Singer state: {"bookmarks": {...}}'),
            catalog=_checked_json_file(catalog, "catalog", "a Singer catalog from --discover"),
        )


def _defaults(config_schema: dict[str, t.Any]) -> dict[str, t.Any]:
    return {name: spec["default"] for name, spec in config_schema["properties"].items() if "default" in spec}


# Settings whose null means "not set"; any other null is refused rather than read as a number.
NULLABLE_SETTINGS = frozenset({"start_date", "user_agent"})


def _null_or_not_finite(config: t.Mapping[str, t.Any], own_schema: dict[str, t.Any]) -> list[str]:
    problems = []
    for name in own_schema["properties"]:
        value = config.get(name, 0)
        if value is None and name not in NULLABLE_SETTINGS:
            problems.append(f"setting '{name}' is null: give it a value, or leave it out for its default")
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(f"setting '{name}' must be a finite number")
    return problems


def _check_environment(config_schema: dict[str, t.Any], prefix: str) -> None:
    """Integer settings given as environment variables, checked before the SDK's `int()` meets them."""
    for name, spec in config_schema["properties"].items():
        variable = prefix + name.upper().replace("-", "_")
        if variable not in os.environ or "integer" not in spec.get("type", ()):
            continue
        try:
            int(os.environ[variable])
        except ValueError:
            msg = f"environment variable {variable} (setting '{name}') must be a whole number"
            raise ConfigError(msg) from None


def _semantic_problems(config: t.Mapping[str, t.Any]) -> list[str]:
    """What a schema cannot say: URLs that can be requested, headers that can be sent."""
    problems = []
    if config.get("start_date"):
        try:
            parse_utc(config["start_date"])
        except (TypeError, ValueError):
            problems.append("setting 'start_date' is not an ISO 8601 date-time, e.g. 2024-01-01T00:00:00Z")
    for setting in ("api_url", "auth_url"):
        value = config.get(setting)
        parts = urllib.parse.urlsplit(value) if isinstance(value, str) else None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or not header_value_is_sendable(value or "")
            or not _port_is_valid(parts)
        ):
            problems.append(f"setting '{setting}' must be an http(s):// URL with a host")
    user_agent = config.get("user_agent")
    if user_agent is not None and not (isinstance(user_agent, str) and header_value_is_sendable(user_agent)):
        problems.append("setting 'user_agent' must be printable ASCII text on one line (it is an HTTP header)")
    for setting in ("client_id", "client_secret"):
        value = config.get(setting)
        if isinstance(value, str) and not value.strip():
            problems.append(f"setting '{setting}' is empty")
    return problems


def _port_is_valid(parts: urllib.parse.SplitResult) -> bool:
    try:
        parts.port  # noqa: B018 - reading it is the check: out of range raises
    except ValueError:
        return False
    return True


def _requested_replication_methods(catalog: t.Any) -> dict[str, str]:
    if isinstance(catalog, str | PurePath):
        catalog = json.loads(Path(catalog).read_text(encoding="utf-8"))
    if not isinstance(catalog, dict):
        return {}
    methods = {}
    for entry in catalog.get("streams", []):
        for metadata in entry.get("metadata", []):
            method = metadata.get("metadata", {}).get("replication-method")
            if metadata.get("breadcrumb") == [] and method:
                methods[entry.get("tap_stream_id")] = method
    return methods


def _read_json_object(path: str, what: str, expected: str) -> dict[str, t.Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            return _parsed_json_object(handle, what, expected)[0]
    except OSError as exc:
        raise InputFileError(f"cannot read the {what} file {path}: {exc.strerror or type(exc).__name__}") from None


def _checked_json_file(handle: t.IO[str] | None, what: str, expected: str) -> t.IO[str] | None:
    if handle is None:
        return None
    parsed, text = _parsed_json_object(handle, what, expected)
    name = getattr(handle, "name", what)
    if what == "state" and not isinstance(parsed.get("bookmarks", {}), dict):
        raise InputFileError(f"the state file {name} has 'bookmarks' that is not an object: pass {expected}")
    if what == "catalog" and (problem := _catalog_problem(parsed)):
        raise InputFileError(f"the catalog file {name} {problem}: pass {expected}")
    return io.StringIO(text)


class _NotJSONConstant(ValueError):
    """NaN and Infinity are not JSON, though Python reads them; the SDK's own reader refuses them."""


def _refuse_constant(name: str) -> t.NoReturn:
    raise _NotJSONConstant(name)


def _catalog_problem(catalog: dict[str, t.Any]) -> str | None:
    entries = catalog.get("streams")
    if not isinstance(entries, list):
        return "has no 'streams' list"
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            return f"has a stream entry (number {position + 1}) that is not an object"
        stream = entry.get("tap_stream_id")
        if not isinstance(stream, str):
            return f"has a stream entry (number {position + 1}) without a 'tap_stream_id'"
        if not isinstance(entry.get("schema"), dict):
            return f"has stream '{stream}' without a 'schema' object"
        if not isinstance(entry.get("metadata", []), list):
            return f"has stream '{stream}' whose 'metadata' is not a list"
    return None


def _parsed_json_object(handle: t.IO[str], what: str, expected: str) -> tuple[dict[str, t.Any], str]:
    name = getattr(handle, "name", what)
    try:
        text = handle.read()
        parsed = json.loads(text, parse_constant=_refuse_constant)
    except OSError as exc:
        raise InputFileError(f"cannot read the {what} file {name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputFileError(f"the {what} file {name} is not UTF-8 text: pass {expected}") from None
    except _NotJSONConstant as exc:
        raise InputFileError(
            f"the {what} file {name} holds {exc}, which is not a JSON number: pass {expected}"
        ) from None
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"the {what} file {name} is not valid JSON (line {exc.lineno}, column {exc.colno}): "
            f"pass {expected}, or leave the option out"
        ) from None
    if not isinstance(parsed, dict):
        kind = type(parsed).__name__
        raise InputFileError(f"the {what} file {name} holds a JSON {kind}, not an object: pass {expected}")
    return parsed, text


def _describe_setting_error(error: t.Any) -> str:
    """A validation error as a sentence naming the setting, never its value."""
    setting = ".".join(str(part) for part in error.absolute_path) or "config"
    rule = error.validator
    if rule == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return f"setting '{missing}' is required"
    if rule == "type":
        expected = error.validator_value
        return f"setting '{setting}' must be of type {expected if isinstance(expected, str) else ' or '.join(expected)}"
    if rule in ("minimum", "maximum"):
        bound = "at least" if rule == "minimum" else "at most"
        return f"setting '{setting}' must be {bound} {error.validator_value}"
    if rule == "format":
        return f"setting '{setting}' must be a valid {error.validator_value}"
    if rule == "additionalProperties":
        return "unknown setting(s) given"
    return f"setting '{setting}' is invalid ({rule})"


class TerminationRequested(BaseException):
    """SIGTERM or SIGINT: unwinds past the SDK's error handling, like KeyboardInterrupt."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def main() -> None:
    """Console entry point: user-fixable errors end with one line and exit code 1."""
    try:
        TapOrderspace.cli()
    except UserFacingError as exc:
        sys.stderr.write(f"tap-orderspace: error: {exc}\n")
        sys.exit(1)
    except TerminationRequested as stop:
        name = signal.Signals(stop.signum).name
        sys.stderr.write(
            f"tap-orderspace: stopped by {name}; the last STATE emitted resumes the sync where it stopped\n"
        )
        sys.exit(128 + stop.signum)
