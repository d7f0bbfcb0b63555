"""The Airbyte CDK's standard source tests, run by `.venv-airbyte`'s pytest against `source-orderspace`.

Not collected by the project's own pytest (the name is not `test_*.py`): `test_cdk_standard_tests.py`
starts the sandbox, writes a connector directory (`metadata.yaml`, `acceptance-test-config.yml`, the
sandbox's config and a wrong-secret one) and runs

    .venv-airbyte/bin/python -m pytest -p airbyte_cdk.test.standard_tests.pytest_hooks cdk_standard_suite.py

with ORDERSPACE_CONNECTOR_ROOT and ORDERSPACE_SOURCE set. The suite drives connectors in-process through
the CDK's entrypoint; `SourceOrderspace` hands each command to the real executable and passes every
line it writes back, parsed by the CDK's own serializer, so what the suite checks is the program's output.
Its Docker image tests skip without Docker.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
import typing as t
from collections.abc import Iterator, Mapping
from pathlib import Path

from airbyte_cdk.models import (  # type: ignore[import-not-found]
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteStateMessage,
    AirbyteStateMessageSerializer,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
    ConnectorSpecification,
    Type,
)
from airbyte_cdk.sources import Source  # type: ignore[import-not-found]
from airbyte_cdk.test.standard_tests import SourceTestSuiteBase  # type: ignore[import-not-found]

TIMEOUT = 600


class SourceOrderspace(Source):  # type: ignore[misc]
    """`source-orderspace` as the CDK's entrypoint expects a source object to be."""

    def _run(self, command: str, **documents: t.Any) -> list[AirbyteMessage]:
        with tempfile.TemporaryDirectory() as directory:
            args = [os.environ["ORDERSPACE_SOURCE"], command]
            for name, document in documents.items():
                path = Path(directory) / f"{name}.json"
                path.write_text(json.dumps(document), encoding="utf-8")
                args += [f"--{name}", str(path)]
            done = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, check=False)
        return [AirbyteMessageSerializer.load(json.loads(line)) for line in done.stdout.splitlines()]

    def _one(self, messages: list[AirbyteMessage], kind: t.Any) -> AirbyteMessage:
        (message,) = [m for m in messages if m.type == kind]
        return message

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        return self._one(self._run("spec"), Type.SPEC).spec

    def check(self, logger: logging.Logger, config: Mapping[str, t.Any]) -> AirbyteConnectionStatus:
        return self._one(self._run("check", config=dict(config)), Type.CONNECTION_STATUS).connectionStatus

    def discover(self, logger: logging.Logger, config: Mapping[str, t.Any]) -> AirbyteCatalog:
        return self._one(self._run("discover", config=dict(config)), Type.CATALOG).catalog

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, t.Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage]:
        documents: dict[str, t.Any] = {
            "config": dict(config),
            "catalog": ConfiguredAirbyteCatalogSerializer.dump(catalog),
        }
        if state:
            documents["state"] = [AirbyteStateMessageSerializer.dump(message) for message in state]
        yield from self._run("read", **documents)


class TestSourceOrderspace(SourceTestSuiteBase):  # type: ignore[misc]
    connector = SourceOrderspace

    @classmethod
    def get_connector_root_dir(cls) -> Path:
        return Path(os.environ["ORDERSPACE_CONNECTOR_ROOT"])
