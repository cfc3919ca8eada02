"""Sending a file as numbered chunks, `threads` at a time, read from disk as they go out.

Both uploaders (UPOS and the Open Platform) cut a file into parts and send each one with an
HTTP request; this module is the part they share: the parts, a file slice to stream as a request
body, and `send_parts()`, which keeps `threads` parts in flight, retries failures with jittered
backoff, moves to the next endpoint after several failures in a row, and reports each part the
server acknowledged so the caller can store it (a restarted worker re-sends only what was in
flight). Worker threads only talk HTTP; the calling thread does all the bookkeeping.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import requests
from requests.adapters import HTTPAdapter

from biliup_site.bilibili.concurrency import Concurrency
from biliup_site.bilibili.throttle import Throttle

logger = logging.getLogger(__name__)

# Bytes read from disk and handed to the socket at a time: large enough that Python's per-call
# cost vanishes next to the copy, small enough that memory stays flat at any thread count.
BLOCK = 1024 * 1024
# A part that failed this many times fails the file: retrying forever burns bandwidth (biliup
# users lost terabytes that way) and the job can be retried by hand.
MAX_ATTEMPTS = 10
# Consecutive failures on one endpoint before trying the next.
SWITCH_AFTER = 3
BACKOFF_CAP = 64.0
# The longest single wait when Bilibili asks us to slow down (rate limits, submit too often).
WAIT_CAP = 600.0
# The most parts of one file in flight, whatever a controller's ceiling becomes meanwhile (the
# pool starts a thread only when one is needed, so this costs nothing until used).
MAX_IN_FLIGHT = 64


@dataclass(frozen=True)
class Part:
    number: int  # 1-based, as both protocols count
    start: int
    end: int

    @property
    def index(self) -> int:
        return self.number - 1

    @property
    def size(self) -> int:
        return self.end - self.start


def split(size: int, chunk_size: int) -> list[Part]:
    """The parts of a file of `size` bytes: all `chunk_size` long but the last."""
    if chunk_size <= 0:
        raise ValueError(f"chunk size must be positive, not {chunk_size}")
    return [
        Part(n + 1, start, min(start + chunk_size, size))
        for n, start in enumerate(range(0, size, chunk_size))
    ] or [Part(1, 0, 0)]


class FileSlice:
    """Bytes start..end of a file as a request body: requests sees its length (so it sends
    Content-Length, not chunked encoding) and reads it block by block."""

    def __init__(self, path: Path, part: Part) -> None:
        self._file: BinaryIO = open(path, "rb")  # noqa: SIM115 (closed by close())
        self._file.seek(part.start)
        self._left = part.size

    def __len__(self) -> int:
        return self._left

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self._left:
            size = self._left
        throttle = getattr(_local, "throttle", None)
        if throttle is not None:
            size = throttle.take(size)
        data = self._file.read(size)
        if len(data) < size and size:
            raise OSError("the file became shorter while it was uploaded")
        self._left -= len(data)
        meter = getattr(_local, "meter", None)
        if meter is not None:
            meter.add(len(data))
        return data

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> FileSlice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _BlockAdapter(HTTPAdapter):
    # urllib3 reads a file-like body 16 KiB at a time by default; 1 MiB blocks cost a
    # sixty-fourth of the calls for the same copy.
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["blocksize"] = BLOCK
        super().init_poolmanager(*args, **kwargs)


def upload_session(user_agent: str) -> requests.Session:
    """A session for sending file bytes: keep-alive, large blocks, no cookies."""
    session = requests.Session()
    adapter = _BlockAdapter(pool_connections=4, pool_maxsize=32)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    return session


class _Meter:
    """Bytes handed to the sockets by the chunk threads of one send_parts() call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bytes = 0

    def add(self, nbytes: int) -> None:
        with self._lock:
            self._bytes += nbytes

    def take(self) -> int:
        with self._lock:
            nbytes, self._bytes = self._bytes, 0
        return nbytes


