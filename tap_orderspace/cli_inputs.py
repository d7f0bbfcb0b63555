"""What the command line is given besides settings: the state and catalog files, and settings
in environment variables, checked so that a mistake ends in one line before any request."""

from __future__ import annotations

import io
import json
import os
import typing as t
from pathlib import Path, PurePath

from tap_orderspace.errors import ConfigError, InputFileError


def check_environment(config_schema: dict[str, t.Any], prefix: str) -> None:
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


def requested_replication_methods(catalog: t.Any) -> dict[str, str]:
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


def read_json_object(path: str, what: str, expected: str) -> dict[str, t.Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            return _parsed_json_object(handle, what, expected)[0]
    except OSError as exc:
        raise InputFileError(f"cannot read the {what} file {path}: {exc.strerror or type(exc).__name__}") from None


def checked_json_file(handle: t.IO[str] | None, what: str, expected: str) -> t.IO[str] | None:
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
