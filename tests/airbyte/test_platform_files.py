"""The Dockerfile and metadata.yaml: what the Airbyte platform builds and reads, checked without Docker."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest
import yaml
from airbyte_support import ROOT

pytestmark = pytest.mark.airbyte

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
METADATA = yaml.safe_load((ROOT / "metadata.yaml").read_text(encoding="utf-8"))["data"]


def test_the_image_runs_the_source_command_of_this_version() -> None:
    (entrypoint,) = re.findall(r"^ENTRYPOINT (.+)$", DOCKERFILE, re.MULTILINE)
    assert json.loads(entrypoint) == ["source-orderspace"]
    assert PROJECT["scripts"]["source-orderspace"] == "tap_orderspace.airbyte.entrypoint:main"
    assert 'ENV AIRBYTE_ENTRYPOINT="source-orderspace"' in DOCKERFILE
    assert METADATA["dockerImageTag"] == PROJECT["version"]
    assert f"LABEL io.airbyte.version={PROJECT['version']}" in DOCKERFILE
    assert f"LABEL io.airbyte.name={METADATA['dockerRepository']}" in DOCKERFILE
    assert METADATA["connectorType"] == "source"
    assert "language:python" in METADATA["tags"]


def test_the_files_the_image_copies_build_a_working_source(tmp_path: Path) -> None:
    """`docker build` copies only these into the context: a wheel built from them alone speaks the protocol."""
    context = tmp_path / "context"
    for line in re.findall(r"^COPY (.+)$", DOCKERFILE, re.MULTILINE):
        *sources, _ = line.split()
        for name in sources:
            source, target = ROOT / name, context / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, target)
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(context)], check=True)
    (wheel,) = dist.glob("tap_orderspace-*.whl")
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    subprocess.run([environment / "bin" / "pip", "install", "--quiet", str(wheel)], check=True)
    spec = subprocess.run(
        [environment / "bin" / "source-orderspace", "spec"], capture_output=True, text=True, check=True
    )
    (message,) = [json.loads(line) for line in spec.stdout.splitlines()]
    assert message["type"] == "SPEC"
    assert message["spec"]["connectionSpecification"]["properties"]["client_secret"]["airbyte_secret"] is True