class ChunkError(Exception):
    """A part could not be sent. `retry`: worth sending again (network, timeout, 5xx)."""

    def __init__(self, message: str, retry: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.retry = retry


class Cancelled(Exception):
    """The job was cancelled (or the worker is stopping) while parts were in flight."""


def backoff(attempt: int, base: float, cap: float = BACKOFF_CAP) -> float:
    """Seconds to wait before attempt `attempt + 1`: doubling from `base`, capped, with jitter so
    that parallel parts (and parallel workers) do not all come back at the same moment."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return delay * random.uniform(0.5, 1.0)


Send = Callable[[Part, str], None]


@dataclass
class Endpoints:
    """The endpoints a file may be sent to, the current one first; failover moves along."""

    urls: list[str]
    current: int = 0
    failures: int = 0  # in a row, on the current endpoint

    @property
    def url(self) -> str:
        return self.urls[self.current]

    def failed(self) -> bool:
        """Count a failure; True if that moved to the next endpoint."""
        self.failures += 1
        if self.failures < SWITCH_AFTER or len(self.urls) < 2:
            return False
        self.current = (self.current + 1) % len(self.urls)
        self.failures = 0
        return True

    def succeeded(self) -> None:
        self.failures = 0


def send_parts(
    parts: Iterable[Part],
    send: Send,
    *,
    threads: int,
    endpoints: Endpoints,
    retry_base: float,
    on_ack: Callable[[Part], None],
    on_failure: Callable[[Part, ChunkError, bool], None] = lambda p, e, s: None,
    should_stop: Callable[[], bool] = lambda: False,
    tick: Callable[[], None] = lambda: None,
    controller: Concurrency | None = None,
    throttle: Throttle | None = None,
) -> None:
    """Send every part, at most `threads` at once, each by `send(part, endpoint_url)`; with a
    `controller`, at most `controller.limit` at once (`threads` unused), the controller fed
    with the bytes sent and the failures; with a `throttle`, all parts together read from the
    file no faster than its rate (which the caller may change meanwhile, from tick()).

    `send` raises ChunkError for a failure; retryable ones are sent again after a backoff, up to
    MAX_ATTEMPTS, and SWITCH_AFTER failures in a row move to the next endpoint. Any other
    exception (an expired auth, say) stops everything and is raised once the parts in flight
    have finished. on_ack(part) runs in this thread for each acknowledged part; on_failure(part,
    error, switched) for each failure; tick() about every half second (progress, heartbeat);
    should_stop() is asked as often and raises Cancelled when true.
    """
    waiting: list[tuple[float, Part]] = [(0.0, p) for p in parts]
    attempts: dict[int, int] = {}
    running: dict[Future[tuple[str, BaseException | None]], Part] = {}
    fatal: BaseException | None = None
    meter = _Meter() if controller is not None else None

    def attempt(part: Part) -> tuple[str, BaseException | None]:
        # The endpoint is read when the part goes out, not when it was queued: a failover
        # meanwhile applies to it.
        url = endpoints.url
        _local.meter, _local.throttle = meter, throttle
        try:
            send(part, url)
        except Exception as exc:  # noqa: BLE001 (judged in the calling thread)
            return url, exc
        finally:
            _local.meter = _local.throttle = None
        return url, None

    size = threads if controller is None else MAX_IN_FLIGHT
    pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="chunk")
    try:
        while waiting or running:
            now = time.monotonic()
            if fatal is None and should_stop():
                fatal = Cancelled()
            if meter is not None and controller is not None:
                controller.add(meter.take())
                controller.update(more_waiting=bool(waiting))
            if fatal is None:
                # Twice `threads` queued: a thread that finishes a part takes the next at once,
                # without waiting for this thread's bookkeeping. Still only `threads` are sent
                # at a time (the pool's size), so a crash re-sends at most that many. With a
                # controller exactly `limit` are submitted (none while more are in flight, as
                # after the limit dropped).
                queued = 2 * threads if controller is None else controller.limit
                ready = [w for w in waiting if w[0] <= now]
                for item in ready[: max(0, queued - len(running))]:
                    waiting.remove(item)
                    running[pool.submit(attempt, item[1])] = item[1]
                if controller is not None:
                    controller.in_flight = len(running)
            else:
                for future in [f for f in running if f.cancel()]:
                    del running[future]
            if not running:
                if fatal is not None:
                    break
                next_at = min(w[0] for w in waiting)
                time.sleep(min(0.5, max(0.0, next_at - now)))
                tick()
                continue
            done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                part = running.pop(future)
                url, error = future.result()
                if error is None:
                    if url == endpoints.url:
                        endpoints.succeeded()
                    on_ack(part)
                elif isinstance(error, ChunkError):
                    if controller is not None:
                        controller.failed()
                    attempts[part.number] = attempts.get(part.number, 0) + 1
                    switched = url == endpoints.url and endpoints.failed()
                    on_failure(part, error, switched)
                    if not error.retry or attempts[part.number] >= MAX_ATTEMPTS:
                        fatal = fatal or ChunkError(
                            f"part {part.number} failed {attempts[part.number]} times,"
                            f" last: {error.message}",
                            retry=False,
                        )
                        continue
                    delay = backoff(attempts[part.number], retry_base)
                    waiting.append((time.monotonic() + delay, part))
                else:
                    fatal = fatal or error
            tick()
        if fatal is not None:
            raise fatal
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_local = threading.local()


def thread_session(user_agent: str) -> requests.Session:
    """This thread's upload session: each chunk thread keeps its own connection alive."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = upload_session(user_agent)
    return session
