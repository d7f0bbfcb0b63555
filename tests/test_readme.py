"""The README and the docs tell the truth: their tables of settings and streams match the tap."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import typing as t
from functools import cache
from pathlib import Path

import pytest

from tap_orderspace.derived_streams import EmittedRowsStream, NestedRowsStream
from tap_orderspace.records import UNDOCUMENTED_FIELDS
from tap_orderspace.stream import OrderspaceStream
from tap_orderspace.streams import OPEN_ORDER_STATUSES, STREAM_TYPES, OrdersStream
from tap_orderspace.tap import TapOrderspace

# `name`: the SDK types it per instance, every stream class sets it.
PARENTS = {stream.name: stream.parent_stream_type for stream in STREAM_TYPES}  # type: ignore[misc]
ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
INCREMENTAL_DOC = (ROOT / "docs" / "incremental.md").read_text(encoding="utf-8")
# Every page a reader is sent to: the READMEs and the docs.
PAGES = sorted(
    str(path.relative_to(ROOT))
    for path in [
        ROOT / "README.md",
        ROOT / "schemas" / "README.md",
        ROOT / "sandbox" / "README.md",
        *ROOT.glob("docs/*.md"),
    ]
    if path.exists()
)


def _tap(*args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "tap_orderspace", *args], capture_output=True, text=True, check=True
    ).stdout


@cache
def _catalog() -> dict[str, t.Any]:
    catalog: dict[str, t.Any] = json.loads(_tap("--discover"))
    return catalog


def _section(text: str, heading: str) -> str:
    """The text under `heading` up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    start = text.index(f"\n{heading}\n") + 1
    following = re.compile(rf"^#{{1,{len(level)}}} ", flags=re.MULTILINE)
    end = following.search(text, start + len(heading))
    return text[start : end.start() if end else len(text)]


def _table_rows(section: str, columns: int) -> dict[str, list[str]]:
    rows = {}
    for line in section.splitlines():
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == columns and not set(cells[0]) <= set(":-") and cells[0] != "stream":
            rows[cells[0]] = cells
    return rows


def _about_tables() -> tuple[str, str]:
    """`--about`'s settings table, split into the tap's own settings and the SDK's."""
    about = _tap("--about", "--format=markdown")
    start = about.index("| Setting |")
    lines = about[start : about.index("\n\n", start)].splitlines()
    header, rows = lines[:2], lines[2:]
    own_names = set(TapOrderspace.own_settings)
    own = [row for row in rows if row.split("|")[1].strip().split(".")[0] in own_names]
    sdk = [row for row in rows if row not in own]
    return "\n".join(header + own), "\n".join(header + sdk)


def test_the_settings_tables_are_the_about_output() -> None:
    own, sdk = _about_tables()
    assert own in _section(README, "### The tap's settings")
    assert sdk in _section(README, "### SDK settings")


def test_the_tap_settings_table_lists_every_setting_of_the_tap() -> None:
    own, _ = _about_tables()
    listed = {line.split("|")[1].strip() for line in own.splitlines()[2:]}
    assert listed == set(TapOrderspace.own_settings)


def test_stream_table_matches_the_catalog() -> None:
    catalog = _catalog()
    rows = _table_rows(_section(README, "## Streams"), 6)
    assert set(rows) == {entry["tap_stream_id"] for entry in catalog["streams"]}
    for entry in catalog["streams"]:
        name, parent, keys, method, bookmark, _ = rows[entry["tap_stream_id"]]
        root = next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])
        assert keys.split(", ") == entry["key_properties"], name
        assert method == entry["replication_method"], name
        if root.get("replication-key"):
            assert bookmark == root["replication-key"], name
        parent_type = PARENTS.get(name)
        assert parent == (parent_type.name if parent_type else ""), name  # type: ignore[misc]


def _api_streams() -> dict[str, type[OrderspaceStream]]:
    """The streams read from an API list, by name (the child tables and the tap's own tables aside)."""
    return {
        stream.name: stream  # type: ignore[misc]
        for stream in STREAM_TYPES
        if not issubclass(stream, NestedRowsStream | EmittedRowsStream)
    }


