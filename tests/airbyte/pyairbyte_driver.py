"""Run by `.venv-airbyte`'s python: PyAirbyte drives `source-orderspace` as any Airbyte user would.

    python pyairbyte_driver.py job.json

The job names the source executable, its config, and one action: `spec`, `check`, `read` (into a
DuckDB cache kept at `cache_dir`, with the state PyAirbyte stores there, then the job's SQL queries
against it) or `validate` (every line of the raw output files parsed as an `AirbyteMessage`).
The answer is one JSON object on stdout. PyAirbyte runs offline: AIRBYTE_OFFLINE_MODE=1, DO_NOT_TRACK=1.
"""

from __future__ import annotations

import importlib
import json
import sys
import typing as t
from pathlib import Path

# By name: in the dev virtualenv, mypy would take the directory tests/airbyte/ for the `airbyte` package.
airbyte = importlib.import_module("airbyte")
DuckDBCache = importlib.import_module("airbyte.caches").DuckDBCache
AirbyteMessage = importlib.import_module("airbyte_protocol.models").AirbyteMessage


def _source(job: dict[str, t.Any]) -> t.Any:
    return airbyte.get_source(
        "source-orderspace",
        config=job.get("config"),
        local_executable=job["executable"],
        streams="*",
    )


def spec(job: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"spec": _source(job).config_spec}


def check(job: dict[str, t.Any]) -> dict[str, t.Any]:
    try:
        _source(job).check()
    except Exception as exc:  # PyAirbyte raises its own error types; their text is what a user sees.
        return {"ok": False, "error": str(exc)}
    return {"ok": True}


def read(job: dict[str, t.Any]) -> dict[str, t.Any]:
    cache_dir = Path(job["cache_dir"])
    cache = DuckDBCache(db_path=cache_dir / "pyairbyte.duckdb", cache_dir=cache_dir, schema_name="orderspace")
    answer: dict[str, t.Any] = {}
    try:
        result = _source(job).read(cache=cache)
        answer["processed_records"] = int(result.processed_records)
    except Exception as exc:
        answer["error"] = str(exc)
    with cache.get_sql_engine().connect() as connection:
        import sqlalchemy  # noqa: PLC0415 - PyAirbyte's own dependency

        tables = connection.execute(
            sqlalchemy.text(
                "select table_name from information_schema.tables "
                "where table_schema = 'orderspace' and table_name not like '\\_airbyte%' escape '\\'"
            )
        ).fetchall()
        answer["counts"] = {
            # Table names the cache itself listed.
            name: connection.execute(sqlalchemy.text(f'select count(*) from orderspace."{name}"')).scalar()  # noqa: S608
            for (name,) in tables
        }
        answer["queries"] = {
            name: [list(row) for row in connection.execute(sqlalchemy.text(sql))]
            for name, sql in job.get("queries", {}).items()
        }
    return json.loads(json.dumps(answer, default=str))  # type: ignore[no-any-return]


def validate(job: dict[str, t.Any]) -> dict[str, t.Any]:
    lines = 0
    invalid: list[str] = []
    for path in job["files"]:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            lines += 1
            try:
                AirbyteMessage.model_validate_json(line)
            except Exception as exc:
                invalid.append(f"{line[:200]}: {str(exc)[:300]}")
    return {"lines": lines, "invalid": invalid[:20]}


ACTIONS = {"spec": spec, "check": check, "read": read, "validate": validate}


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    answer = ACTIONS[job["action"]](job)
    sys.stdout.write("\n" + json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
