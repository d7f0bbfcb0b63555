"""What a record must look like before it is emitted, and what is done when it does not.

Every record is checked against its stream's schema in one C pass (msgspec); only a
record that fails is walked in Python, where values the API sent in a compatible form
(`"12.50"`, `3.0` for an integer) are converted, values that cannot be are nulled, and
elements that are not objects are dropped, each with a WARNING naming stream, record and
field. A record without its key, or that is not an object, is skipped. Nothing the API
sends is dropped silently: fields the schema does not list go to `undocumented_fields`.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import typing as t
from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

import msgspec

logger = logging.getLogger("tap-orderspace")

UNDOCUMENTED_FIELDS = "undocumented_fields"
UNDOCUMENTED_SCHEMA: dict[str, Any] = {
    "type": ["object", "null"],
    "description": (
        "Fields the API sent that this stream's schema does not list (the API is in beta), "
        "kept as one JSON object; see schemas/README.md to promote one to a typed column."
    ),
}
DATE_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|z|[+-]\d\d:?\d\d)?")
DATE = re.compile(r"\d{4}-\d\d-\d\d")
_FORMATS = {"date-time": DATE_TIME, "date": DATE}
# After this many warnings about one field of one stream, the rest are only counted.
WARNINGS_PER_FIELD = 5

_type_names = itertools.count()


def msgspec_type(schema: dict[str, Any]) -> Any:
    """The msgspec type that accepts exactly what `schema` describes (unknown keys aside)."""
    declared = schema.get("type", [])
    kinds = [declared] if isinstance(declared, str) else list(declared)
    options: list[Any] = []
    for kind in kinds:
        if kind == "string":
            pattern = _FORMATS.get(schema.get("format", ""))
            options.append(Annotated[str, msgspec.Meta(pattern=f"^{pattern.pattern}$")] if pattern else str)
        elif kind == "number":
            options.append(float)
        elif kind == "integer":
            options.append(int)
        elif kind == "boolean":
            options.append(bool)
        elif kind == "object":
            properties = schema.get("properties")
            if properties:
                fields = {name: msgspec_type(sub) for name, sub in properties.items()}
                options.append(TypedDict(f"Shape{next(_type_names)}", fields, total=False))  # type: ignore[operator]
            elif isinstance(schema.get("additionalProperties"), dict):
                options.append(dict[str, msgspec_type(schema["additionalProperties"])])  # type: ignore[misc]
            else:
                options.append(dict[str, Any])
        elif kind == "array":
            options.append(list[msgspec_type(schema["items"])] if "items" in schema else list[Any])  # type: ignore[misc]
    if "null" in kinds:
        options.append(type(None))
    if not options:
        return Any
    return options[0] if len(options) == 1 else t.Union[tuple(options)]  # noqa: UP007


@dataclass
class Problems:
    """What a run had to repair or skip, for the WARNINGs and the summary at its end."""

    skipped: Counter[str] = field(default_factory=Counter)
    repaired: Counter[tuple[str, str]] = field(default_factory=Counter)

    def warn(self, stream: str, field_path: str, message: str, *args: Any) -> None:
        self.repaired[(stream, field_path)] += 1
        if self.repaired[(stream, field_path)] <= WARNINGS_PER_FIELD:
            logger.warning(message, *args)

    def skip(self, stream: str, message: str, *args: Any) -> None:
        self.skipped[stream] += 1
        logger.warning(message, *args)

    def summary(self) -> str | None:
        if not self.skipped and not self.repaired:
            return None
        parts = [f"{count} record(s) of '{stream}' skipped" for stream, count in sorted(self.skipped.items())]
        parts += [
            f"{count} value(s) of '{stream}.{path}' converted or nulled"
            for (stream, path), count in sorted(self.repaired.items())
        ]
        return "; ".join(parts)


class RecordShape:
    """A stream's schema as a check and a repair, plus where its undocumented fields go."""

    def __init__(
        self,
        stream: str,
        schema: dict[str, Any],
        key_properties: t.Sequence[str],
        problems: Problems,
        *,
        field_aliases: t.Mapping[str, str] | None = None,
    ) -> None:
        self.stream = stream
        self.schema = schema
        self.properties: dict[str, Any] = schema["properties"]
        self.known = frozenset(self.properties) - {UNDOCUMENTED_FIELDS}
        self.key_properties = tuple(key_properties)
        self._keys = [(key, "string" in str(self.properties.get(key, {}).get("type"))) for key in self.key_properties]
        self.field_aliases = dict(field_aliases or {})
        self.problems = problems
        self._type = msgspec_type({"type": "object", "properties": {k: self.properties[k] for k in self.known}})
        self._undocumented_seen: set[str] = set()

    def conform(self, record: Any, *, validate: bool = True) -> dict[str, Any] | None:
        """The record ready to emit, or None if it cannot be (a WARNING says why)."""
        if not isinstance(record, dict):
            self.problems.skip(
                self.stream,
                "'%s' answered a list element that is not an object (%s): skipped",
                self.stream,
                type(record).__name__,
            )
            return None
        for alias, name in self.field_aliases.items():
            if alias in record:
                value = record.pop(alias)
                if record.get(name) is None:
                    record[name] = value
        if not record.keys() <= self.known:
            self._set_aside_undocumented(record)
        if validate:
            try:
                msgspec.convert(record, self._type)
            except msgspec.ValidationError:
                self._repair(record)
        for key, is_text in self._keys:
            value = record.get(key)
            if is_text and isinstance(value, int) and not isinstance(value, bool):
                record[key] = value = str(value)
            if value is None or value == "" or isinstance(value, bool) or isinstance(value, str) != is_text:
                self.problems.skip(
                    self.stream,
                    "A '%s' record has no usable '%s' (%r): skipped, as a row without its key cannot be loaded",
                    self.stream,
                    key,
                    _short(value),
                )
                return None
        return record

    def record_label(self, record: dict[str, Any]) -> str:
        value = record.get(self.key_properties[0]) if self.key_properties else None
        return str(value) if isinstance(value, str | int) else "(no key)"

    def _set_aside_undocumented(self, record: dict[str, Any]) -> None:
        extra = {name: record.pop(name) for name in list(record) if name not in self.known}
        extra.pop(UNDOCUMENTED_FIELDS, None)
        if not extra:
            return
        record[UNDOCUMENTED_FIELDS] = extra
        new = extra.keys() - self._undocumented_seen
        if new:
            self._undocumented_seen |= new
            logger.warning(
                "'%s' records carry fields the schema does not list: %s; they land in the column '%s' "
                "(schemas/README.md: promoting a field to a typed column)",
                self.stream,
                ", ".join(sorted(new)),
                UNDOCUMENTED_FIELDS,
            )

    # The slow path: only records that failed the check come here ------------------------

    def _repair(self, record: dict[str, Any]) -> None:
        label = self.record_label(record)
        for name in self.known & record.keys():
            record[name] = self._repaired(record[name], self.properties[name], name, label)

    def _repaired(self, value: Any, schema: dict[str, Any], path: str, label: str) -> Any:
        if value is None:
            return None
        declared = schema.get("type", [])
        kinds = {declared} if isinstance(declared, str) else set(declared)
        if "string" in kinds and isinstance(value, str):
            pattern = _FORMATS.get(schema.get("format", ""))
            if pattern is None or pattern.fullmatch(value):
                return value
            return self._null(path, label, value, f"is not a {schema['format']}")
        if kinds & {"number", "integer"} and not isinstance(value, bool):
            number = _as_number(value, integer="number" not in kinds)
            if number is not None:
                if number != value or type(number) is not type(value):
                    self.problems.warn(
                        self.stream,
                        path,
                        "'%s' record %s: %s=%r converted to %r",
                        self.stream,
                        label,
                        path,
                        _short(value),
                        number,
                    )
                return number
        if "boolean" in kinds:
            if isinstance(value, bool):
                return value
            if value in ("true", "false"):
                return value == "true"
        if "object" in kinds and isinstance(value, dict):
            properties = schema.get("properties")
            if properties:
                for name in properties.keys() & value.keys():
                    value[name] = self._repaired(value[name], properties[name], f"{path}.{name}", label)
            elif isinstance(schema.get("additionalProperties"), dict):
                for name in list(value):
                    value[name] = self._repaired(value[name], schema["additionalProperties"], f"{path}.{name}", label)
            return value
        if "array" in kinds and isinstance(value, list):
            items = schema.get("items")
            if not items:
                return value
            kept = []
            for position, item in enumerate(value):
                repaired = self._repaired(item, items, f"{path}[{position}]", label)
                if repaired is None and item is not None:
                    continue  # the element was reported where it was nulled
                kept.append(repaired)
            return kept
        if "string" in kinds and isinstance(value, int | float | dict | list) and not isinstance(value, bool):
            text = value if isinstance(value, int | float) else msgspec.json.encode(value).decode()
            self.problems.warn(
                self.stream,
                path,
                "'%s' record %s: %s is a %s, kept as text",
                self.stream,
                label,
                path,
                type(value).__name__,
            )
            return str(text)
        expected = "/".join(sorted(kinds - {"null"}))
        return self._null(path, label, value, f"is a {type(value).__name__}, not {expected}")

    def _null(self, path: str, label: str, value: Any, why: str) -> None:
        self.problems.warn(
            self.stream,
            path,
            "'%s' record %s: %s=%r %s: emitted as null",
            self.stream,
            label,
            path,
            _short(value),
            why,
        )


def _as_number(value: Any, *, integer: bool) -> int | float | None:
    if isinstance(value, str):
        try:
            value = float(value.strip()) if any(c in value for c in ".eE") else int(value.strip())
        except ValueError:
            return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        if integer:
            return int(value) if value.is_integer() else None
        return value
    return None


def _short(value: Any) -> Any:
    text = repr(value)
    return value if len(text) <= 60 else text[:57] + "..."
