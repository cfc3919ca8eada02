"""The upload throttle, on a fake clock: what readers are granted, at a rate that changes."""

from __future__ import annotations

import pytest

from biliup_site.bilibili.throttle import QUANTUM, Throttle

MiB = 1024 * 1024


class Clock:
    """A clock that a reader's sleep moves forward."""

    def __init__(self) -> None:
        self.t = 0.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.t += seconds
        self.slept += seconds


def read(throttle: Throttle, clock: Clock, seconds: float, block: int = MiB) -> int:
    """Bytes granted to one reader asking for `block` at a time for `seconds` of the clock."""
    end = clock.t + seconds
    got = 0
    while clock.t < end:
        got += throttle.take(block)
    return got


def test_without_a_rate_everything_goes_at_once() -> None:
    clock = Clock()
    throttle = Throttle(now=clock, sleep=clock.sleep)
    assert throttle.take(5 * MiB) == 5 * MiB
    assert clock.slept == 0


def test_it_holds_the_rate_over_a_window() -> None:
    clock = Clock()
    throttle = Throttle(4 * MiB, now=clock, sleep=clock.sleep)
    got = read(throttle, clock, 10.0)
    # At most rate × T plus a quarter second of tokens, and no less than a block short of it.
    assert 40 * MiB - MiB <= got <= 40 * MiB + MiB


def test_a_slow_rate_grants_small_pieces_not_a_late_burst() -> None:
    clock = Clock()
    throttle = Throttle(64 * 1024, now=clock, sleep=clock.sleep)
    granted = throttle.take(MiB)
    assert granted == QUANTUM
    assert clock.t == pytest.approx(1.0)


def test_a_new_rate_applies_from_the_next_read() -> None:
    clock = Clock()
    throttle = Throttle(4 * MiB, now=clock, sleep=clock.sleep)
    read(throttle, clock, 5.0)
    throttle.set_rate(1 * MiB)
    # Tokens saved at the old rate are cut to the new bucket: no burst after lowering.
    assert read(throttle, clock, 10.0) <= 10 * MiB + MiB
    throttle.set_rate(None)
    before = clock.t
    assert throttle.take(8 * MiB) == 8 * MiB
    assert clock.t == before


def test_readers_share_the_rate() -> None:
    clock = Clock()
    throttle = Throttle(2 * MiB, now=clock, sleep=clock.sleep)
    got = [0, 0, 0]
    while clock.t < 10.0:
        for i in range(3):
            got[i] += throttle.take(MiB)
    assert sum(got) <= 20 * MiB + MiB
    assert min(got) > 0


@pytest.mark.parametrize("rate", [0, -1])
def test_a_rate_must_be_positive(rate: int) -> None:
    with pytest.raises(ValueError):
        Throttle(rate)
    with pytest.raises(ValueError):
        Throttle().set_rate(rate)
