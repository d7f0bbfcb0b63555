"""`meltano config set`, as the README and docs/operations.md tell users to run it, changes only its setting.

Meltano rewrites meltano.yml in its own key order and drops comments it cannot place; the shipped
file is kept in that order, so a user's first `config set` does not reorder 270 lines or lose the
reasons for the pins.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from .support import ROOT, meltano_executable

DOCUMENTED = [ROOT / "README.md", ROOT / "docs" / "operations.md", ROOT / "docs" / "incremental.md"]


def documented_config_sets() -> list[list[str]]:
    """Every `meltano config set PLUGIN SETTING VALUE` line in a shell block of the docs."""
    commands = []
    for path in DOCUMENTED:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.match(r"\s*meltano config set (.+)", line)
            if match:
                words = shlex.split(match.group(1), comments=True)
                commands.append(words[:3])
    return commands


def test_the_docs_hold_config_set_commands() -> None:
    # Without this the parametrised test below could run on nothing and pass.
    assert len(documented_config_sets()) >= 3


@pytest.mark.parametrize("arguments", documented_config_sets(), ids=lambda words: " ".join(words[:2]))
def test_config_set_changes_only_its_own_lines(tmp_path: Path, arguments: list[str]) -> None:
    plugin, setting, value = arguments
    shutil.copy2(ROOT / "meltano.yml", tmp_path / "meltano.yml")
    (tmp_path / ".meltano").mkdir()
    env = {key: item for key, item in os.environ.items() if not key.startswith(("TAP_", "TARGET_", "MELTANO_"))}
    env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    result = subprocess.run(
        [str(meltano_executable()), "config", "set", plugin, setting, value],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]

    before = (ROOT / "meltano.yml").read_text(encoding="utf-8").splitlines()
    after = (tmp_path / "meltano.yml").read_text(encoding="utf-8").splitlines()
    changed = [line for line in difflib.unified_diff(before, after, lineterm="", n=0) if line[:1] in "+-"]
    changed = [line for line in changed if not line.startswith(("+++", "---"))]
    removed = [line[1:].strip() for line in changed if line.startswith("-")]
    added = [line[1:].strip() for line in changed if line.startswith("+")]
    # A setting the file already held is changed in place: its old line is the only one removed.
    assert all(line.startswith(f"{setting}: ") for line in removed), f"other lines removed: {removed}"
    # The setting's own line, and the `config:` key that holds it when the plugin had none.
    assert [line for line in added if line != "config:"] == [f"{setting}: {yaml_scalar(value)}"], added
    assert len(added) <= 2, added


def yaml_scalar(value: str) -> str:
    """How Meltano (ruamel.yaml) writes a value given on the command line."""
    if re.fullmatch(r"-?\d+", value):
        return value
    if re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:]+Z", value):
        return f"'{value}'"
    return value
