#!/usr/bin/env python3
"""Write the extractor's Meltano Hub plugin definition from `tap-orderspace --about --format json`.

    .venv/bin/python scripts/hub_definition.py           # rewrite hub/extractors/tap-orderspace.yml
    .venv/bin/python scripts/hub_definition.py --check   # exit 1 if the committed file is stale
    .venv/bin/python scripts/hub_definition.py --stdout  # print the definition, write nothing

The file follows the Hub's format (MeltanoLabs/hub: `_data/meltano/extractors/<name>/<variant>.yml`,
validated there by `schemas/plugin_definitions/extractors.schema.json` and a yamllint with
`key-ordering`), so it can be copied into a Hub pull request as it is. Settings, their labels,
kinds, defaults and sensitivity, the capabilities, the required settings and the supported Python
versions all come from `--about`; the Hub-only facts (where the code lives, keywords, quality) are
the constants below. The settings follow hub-utils' translation of an SDK tap's `--about`: nested
objects become dotted names (`batch_config.encoding.format`), enums become `options`, secrets
become `password` and `sensitive`, date-times become `date_iso8601`.

tests/test_hub_definition.py regenerates the file and fails when it differs from the committed one.
Runs with the dev virtualenv's python (it needs the tap installed, and PyYAML, which the SDK brings).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFINITION = ROOT / "hub" / "extractors" / "tap-orderspace.yml"
REGENERATE = ".venv/bin/python scripts/hub_definition.py"

# Hub-only facts, not in --about. The repository is not published yet: REPOSITORY and VARIANT (the
# Hub names a variant after the repository's owner) are provisional until it is.
VARIANT = "tap-orderspace"
REPOSITORY = "https://github.com/tap-orderspace/tap-orderspace"
HUB_FACTS: dict[str, Any] = {
    "variant": VARIANT,
    "label": "Orderspace",
    "namespace": "tap_orderspace",
    "pip_url": f"git+{REPOSITORY}.git",
    "repo": REPOSITORY,
    "docs": f"{REPOSITORY}#readme",
    "domain_url": "https://www.orderspace.com/",
    "keywords": ["api", "b2b", "ecommerce", "meltano_sdk", "wholesale"],
    "maintenance_status": "active",
    "quality": "silver",
}

# The `capabilities` values the Hub's schema accepts (schemas/common/extractors_specific.schema.json).
HUB_CAPABILITIES = {
    "properties", "catalog", "discover", "state", "about", "stream-maps", "schema-flattening",
    "activate-version", "batch", "test", "log-based", "structured-logging",
}  # fmt: skip
KIND_OF_TYPE = {"integer": "integer", "number": "decimal", "boolean": "boolean", "array": "array", "object": "object"}
# Words the Hub writes in capitals in labels derived from names (hub-utils' _get_label).
LABEL_WORDS = {"Api": "API", "Id": "ID", "Url": "URL", "Gzip": "GZIP", "Jsonl": "JSONL", "Oauth": "OAuth"}


def about() -> dict[str, Any]:
    """The tap's `--about --format json`, from the tap installed beside this python."""
    command = [sys.executable, "-m", "tap_orderspace", "--about", "--format", "json"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"hub_definition: `{' '.join(command)}` exited with {result.returncode}:\n{result.stderr}")
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def label_of(name: str) -> str:
    words = name.replace("_", " ").replace("-", " ").replace(".", " ").split()
    return " ".join(LABEL_WORDS.get(word.title(), word.title()) for word in words)


def types_of(schema: dict[str, Any]) -> list[str]:
    """The non-null JSON types a property takes, through `oneOf`/`anyOf` alternatives."""
    declared = schema.get("type", [])
    found = [declared] if isinstance(declared, str) else list(declared)
    for alternative in schema.get("oneOf", []) + schema.get("anyOf", []):
        if isinstance(alternative, dict):
            found += [kind for kind in types_of(alternative) if kind not in found]
    return [kind for kind in found if kind != "null"]


def kind_of(schema: dict[str, Any]) -> str:
    types = types_of(schema)
    if "array" in types:
        return "array"
    if len(types) != 1 or types[0] == "string":
        if schema.get("secret") or schema.get("writeOnly"):
            return "password"
        if schema.get("format") in ("date-time", "date"):
            return "date_iso8601"
        if schema.get("enum"):
            return "options"
        return "string"
    return KIND_OF_TYPE.get(types[0], "string")


def is_nested(schema: dict[str, Any]) -> bool:
    """An object whose keys are all declared becomes dotted settings; one that takes keys of its own
    choosing (`stream_maps`, `stream_map_config`) stays one `object` setting."""
    return (
        "object" in types_of(schema)
        and bool(schema.get("properties"))
        and not isinstance(schema.get("additionalProperties"), dict)
        and not any(key.startswith("__") for key in schema["properties"])
    )


def settings_of(properties: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    settings: list[dict[str, Any]] = []
    for key, schema in properties.items():
        name = f"{prefix}{key}"
        if is_nested(schema):
            settings += settings_of(schema["properties"], f"{name}.")
            continue
        kind = kind_of(schema)
        setting: dict[str, Any] = {
            "name": name,
            "label": schema.get("title") or label_of(name),
            "kind": kind,
            "description": " ".join(str(schema.get("description", "")).split()),
        }
        if kind == "options":
            setting["options"] = [{"label": label_of(str(value)), "value": value} for value in schema["enum"]]
        if schema.get("default") is not None:
            setting["value"] = schema["default"]
        if kind == "password":
            setting["sensitive"] = True
        settings.append(setting)
    return settings


def definition(about_info: dict[str, Any]) -> dict[str, Any]:
    config_schema = about_info["settings"]
    capabilities = about_info["capabilities"]
    unknown = sorted(set(capabilities) - HUB_CAPABILITIES)
    if unknown:
        sys.exit(f"hub_definition: the Hub's schema has no capability {', '.join(unknown)}")
    result: dict[str, Any] = {
        **HUB_FACTS,
        "name": about_info["name"],
        "executable": about_info["name"],
        "description": about_info["description"],
        "capabilities": sorted(capabilities),
        "settings": settings_of(config_schema["properties"]),
        "supported_python_versions": about_info["supported_python_versions"],
    }
    if config_schema.get("required"):
        result["settings_group_validation"] = [sorted(config_schema["required"])]
    if "structured-logging" in capabilities:
        result["log_parser"] = "singer-sdk"
    return result


def render(about_info: dict[str, Any]) -> str:
    # Keys sorted at every level: the Hub's yamllint enables `key-ordering`. Settings keep --about's
    # order (the tap's own first, then the SDK's).
    text = yaml.safe_dump(definition(about_info), sort_keys=True, allow_unicode=True, width=100)
    header = "# Generated by scripts/hub_definition.py from `tap-orderspace --about`: do not edit by hand.\n"
    return header + str(text)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if the committed definition is stale")
    mode.add_argument("--stdout", action="store_true", help="print the definition instead of writing it")
    args = parser.parse_args(argv)
    text = render(about())
    if args.stdout:
        sys.stdout.write(text)
        return 0
    current = DEFINITION.read_text() if DEFINITION.exists() else None
    if args.check:
        if current != text:
            print(f"{DEFINITION.relative_to(ROOT)} is stale; regenerate it with: {REGENERATE}", file=sys.stderr)
            return 1
        return 0
    if current != text:
        DEFINITION.parent.mkdir(parents=True, exist_ok=True)
        DEFINITION.write_text(text)
        print(f"wrote {DEFINITION.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
