"""The Airbyte CDK's standard source tests (`airbyte_cdk/test/standard_tests/`) pass against the sandbox."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from airbyte_support import AIRBYTE_PYTHON, DRIVER_TIMEOUT, ROOT, SOURCE, require_airbyte_venv, source_config
from orderspace_sandbox import Sandbox

pytestmark = pytest.mark.airbyte

SUITE = Path(__file__).resolve().parent / "cdk_standard_suite.py"
# Streams a first read of the sandbox leaves empty: nothing has been deleted yet.
EMPTY_STREAMS = ("deleted_records",)
STANDARD_TESTS = {
    "test_spec",
    "test_config_matches_spec",
    "test_check",
    "test_discover",
    "test_basic_read",
    "test_fail_read_with_bad_catalog",
}
ACCEPTANCE_TEST_CONFIG = f"""\
connector_image: tap-orderspace/source-orderspace:dev
test_strictness_level: low
acceptance_tests:
  spec:
    tests:
      - config_path: secrets/config.json
  connection:
    tests:
      - config_path: secrets/config.json
        status: succeed
      - config_path: secrets/invalid_config.json
        status: failed
  discovery:
    tests:
      - config_path: secrets/config.json
  basic_read:
    tests:
      - config_path: secrets/config.json
        empty_streams:
{"".join(f"          - name: {name}{chr(10)}" for name in EMPTY_STREAMS)}"""


def test_the_cdk_standard_source_tests_pass(tmp_path: Path) -> None:
    python = require_airbyte_venv()
    if not (python.parent / "pytest").exists():
        pytest.skip(".venv-airbyte has no pytest: `python3 scripts/test.py` installs it with PyAirbyte")
    connector = tmp_path / "source-orderspace"
    # Run from a copy, away from the project's conftest.py, which needs the dev virtualenv.
    suite = shutil.copy2(SUITE, tmp_path / "test_standard_source.py")
    (connector / "secrets").mkdir(parents=True)
    shutil.copy2(ROOT / "metadata.yaml", connector / "metadata.yaml")
    (connector / "acceptance-test-config.yml").write_text(ACCEPTANCE_TEST_CONFIG, encoding="utf-8")
    with Sandbox(seed=7, orders=60, rate_limit=None) as sandbox:
        config = source_config(sandbox)
        (connector / "secrets" / "config.json").write_text(json.dumps(config), encoding="utf-8")
        wrong = {**config, "client_secret": "wrong-secret-7f3a"}
        (connector / "secrets" / "invalid_config.json").write_text(json.dumps(wrong), encoding="utf-8")
        env = {
            **os.environ,
            "ORDERSPACE_CONNECTOR_ROOT": str(connector),
            "ORDERSPACE_SOURCE": str(SOURCE),
            "AIRBYTE_OFFLINE_MODE": "1",
            "DO_NOT_TRACK": "1",
        }
        done = subprocess.run(
            [
                str(AIRBYTE_PYTHON),
                *("-m", "pytest", "-p", "airbyte_cdk.test.standard_tests.pytest_hooks", str(suite)),
                *("-q", "-rA", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "-c", os.devnull),
                # The image tests build the connector's image with Docker from templates on GitHub.
                *("-m", "not image_tests"),
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=DRIVER_TIMEOUT,
            check=False,
        )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    passed = set(re.findall(r"^PASSED \S+::TestSourceOrderspace::(\w+)", done.stdout, re.MULTILINE))
    assert passed >= STANDARD_TESTS, done.stdout[-3000:]
    assert "wrong-secret-7f3a" not in done.stdout
