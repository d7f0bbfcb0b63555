"""The pacer on a fake clock: spacing, the 60-second window, and holds after a 429."""

from __future__ import annotations

from tap_orderspace.pacing import WINDOW_SECONDS, RequestPacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds


def send_times(pacer: RequestPacer, clock: FakeClock, count: int) -> list[float]:
    times = []
    for _ in range(count):
        pacer.wait_for_turn()
        times.append(clock.now)
    return times


def test_never_more_than_the_limit_in_any_window() -> None:
    clock = FakeClock()
    pacer = RequestPacer(60, clock=clock, sleep=clock.sleep)
    times = send_times(pacer, clock, 300)
    for i, start in enumerate(times):
        in_window = [t for t in times[i:] if t < start + WINDOW_SECONDS]
        assert len(in_window) <= 60


def test_reaches_ninety_nine_percent_of_the_allowed_rate() -> None:
    clock = FakeClock()
    pacer = RequestPacer(600, clock=clock, sleep=clock.sleep)
    times = send_times(pacer, clock, 1201)
    per_minute = (len(times) - 1) / (times[-1] - times[0]) * 60
    assert 0.98 * 600 <= per_minute <= 600


def test_no_waiting_when_requests_are_already_slower_than_the_limit() -> None:
    clock = FakeClock()
    pacer = RequestPacer(60, clock=clock, sleep=clock.sleep)
    pacer.wait_for_turn()
    clock.now += 5
    before = clock.now
    pacer.wait_for_turn()
    assert clock.now == before


def test_hold_blocks_every_request_until_it_ends() -> None:
    clock = FakeClock()
    pacer = RequestPacer(6000, clock=clock, sleep=clock.sleep)
    pacer.wait_for_turn()
    pacer.hold(60)
    held_from = clock.now
    pacer.wait_for_turn()
    assert clock.now >= held_from + 60


def test_zero_turns_pacing_off() -> None:
    clock = FakeClock()
    pacer = RequestPacer(0, clock=clock, sleep=clock.sleep)
    assert send_times(pacer, clock, 50) == [1000.0] * 50
