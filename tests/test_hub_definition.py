"""The committed Meltano Hub definition is what scripts/hub_definition.py makes from `--about` today."""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "hub_definition.py"
DEFINITION = ROOT / "hub" / "extractors" / "tap-orderspace.yml"
REGENERATE = ".venv/bin/python scripts/hub_definition.py"

# What the Hub's schemas allow (schemas/plugin_definitions/extractors.schema.json and
# schemas/common/base_setting.schema.json in MeltanoLabs/hub).
PLUGIN_KEYS = {
    "name", "pip_url", "variant", "namespace", "label", "description", "executable", "settings", "docs", "repo",
    "logo_url", "hidden", "python", "settings_group_validation", "commands", "capabilities", "metadata", "schema",
    "select", "maintenance_status", "quality", "domain_url", "keywords", "requires", "definition", "next_steps",
    "settings_preamble", "usage", "prereq", "supported_python_versions", "log_parser",
}  # fmt: skip
SETTING_KEYS = {
    "name", "aliases", "label", "value", "placeholder", "kind", "description", "tooltip", "documentation", "env",
    "value_processor", "value_post_processor", "oauth", "options", "docs", "hidden", "sensitive",
}  # fmt: skip
KINDS = {
    "oauth", "hidden", "password", "date_iso8601", "file", "email", "integer", "options", "object", "array",
    "boolean", "string", "decimal",
}  # fmt: skip


def regenerated() -> str:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--stdout"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_committed_definition_matches_about() -> None:
    expected = regenerated()
    committed = DEFINITION.read_text() if DEFINITION.exists() else ""
    diff = "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            expected.splitlines(keepends=True),
            "committed " + str(DEFINITION.relative_to(ROOT)),
            "from --about",
        )
    )
    assert committed == expected, (
        f"{DEFINITION.relative_to(ROOT)} is out of step with `tap-orderspace --about`.\n"
        f"Regenerate it with:  {REGENERATE}\nand commit the result.\n{diff}"
    )


def test_definition_has_the_hubs_shape() -> None:
    plugin: dict[str, Any] = yaml.safe_load(DEFINITION.read_text())
    assert set(plugin) <= PLUGIN_KEYS, sorted(set(plugin) - PLUGIN_KEYS)
    assert {"name", "namespace", "variant", "quality", "pip_url", "settings"} <= set(plugin)
    names = [setting["name"] for setting in plugin["settings"]]
    assert len(names) == len(set(names))
    for setting in plugin["settings"]:
        assert set(setting) <= SETTING_KEYS, (setting["name"], sorted(set(setting) - SETTING_KEYS))
        assert setting["kind"] in KINDS, setting
    by_name = {setting["name"]: setting for setting in plugin["settings"]}
    assert by_name["client_secret"]["sensitive"] is True
    assert plugin["settings_group_validation"] == [["client_id", "client_secret"]]
    assert set(plugin["settings_group_validation"][0]) <= set(names)