def test_the_filters_in_the_stream_table_are_the_ones_sent() -> None:
    rows = _table_rows(_section(README, "## Streams"), 6)
    for name, stream_type in _api_streams().items():
        filters = [stream_type.since_parameter] if stream_type.since_parameter else []
        if stream_type.open_records is not None:
            filters.append(stream_type.open_records.field)
        assert rows[name][5] == ", ".join(filters), name


def test_the_incremental_doc_table_matches_the_streams() -> None:
    rows = _table_rows(_section(INCREMENTAL_DOC, "## What a run reads"), 5)
    assert set(rows) == set(_api_streams())
    for name, stream_type in _api_streams().items():
        _, window_filter, change_capture, reconciled, _ = rows[name]
        assert window_filter == (stream_type.since_parameter or ""), name
        if stream_type.open_records is None:
            assert change_capture == "", name
        else:
            assert change_capture.startswith(f"{stream_type.open_records.field}="), name
        if stream_type.since_parameter is None:
            assert reconciled == "every run", name
        else:
            assert reconciled == ("yes" if stream_type.reconciles else ""), name


def test_the_open_order_statuses_in_the_docs_are_the_ones_listed() -> None:
    assert OrdersStream.open_records is not None
    assert OrdersStream.open_records.open_values == OPEN_ORDER_STATUSES
    statuses = ", ".join(f"`{status}`" for status in OPEN_ORDER_STATUSES)
    assert statuses in " ".join(INCREMENTAL_DOC.split()), "docs/incremental.md: the open statuses"
    assert f"the {len(OPEN_ORDER_STATUSES)} open statuses" in README


def test_readme_quickstart_commands_exist() -> None:
    commands = re.findall(r"^python3 (scripts/\S+)", README, flags=re.MULTILINE)
    assert commands[:2] == ["scripts/demo.py", "scripts/test.py"]
    for command in commands:
        assert (ROOT / command).is_file(), command


def test_the_readme_says_to_run_the_fast_tier_before_every_commit() -> None:
    section = _section(README, "### Running the tests")
    assert "Before every commit:\n\n```bash\npython3 scripts/test.py --fast\n```" in section
    assert "`python3 scripts/test.py` runs everything, as CI does" in section
    assert (ROOT / ".ci" / "run").read_text(encoding="utf-8").rstrip().endswith("\npython3 scripts/test.py")


def _headings(page: Path) -> set[str]:
    """The anchors of a Markdown page's headings, as GitHub makes them (code blocks aside)."""
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
    titles = re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-") for title in titles}


@pytest.mark.parametrize("page", PAGES)
def test_relative_links_lead_somewhere(page: str) -> None:
    path = ROOT / page
    for target, anchor in re.findall(r"\]\(([^)#:\s]*)(?:#([^)\s]*))?\)", path.read_text(encoding="utf-8")):
        resolved = (path.parent / target).resolve() if target else path
        assert resolved.exists(), f"{page} links to {target}, which does not exist"
        if anchor and resolved.suffix == ".md":
            assert anchor in _headings(resolved), f"{page} links to {target}#{anchor}, a heading it does not have"


def test_a_field_promoted_with_meltanos_schema_extra_is_treated_as_documented() -> None:
    """schemas/README.md: Meltano's `schema:` extra puts the property in the catalog's schema,
    and the tap checks records against the schema it was given, so the field is a column."""
    catalog = json.loads(json.dumps(_catalog()))
    for entry in catalog["streams"]:
        if entry["tap_stream_id"] == "customers":
            entry["schema"]["properties"]["website"] = {"type": ["string", "null"]}
    tap = TapOrderspace(config={"client_id": "id", "client_secret": "secret"}, catalog=catalog, parse_env_config=False)
    customers = t.cast("OrderspaceStream", tap.streams["customers"])
    record = customers.shape.conform({"id": "cu_1", "website": "https://shop.example.com", "loyalty": "gold"})
    assert record == {"id": "cu_1", "website": "https://shop.example.com", UNDOCUMENTED_FIELDS: {"loyalty": "gold"}}
