"""tap-orderspace: the Tap, its streams and its command line.

The settings and their checks are in `settings.py`, the checks of the state and catalog
files in `cli_inputs.py`; the streams are declared in `streams.py` and work through the
parts drawn in docs/architecture.md.
"""

from __future__ import annotations

import copy
import signal
import sys
import typing as t
from functools import cached_property

from singer_sdk import Tap

from tap_orderspace import cli_inputs, settings, streams
from tap_orderspace import state as st
from tap_orderspace.errors import ConfigError, StateError, UserFacingError
from tap_orderspace.http_client import ClientSettings, OrderspaceClient
from tap_orderspace.output import StateFlushedWriter
from tap_orderspace.run_context import RunContext

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream


class TapOrderspace(Tap):
    """Singer tap for Orderspace, the B2B wholesale ordering platform."""

    name = "tap-orderspace"
    message_writer_class = StateFlushedWriter

    config_jsonschema = settings.CONFIG_SCHEMA
    #: The tap's own settings; the SDK appends its built-in ones to `config_jsonschema` in place.
    own_settings: t.ClassVar[tuple[str, ...]] = tuple(config_jsonschema["properties"])

    def __init__(self, *args: t.Any, catalog: t.Any = None, **kwargs: t.Any) -> None:
        # The Singer metadata `replication-method` (what Meltano's `metadata:` extra writes)
        # is dropped when the SDK parses a catalog, so it is read from the raw catalog here.
        self.requested_replication_methods = cli_inputs.requested_replication_methods(catalog)
        super().__init__(*args, catalog=catalog, **kwargs)
        # Every STATE names its format, so a later release knows what it reads (state.py).
        self.state[st.STATE_FORMAT] = st.CURRENT_STATE_FORMAT  # type: ignore[literal-required]

    @cached_property
    def client(self) -> OrderspaceClient:
        """The run's one HTTP client; no request is sent until a stream asks for a page."""
        # Discovery runs without credentials: defaults stand in, and nothing is sent then.
        config = {**settings.defaults(self.config_jsonschema), **self.config}
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
        problems = settings.problems_in(self._config, schema)
        if problems and raise_errors:
            raise ConfigError("; ".join(problems) + ": fix the tap's settings (meltano config list tap-orderspace)")
        return problems

    def load_state(self, state: dict[str, t.Any]) -> None:
        # Checked whole before any stream starts: a bookmark that cannot be read would
        # otherwise fail its stream after the streams before it had sent their requests.
        bookmarks = state.get("bookmarks", {}) if isinstance(state, dict) else None
        if not isinstance(bookmarks, dict):
            raise StateError("the state's 'bookmarks' is not an object: pass a Singer state, or none for a full sync")
        st.check_state_format(state)
        for stream, bookmark in bookmarks.items():
            st.check_stream_state(stream, bookmark)
        super().load_state(state)

    # Command line: user-fixable input errors become one line ---------------------------

    @classmethod
    def cb_config(cls, ctx: t.Any, param: t.Any, value: tuple[str, ...]) -> t.Any:
        for source in value:
            if source == "ENV":
                cli_inputs.check_environment(cls.config_jsonschema, f"{cls.name.upper().replace('-', '_')}_")
            else:
                cli_inputs.read_json_object(source, "config", "a JSON object of settings (see --about)")
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
            state=cli_inputs.checked_json_file(state, "state", 'a Singer state: {"bookmarks": {...}}'),
            catalog=cli_inputs.checked_json_file(catalog, "catalog", "a Singer catalog from --discover"),
        )


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
