"""The Singer SDK's standard tap tests, run against a sandbox on 127.0.0.1."""

from __future__ import annotations

import atexit

import pytest
from orderspace_sandbox import Sandbox
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_orderspace.tap import TapOrderspace

# The SDK builds the test class at import, from a config that must already point at a
# running API; this sandbox lives for the test session.
_SANDBOX = Sandbox(seed=5, orders=120, rate_limit=None).start()
atexit.register(_SANDBOX.stop)

# `undocumented_fields` is null wherever the API sends only documented fields, and
# nothing is deleted in a first sync: the SDK warns that it has no value to test there.
pytestmark = pytest.mark.filterwarnings("ignore:No records were available to test")

TestTapOrderspace = get_tap_test_class(
    TapOrderspace,
    config={**_SANDBOX.config(), "max_requests_per_minute": 0, "start_date": "2000-01-01T00:00:00Z"},
    suite_config=SuiteConfig(ignore_no_records_for_streams=["deleted_records"]),
)
