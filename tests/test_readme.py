"""The README tells the truth: its settings table and stream table match the tap."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tap_orderspace.streams import STREAM_TYPES

# `name`: the SDK types it per instance, every stream class sets it.
PARENTS = {stream.name: stream.parent_stream_type for stream in STREAM_TYPES}  # type: ignore[misc]
ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _tap(*args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "tap_orderspace", *args], capture_output=True, text=True, check=True
    ).stdout


def test_settings_section_is_the_about_output() -> None:
    about = _tap("--about", "--format=markdown")
    table = about[about.index("| Setting |") : about.index("\n\n", about.index("| Setting |"))]
    assert table in README


def test_stream_table_matches_the_catalog() -> None:
    catalog = json.loads(_tap("--discover"))
    section = README[README.index("## Streams") : README.index("### Child tables")]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] not in ("stream", "---"):
            rows[cells[0]] = cells
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


def test_readme_quickstart_commands_exist() -> None:
    for command in re.findall(r"^python3 (scripts/\S+)", README, flags=re.MULTILINE):
        assert (ROOT / command).is_file(), command
