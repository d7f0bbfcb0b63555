"""The Singer SDK's standard tap tests, run against a sandbox on 127.0.0.1."""

from __future__ import annotations

import atexit

from orderspace_sandbox import Sandbox
from singer_sdk.testing import get_tap_test_class

from tap_orderspace.tap import TapOrderspace

# The SDK builds the test class at import, from a config that must already point at a
# running API; this sandbox lives for the test session.
_SANDBOX = Sandbox(seed=5, orders=120, rate_limit=None).start()
atexit.register(_SANDBOX.stop)

TestTapOrderspace = get_tap_test_class(
    TapOrderspace,
    config={**_SANDBOX.config(), "max_requests_per_minute": 0, "start_date": "2000-01-01T00:00:00Z"},
)
