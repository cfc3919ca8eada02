"""A rate limit shared by the threads that send one file's chunks: a token bucket whose rate may
change at any moment (the user lowers the cap while the upload runs, the evening schedule begins,
another upload starts and takes its share of the line).

The bucket holds at most a quarter of a second of tokens (never less than one QUANTUM), so the
bytes handed to the sockets over any window of T seconds stay within rate × T + rate / 4. A
reader asks for a block and may be granted less: at 64 KiB/s a 1 MiB read would otherwise wait
sixteen seconds and then burst. Waiting is done in short sleeps, outside the lock, so a new rate
applies to waiting readers within SLEEP_MAX.

Pure: the clock and the sleep are injected, so tests drive it without threads or sockets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

QUANTUM = 64 * 1024  # the least a reader is granted (but for the file's last bytes)
BURST = 0.25  # seconds of tokens the bucket holds at most
SLEEP_MAX = 0.1


class Throttle:
    """Bytes per second for all the readers that share it; `rate` None: no limit."""

    def __init__(
        self,
        rate: float | None = None,
        *,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._lock = threading.Lock()
        self._now = now
        self._sleep = sleep
        self._rate = _valid(rate)
        self._tokens = 0.0
        self._stamp = now()
        self.granted = 0  # bytes, since it was made: what its readers sent

    @property
    def rate(self) -> float | None:
        return self._rate

    def set_rate(self, rate: float | None) -> None:
        """A new limit, for readers waiting now too. Tokens saved at the old rate are kept
        only up to the new bucket's size, so lowering the cap takes effect at once."""
        rate = _valid(rate)
        with self._lock:
            self._refill(self._now())
            self._rate = rate
            if rate is not None:
                self._tokens = min(self._tokens, _capacity(rate))

    def take(self, wanted: int) -> int:
        """Wait until bytes may go out; how many of `wanted` (at least one, unless `wanted` is
        zero)."""
        if wanted <= 0:
            return 0
        while True:
            with self._lock:
                rate = self._rate
                if rate is None:
                    self.granted += wanted
                    return wanted
                self._refill(self._now())
                least = min(wanted, QUANTUM)
                if self._tokens >= least:
                    granted = min(wanted, int(self._tokens))
                    self._tokens -= granted
                    self.granted += granted
                    return granted
                wait = (least - self._tokens) / rate
            self._sleep(min(wait, SLEEP_MAX))

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._stamp)
        self._stamp = now
        if self._rate is not None:
            self._tokens = min(
                _capacity(self._rate), self._tokens + elapsed * self._rate
            )


def _capacity(rate: float) -> float:
    return max(float(QUANTUM), rate * BURST)


def _valid(rate: float | None) -> float | None:
    if rate is None:
        return None
    if rate <= 0:
        raise ValueError(f"a rate limit must be positive, not {rate}")
    return float(rate)
