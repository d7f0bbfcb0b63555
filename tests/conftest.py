"""Shared fixtures: a sandbox on 127.0.0.1 for each test that asks for one."""

from __future__ import annotations

import typing as t

import pytest
from orderspace_sandbox import Sandbox


@pytest.fixture
def sandbox() -> t.Iterator[Sandbox]:
    with Sandbox(seed=7, orders=450, rate_limit=None) as running:
        yield running
