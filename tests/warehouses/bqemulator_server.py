"""Start bqemulator (PyPI, 1.4.0) for the tests, with the two changes it needs here (docs/warehouses.md).

Run by the bqemulator virtualenv's python:

    python bqemulator_server.py start --rest-port PORT --grpc-port PORT --project PROJECT

- Its engine installs DuckDB's `spatial` extension at start (for GEOGRAPHY) and refuses to start
  without it; that download needs the internet, which these machines do not reach. No table here
  has a GEOGRAPHY column, so the step is skipped. (BQEMU_ENABLE_FORMAT_EXTENSIONS=false likewise
  skips the Avro extension, its setting.)
- Its insertAll turns a JSON column's object value into text with Python's `str()`
  (`{'website': ...}`), which DuckDB then rejects as JSON. The value is written as JSON text instead.
- A MERGE's `UPDATE SET target.`col` = source.`col``, as BigQuery accepts it and the loader's upsert
  writes it, reaches DuckDB unchanged, which refuses qualified names there ("Qualified column names
  in UPDATE .. SET not supported"). The qualifier before `=` is dropped before translation.
"""

from __future__ import annotations

import json
import re
import sys
import typing as t

import pyarrow as pa
from bqemulator.cli import main as cli
from bqemulator.sql.translator import SQLTranslator
from bqemulator.storage import arrow_bridge
from bqemulator.storage.engine import DuckDBEngine

_coerce = arrow_bridge._coerce_to_arrow_value


def _coerce_json_objects(value: t.Any, arrow_type: pa.DataType, *, field: pa.Field | None = None) -> t.Any:
    if isinstance(value, (dict, list)) and pa.types.is_string(arrow_type):
        return json.dumps(value)
    return _coerce(value, arrow_type, field=field)


_translate = SQLTranslator.translate
# `UPDATE SET t.`a` = s.`a`, t.`b` = s.`b``: the left-hand sides, unqualified.
_QUALIFIED_SET = re.compile(r"(UPDATE SET |, )\w+\.(`[^`]+` =)", re.IGNORECASE)


def _translate_unqualified_set(self: SQLTranslator, bq_sql: str, **kwargs: t.Any) -> t.Any:
    return _translate(self, _QUALIFIED_SET.sub(r"\1\2", bq_sql), **kwargs)


def main() -> None:
    DuckDBEngine._load_spatial = lambda self: None  # type: ignore[method-assign]
    arrow_bridge._coerce_to_arrow_value = _coerce_json_objects
    SQLTranslator.translate = _translate_unqualified_set  # type: ignore[method-assign]
    sys.exit(cli())


if __name__ == "__main__":
    main()
