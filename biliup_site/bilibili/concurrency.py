"""How many parts of one file may be in flight: a controller that adds connections while the
total throughput still grows and backs off when the upload host refuses or fails.

Bilibili's upload hosts give each TCP connection about 1–2 MB/s while a user's line may carry
far more (biliup-rs#30: "3 MB/s with 3 threads on a 25 MB/s line"), so a fixed thread count
either wastes the line or overloads it. The controller starts at `start` (the configured
`threads`) and works in intervals of the clock: the first interval after a change only lets the
new level settle (a new connection fills its socket buffers at once, which would look like a
gain); the next measures the bytes sent per second, all connections together. If the total
grew by at least half of what the added connections would bring on an unlimited line
((new - old) / (2 old)), the level is kept and it grows again: doubling while the gain stays
near-proportional (a line far from full, as TCP's slow start), then one at a time; otherwise it
returns to the best level and holds there (and probes one more after PROBE_AFTER, since lines
change). An error, a refusal or a timeout halves the level (rounding up), at most once per
interval, caps growth below the refused level for REFUSED_HOLD and holds all growth for `hold`
seconds. The level stays within 1..ceiling.

Pure and deterministic: the caller feeds bytes (add), failures (failed) and asks update() with
its own clock injected, so tests drive it without sockets.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

# Gain at least this share of the proportional one while doubling, else grow one at a time.
SLOW_START_SHARE = 0.75
PROBE_AFTER = 30.0
REFUSED_HOLD = 120.0


class Concurrency:
    """The number of parts allowed in flight (`limit`), adapted to the measured throughput."""

    def __init__(
        self,
        start: int,
        ceiling: int,
        *,
        now: Callable[[], float] = time.monotonic,
        interval: float = 1.5,
        hold: float = 10.0,
    ) -> None:
        self.ceiling = max(1, ceiling)
        self.limit = min(max(1, start), self.ceiling)
        # Parts in flight now, as the sender last counted them: fewer than `limit` at a file's
        # end, which other uploads sharing the line may then use.
        self.in_flight = 0
        self._now = now
        self._interval = interval
        self._hold = hold
        self._mark = now()
        self._bytes = 0
        self._settling = True
        # The level measured before this one, and its rate (None: nothing measured yet).
        self._previous: tuple[int, float] | None = None
        self._best = (self.limit, 0.0)
        self._slow_start = True
        self._plateau_at = -math.inf
        self._hold_until = -math.inf
        self._refused: tuple[int, float] | None = None  # level, when
        self._shrunk_at = -math.inf

    def add(self, nbytes: int) -> None:
        """Bytes sent (all connections)."""
        self._bytes += nbytes

    def failed(self) -> None:
        """A part failed: an error, a refusal (429, 503, a throttle) or a timeout."""
        now = self._now()
        if now - self._shrunk_at < self._interval:
            # The other parts that went out at the old level fail too: one cut per interval.
            return
        self._refused = (self.limit, now)
        self._change(math.ceil(self.limit / 2), now)
        self._shrunk_at = now
        self._hold_until = now + self._hold
        self._slow_start = False
        self._previous = None
        self._best = (self.limit, 0.0)

    def set_ceiling(self, ceiling: int) -> None:
        """A new ceiling: the connections this file may have now (its share of the global
        budget and of its line, which other uploads starting or ending change). A level above
        it drops to it at once."""
        self.ceiling = max(1, ceiling)
        if self.limit > self.ceiling:
            self._change(self.ceiling, self._now())
            self._previous = None
            self._best = (self.limit, 0.0)

    def reopen(self) -> None:
        """What held the level may be gone (a rate cap raised or lifted): measure and grow
        again now rather than after PROBE_AFTER, doubling while the gain stays near-proportional."""
        self._plateau_at = -math.inf
        self._slow_start = True
        self._previous = None
        self._best = (self.limit, 0.0)
        self._mark, self._bytes, self._settling = self._now(), 0, True

    def update(self, more_waiting: bool) -> int:
        """The limit now; `more_waiting`: parts are left beyond those in flight (growing is
        pointless without)."""
        now = self._now()
        elapsed = now - self._mark
        if elapsed < self._interval:
            return self.limit
        rate = self._bytes / elapsed
        self._mark, self._bytes = now, 0
        if self._settling:
            self._settling = False
            return self.limit
        self._decide(rate, now, more_waiting)
        return self.limit

    def _decide(self, rate: float, now: float, more_waiting: bool) -> None:
        if rate <= 0:
            return  # nothing went out (every part waiting out a backoff): no evidence
        level = self.limit
        if self._previous is not None:
            old_level, old_rate = self._previous
            if level > old_level:
                gain = rate / old_rate - 1 if old_rate > 0 else math.inf
                wanted = (level - old_level) / old_level
                fit = math.ceil(rate * old_level / old_rate - 0.1) if old_rate else 0
                if gain < wanted / 2 and old_level < fit < level:
                    # Doubling overshot the line: as many connections as the total measured
                    # needs at the old rate per connection, then one at a time from there.
                    self._slow_start = False
                    self._change(fit, now)
                    return
                if gain < wanted / 2:
                    # No longer worth it: back to the best level, and stay.
                    self._previous = None
                    self._plateau_at = now
                    self._slow_start = False
                    self._change(self._best[0], now)
                    return
                self._slow_start = (
                    self._slow_start and gain >= wanted * SLOW_START_SHARE
                )
        if rate >= self._best[1] or level == self._best[0]:
            self._best = (level, rate)
        self._previous = (level, rate)
        if more_waiting and self._may_grow(now):
            step = level if self._slow_start else 1
            self._change(min(level + step, self._top(now)), now)

    def _may_grow(self, now: float) -> bool:
        if now < self._hold_until:
            return False
        if now - self._plateau_at < PROBE_AFTER:
            return False
        return self.limit < self._top(now)

    def _top(self, now: float) -> int:
        if self._refused is not None and now - self._refused[1] < REFUSED_HOLD:
            return max(1, min(self.ceiling, self._refused[0] - 1))
        return self.ceiling

    def _change(self, limit: int, now: float) -> None:
        if limit != self.limit:
            self.limit = limit
            self._mark, self._bytes, self._settling = now, 0, True
