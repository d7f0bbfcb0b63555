"""The dbt project's column docs follow the stream schemas: the generated files are current, and every
staging column read from an API field is described by that field's generated block."""

from __future__ import annotations

import difflib
import importlib.util
import re
import sys
import typing as t
from pathlib import Path
from types import ModuleType

import yaml

ROOT = Path(__file__).resolve().parent.parent
TRANSFORM = ROOT / "transform"
# A staging column read from one API field: `{{ as_text('id') }} as customer_id`, `options as variant_options`,
# or a field of a JSON object, `{{ as_date(orderspace_json_field('deposit', 'due_date')) }} as deposit_due_date`.
FIELD_COLUMN = re.compile(r"^\s*(?:\{\{ as_\w+\('(?P<field>\w+)'\) \}\}|(?P<plain>\w+)) as (?P<column>\w+),?$")
OBJECT_FIELD_COLUMN = re.compile(
    r"^\s*\{\{ as_\w+\(orderspace_json_field\('(?P<object>\w+)', '(?P<field>\w+)'\)\) \}\} as (?P<column>\w+),?$"
)
OUTPUT_COLUMN = re.compile(r" as (?P<column>\w+),?$")


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dbt_docs", ROOT / "scripts" / "dbt_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["dbt_docs"] = module
    spec.loader.exec_module(module)
    return module


def model_columns(path: Path) -> dict[str, dict[str, dict[str, t.Any]]]:
    """{model: {column: properties}} of a models YAML file."""
    models = yaml.safe_load(path.read_text(encoding="utf-8"))["models"]
    return {m["name"]: {c["name"]: c for c in m.get("columns") or ()} for m in models}


def staging_columns(sql: str) -> list[tuple[str, str | None]]:
    """(output column, API field or None) of a staging model's `renamed` select, in order."""
    body = sql.split("renamed as (", 1)[1].split("from source", 1)[0]
    columns: list[tuple[str, str | None]] = []
    for raw_line in body.splitlines()[1:]:
        line = raw_line.rstrip()
        if not line.strip() or line.strip() == "select":
            continue
        if obj := OBJECT_FIELD_COLUMN.match(line):
            columns.append((obj["column"], f"{obj['object']}__{obj['field']}"))
        elif found := FIELD_COLUMN.match(line):
            columns.append((found["column"], found["field"] or found["plain"]))
        elif bare := re.fullmatch(r"\s*(\w+),?", line):
            columns.append((bare[1], None))
        else:
            output = OUTPUT_COLUMN.search(line)
            assert output, f"unreadable staging column: {line!r}"
            columns.append((output["column"], None))
    return columns


def test_the_generated_docs_and_sources_are_current() -> None:
    stale = []
    for path, text in generator().generated().items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            diff = difflib.unified_diff(current.splitlines(), text.splitlines(), "committed", "generated", lineterm="")
            stale.append(f"{path.relative_to(ROOT)}:\n" + "\n".join(list(diff)[:20]))
    assert not stale, "regenerate with `.venv/bin/python scripts/dbt_docs.py`:\n" + "\n".join(stale)


def test_every_schema_field_has_a_block_and_a_source_column() -> None:
    docs = (TRANSFORM / "models" / "staging" / "_orderspace__fields.md").read_text(encoding="utf-8")
    sources = yaml.safe_load((TRANSFORM / "models" / "staging" / "_orderspace__sources.yml").read_text())
    tables = {table["name"]: {c["name"] for c in table["columns"]} for table in sources["sources"][0]["tables"]}
    for schema in sorted((ROOT / "schemas").glob("*.json")):
        stream = schema.stem
        fields = yaml.safe_load(schema.read_text(encoding="utf-8"))["properties"]
        assert set(fields) <= tables[stream], stream
        for field in fields:
            assert f"{{% docs orderspace__{stream}__{field} %}}" in docs, (stream, field)


def test_staging_columns_carry_their_fields_descriptions() -> None:
    """Each column of each staging model is in its YAML, in the model's order, described; a column read
    from an API field by that field's generated block, so a schema's description reaches it."""
    documented = model_columns(TRANSFORM / "models" / "staging" / "_orderspace__models.yml")
    problems = []
    for path in sorted((TRANSFORM / "models" / "staging").glob("stg_orderspace__*.sql")):
        model, stream = path.stem, path.stem.removeprefix("stg_orderspace__")
        columns = staging_columns(path.read_text(encoding="utf-8"))
        yaml_columns = documented.get(model, {})
        if [name for name, _ in columns] != list(yaml_columns):
            problems.append(f"{model}: SQL columns {[n for n, _ in columns]} != YAML columns {list(yaml_columns)}")
            continue
        for name, field in columns:
            description = str(yaml_columns[name].get("description") or "")
            if not description.strip():
                problems.append(f"{model}.{name}: no description")
            elif field is not None and description != f'{{{{ doc("orderspace__{stream}__{field}") }}}}':
                problems.append(f"{model}.{name}: read from {stream}.{field} but described as {description!r}")
    assert not problems, "\n".join(problems)


def test_every_mart_column_is_described() -> None:
    """The marts' YAML names each column of its model, described (the DuckDB build checks the catalog too)."""
    documented = model_columns(TRANSFORM / "models" / "marts" / "_marts__models.yml")
    for path in sorted((TRANSFORM / "models" / "marts").glob("*.sql")):
        columns = documented.get(path.stem)
        assert columns, f"{path.stem} has no columns in _marts__models.yml"
        undescribed = [name for name, spec in columns.items() if not str(spec.get("description") or "").strip()]
        assert not undescribed, (path.stem, undescribed)
