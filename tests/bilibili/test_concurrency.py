"""The adaptive concurrency controller, driven by a fake clock and a model of a link: every
connection moves at most `cap` bytes a second, all of them together at most `line`."""

from __future__ import annotations

from biliup_site.bilibili.concurrency import Concurrency

MiB = 1024 * 1024


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def run(
    controller: Concurrency,
    clock: Clock,
    *,
    cap: float,
    line: float,
    seconds: float,
    step: float = 0.25,
) -> list[int]:
    """Feed `seconds` of sending at the controller's limit; the limits seen, one per step."""
    seen = []
    for _ in range(int(seconds / step)):
        clock.t += step
        controller.add(int(min(controller.limit * cap, line) * step))
        seen.append(controller.update(more_waiting=True))
    return seen


def test_it_starts_at_start_within_the_ceiling() -> None:
    assert Concurrency(3, 8, now=Clock()).limit == 3
    assert Concurrency(12, 8, now=Clock()).limit == 8
    assert Concurrency(0, 8, now=Clock()).limit == 1


def test_it_grows_while_the_total_grows_and_holds_at_the_line() -> None:
    clock = Clock()
    controller = Concurrency(3, 16, now=clock)
    run(controller, clock, cap=2 * MiB, line=16 * MiB, seconds=30)
    # 16 MiB/s of 2 MiB/s connections: 8 fill it, a ninth brings nothing.
    assert controller.limit == 8
    # It tries a ninth once (3 s: one interval to settle, one to measure), then stays at 8.
    seen = run(controller, clock, cap=2 * MiB, line=16 * MiB, seconds=20)
    assert set(seen) <= {8, 9} and seen.count(9) <= 12 and seen[-1] == 8


def test_it_stops_at_the_ceiling() -> None:
    clock = Clock()
    controller = Concurrency(3, 5, now=clock)
    seen = run(controller, clock, cap=1 * MiB, line=100 * MiB, seconds=30)
    assert max(seen) == 5
    assert controller.limit == 5


def test_it_does_not_grow_without_parts_left() -> None:
    clock = Clock()
    controller = Concurrency(2, 8, now=clock)
    for _ in range(40):
        clock.t += 0.25
        controller.add(int(2 * MiB * 0.25))
        controller.update(more_waiting=False)
    assert controller.limit == 2


def test_it_ignores_a_noisy_gain_below_half_the_proportional_one() -> None:
    clock = Clock()
    controller = Concurrency(4, 16, now=clock)
    # A line of 4.3 connections: the fifth brings 7 %, less than 1/(2 x 4).
    run(controller, clock, cap=1 * MiB, line=4.3 * MiB, seconds=30)
    assert controller.limit == 4


def test_it_halves_on_errors_once_per_interval_and_holds() -> None:
    clock = Clock()
    controller = Concurrency(3, 16, now=clock, hold=10.0)
    run(controller, clock, cap=1 * MiB, line=100 * MiB, seconds=12)
    before = controller.limit
    assert before >= 6
    for _ in range(5):  # a burst of refusals: the parts that went out together
        controller.failed()
    assert controller.limit == (before + 1) // 2
    seen = run(controller, clock, cap=1 * MiB, line=100 * MiB, seconds=9)
    assert set(seen) == {(before + 1) // 2}
    # After the hold it grows again, one at a time, and stays below the refused level.
    seen = run(controller, clock, cap=1 * MiB, line=100 * MiB, seconds=60)
    assert max(seen) == before - 1


def test_it_never_goes_below_one() -> None:
    clock = Clock()
    controller = Concurrency(2, 8, now=clock)
    for _ in range(5):
        controller.failed()
        clock.t += 2
    assert controller.limit == 1


def test_a_lower_ceiling_brings_the_level_down_at_once() -> None:
    clock = Clock()
    controller = Concurrency(8, 16, now=clock)
    controller.set_ceiling(3)
    assert (controller.limit, controller.ceiling) == (3, 3)
    # Raised again (another upload ended): it may grow to the new ceiling, not past it.
    controller.set_ceiling(6)
    seen = run(controller, clock, cap=1 * MiB, line=100 * MiB, seconds=30)
    assert max(seen) == 6


def test_reopened_it_grows_again_without_waiting_for_the_probe() -> None:
    clock = Clock()
    controller = Concurrency(2, 16, now=clock)
    # A throttled link: the total does not grow with connections, so it settles.
    run(controller, clock, cap=1 * MiB, line=2 * MiB, seconds=20)
    settled = controller.limit
    assert settled <= 3
    controller.reopen()  # the cap is lifted
    seen = run(controller, clock, cap=1 * MiB, line=8 * MiB, seconds=10)
    assert max(seen) >= 7, seen
