"""Request pacing: one pacer per tap run, shared by every stream.

Orderspace allows a number of requests per minute and demands a pause of at least a
minute after a 429. Requests are spaced evenly rather than sent in bursts, so the
server never sees more than the limit in any window, even when a request arrives a
little late and the next one on time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

WINDOW_SECONDS = 60.0
# Spacing requests 1% wider than the exact limit absorbs up to ~0.6 s of network
# jitter per minute before the server could count one request too many.
SPACING_MARGIN = 1.01
MAX_BACKOFF_SECONDS = 30.0


def backoff_wait(retry: int, rng: random.Random, cap: float = MAX_BACKOFF_SECONDS) -> float:
    """Seconds before retry number `retry` (1-based): exponential from 1 s, capped, full jitter.

    Full jitter (a uniform draw below the exponential bound) keeps clients that failed
    together from retrying together.
    """
    return rng.uniform(0, min(cap, 2.0 ** (retry - 1)))


class RequestPacer:
    """Decides when the next request may be sent."""

    def __init__(
        self,
        max_requests_per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = (
            WINDOW_SECONDS / max_requests_per_minute * SPACING_MARGIN if max_requests_per_minute > 0 else 0.0
        )
        self._clock = clock
        self._sleep = sleep
        self._next_send_at = 0.0
        self._hold_until = 0.0

    def wait_for_turn(self) -> None:
        """Block until a request may be sent, then claim that slot."""
        now = self._clock()
        ready_at = max(self._next_send_at, self._hold_until)
        if ready_at > now:
            self._sleep(ready_at - now)
            now = ready_at
        self._next_send_at = now + self.interval

    def hold(self, seconds: float) -> None:
        """Send nothing for `seconds` from now (after a 429)."""
        self._hold_until = max(self._hold_until, self._clock() + seconds)
