"""`source-orderspace`: the Airbyte protocol's four commands, run by the tap in-process.

    source-orderspace spec
    source-orderspace check --config config.json
    source-orderspace discover --config config.json
    source-orderspace read --config config.json --catalog configured_catalog.json [--state state.json]

stdout carries Airbyte messages only (the tap's logs go to stderr, and so does anything else that
would print); an error ends in one TRACE message, never a traceback on stdout or a secret anywhere.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import traceback
import typing as t

from tap_orderspace.airbyte import inputs
from tap_orderspace.airbyte.protocol import (
    StreamInfo,
    catalog_message,
    connection_status,
    error_trace,
    failure_type,
    spec_message,
    stream_infos,
)
from tap_orderspace.airbyte.writer import AirbyteMessageWriter
from tap_orderspace.errors import ConfigError, StateError, UserFacingError
from tap_orderspace.tap import TapOrderspace, TerminationRequested

logger = logging.getLogger("tap-orderspace")

#: `check` lists this stream: one unpaginated list, so one request after the token.
CHECK_STREAM = "payment_terms"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> t.NoReturn:
        # argparse's own usage error, on stderr, with the exit code Airbyte reads as a failure.
        self.print_usage(sys.stderr)
        sys.stderr.write(f"source-orderspace: error: {message}\n")
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="source-orderspace", description="Orderspace as an Airbyte source.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("spec", help="the connector's settings, as a SPEC message")
    for name, text in (("check", "obtain a token and list one page"), ("discover", "the streams, as a CATALOG")):
        commands.add_parser(name, help=text).add_argument("--config", required=True)
    read = commands.add_parser("read", help="read the configured streams")
    read.add_argument("--config", required=True)
    read.add_argument("--catalog", required=True)
    read.add_argument("--state")
    return parser


def _discovered(config: dict[str, t.Any]) -> tuple[dict[str, t.Any], dict[str, StreamInfo]]:
    """The tap's Singer catalog and the streams it describes; the settings are checked, nothing is requested."""
    tap = TapOrderspace(config=config, setup_mapper=False)
    catalog: dict[str, t.Any] = json.loads(tap.catalog_json_text)
    return catalog, stream_infos(catalog, tap.streams.values())


def _spec(writer: AirbyteMessageWriter) -> None:
    writer.emit(spec_message(TapOrderspace.config_jsonschema, TapOrderspace.own_settings))


def _discover(writer: AirbyteMessageWriter, config_path: str) -> None:
    _, infos = _discovered(inputs.read_config(config_path))
    writer.emit(catalog_message(infos))


def _check(writer: AirbyteMessageWriter, config_path: str) -> None:
    try:
        config = inputs.read_config(config_path)
        discovered, infos = _discovered(config)
        configured = inputs.ConfiguredStreams({CHECK_STREAM: "full_refresh"}, frozenset())
        catalog = inputs.singer_catalog(discovered, configured, infos)
        # No stream is configured on this writer: the records read are counted by no one.
        silent = AirbyteMessageWriter(writer.out, infos)
        TapOrderspace(config=config, catalog=catalog, message_writer=silent).sync_all()
    except UserFacingError as exc:
        writer.emit(connection_status(succeeded=False, message=_redacted(_user_message(exc), config_path)))
        return
    writer.emit(connection_status(succeeded=True))


def _read(writer: AirbyteMessageWriter, config_path: str, catalog_path: str, state_path: str | None) -> None:
    config = inputs.read_config(config_path)
    discovered, infos = _discovered(config)
    configured = inputs.configured_streams(inputs.read_json_file(catalog_path, "catalog"), infos)
    catalog = inputs.singer_catalog(discovered, configured, infos)
    raw_state = inputs.read_json_file(state_path, "state") if state_path else None
    state = inputs.singer_state(inputs.stream_states(raw_state), configured, infos)
    airbyte_writer = AirbyteMessageWriter(writer.out, infos, configured)
    tap = TapOrderspace(config=config, catalog=catalog, state=state, message_writer=airbyte_writer)
    airbyte_writer.start(tap.state)
    try:
        tap.sync_all()
    except BaseException:
        airbyte_writer.fail()
        raise
    airbyte_writer.finish(tap.state)


def _secrets(config_path: str | None) -> list[str]:
    """The config's secret values, to be kept out of any message even if an error quoted one."""
    if not config_path:
        return []
    try:
        config = inputs.read_config(config_path)
    except UserFacingError:
        return []
    names = [name for name, spec in TapOrderspace.config_jsonschema["properties"].items() if spec.get("secret")]
    return [str(config[name]) for name in names if isinstance(config.get(name), str) and config[name]]


# The tap ends its user-facing messages with what to do in Meltano; an Airbyte user does it elsewhere.
_AIRBYTE_ADVICE: tuple[tuple[type[Exception], str], ...] = (
    (StateError, "clear the stream's state in Airbyte (or pass no --state) to read it from the start"),
    (ConfigError, "fix the source's settings in Airbyte (or in the --config file)"),
)


def _user_message(exc: UserFacingError) -> str:
    message = str(exc)
    head, separator, advice = message.rpartition(": ")
    if separator and "meltano" in advice:
        for kind, airbyte_advice in _AIRBYTE_ADVICE:
            if isinstance(exc, kind):
                return f"{head}: {airbyte_advice}"
    return message


def _redacted(message: str, config_path: str | None) -> str:
    for secret in _secrets(config_path):
        message = message.replace(secret, "****")
    return message


def run(argv: list[str], out: t.BinaryIO) -> int:
    """One command; its exit code (0, or 1 after a TRACE error)."""
    args = _parser().parse_args(argv)
    writer = AirbyteMessageWriter(out, {})
    config_path = getattr(args, "config", None)
    try:
        # Whatever prints goes to stderr: stdout holds Airbyte messages only.
        with contextlib.redirect_stdout(sys.stderr):
            if args.command == "spec":
                _spec(writer)
            elif args.command == "check":
                _check(writer, args.config)
            elif args.command == "discover":
                _discover(writer, args.config)
            else:
                _read(writer, args.config, args.catalog, args.state)
    except TerminationRequested as stop:
        name = signal.Signals(stop.signum).name
        sys.stderr.write(f"source-orderspace: stopped by {name}; the last STATE written resumes the read\n")
        return 128 + stop.signum
    except Exception as exc:
        kind = failure_type(exc)
        if isinstance(exc, UserFacingError):
            message = _user_message(exc)
        else:
            # Not the user's to fix: the traceback is for whoever reads the logs (stderr).
            sys.stderr.write(_redacted(traceback.format_exc(), config_path))
            message = f"source-orderspace failed: {type(exc).__name__}: {exc}"
        message = _redacted(message, config_path)
        writer.emit(error_trace(message, kind, internal_message=type(exc).__name__))
        sys.stderr.write(f"source-orderspace: error: {message}\n")
        return 1
    return 0


def main() -> None:
    """Console entry point."""
    sys.exit(run(sys.argv[1:], sys.stdout.buffer))
