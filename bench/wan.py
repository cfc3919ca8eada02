"""An emulated WAN link for bench/upload.py: a TCP proxy between an uploader and the fake's UPOS
host that behaves like a home line to Bilibili's upload hosts.

- A fixed one-way delay each way, as a delay line: what is read goes into a queue stamped with
  when it is due at the other end, and one coroutine per direction releases the queue's head
  when due. Reads go on meanwhile, so the delay adds latency and never limits the rate.
- A token bucket per connection (what an upload host gives one TCP connection) and one shared
  by all connections (the user's line), both on the client-to-server direction, the upstream:
  the responses are a few hundred bytes and cross the wider downstream, with the delay only.
- A new connection's first bytes are held for the handshakes (HANDSHAKE_RTTS round trips: TCP's,
  then TLS 1.3's one; TLS 1.2 would be two), as connecting costs an uploader before it sends.
  TCP's slow start and losses are not emulated: a connection is at its cap from its first byte.

It counts the connections used and, per connection, the bytes moved each way and the idle gaps
between chunks: from the end of a PUT's body to the first byte of the next PUT on the same
connection, as the proxy sees them enter the link (so one round trip, the server's answer and
the client's own pause). It assumes HTTP/1.1 without pipelining, as every client here speaks
it: a request lasts until the first bytes of its response come back.

asyncio, not threads: one event loop carries every connection, the delay line is a queue with
one timer at its head, and the token buckets are arithmetic on the loop's clock, with no locks.
Threads would take two per connection plus timers, and the GIL makes them no faster. The loop
runs in a thread of the harness's process (WanProxy.start), so its CPU counts for none of the
measured tools, which run in processes of their own.

    with WanProxy("http://127.0.0.1:8000", rtt_ms=40, conn_mibs=2, line_mibs=16) as proxy:
        ...  # send to proxy.url
        used = proxy.take()  # the connections since the last take()
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import statistics
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit

MiB = 1024 * 1024
READ_SIZE = 64 * 1024
# A bucket's burst: one read, so a connection idle for a while gets no head start worth a chunk.
BURST = READ_SIZE
HANDSHAKE_RTTS = 2
T = TypeVar("T")
# A direction stops reading once this much waits in its delay line (a stalled receiver).
MAX_QUEUED = 4 * MiB


class TokenBucket:
    """`rate` bytes a second, in bursts of at most `burst` bytes.

    take() charges the bytes at once and returns how long the caller waits: tokens may go
    negative, so callers sharing a bucket queue up in the order they took, each getting its
    turn (a fair share of the line) without a lock.
    """

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = float(burst), now

    def take(self, size: int, now: float) -> float:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= size
        return max(0.0, -self.tokens / self.rate)


@dataclass
class Connection:
    """What one connection moved; times are the proxy loop's clock, in seconds."""

    number: int
    opened: float
    closed: float | None = None
    up: int = 0  # bytes, client to server
    down: int = 0  # bytes, server to client
    requests: int = 0
    puts: int = 0
    first_up: float | None = None  # the first and last upstream bytes entering the link
    last_up: float | None = None
    gaps: list[float] = field(
        default_factory=list
    )  # seconds, PUT end to next PUT start
    in_request: bool = False
    last_was_put: bool = False
    up_by_second: dict[int, int] = field(
        default_factory=dict
    )  # whole seconds of the clock

    @property
    def up_rate(self) -> float:
        """Upstream MiB/s from its first byte to its last, idle gaps included."""
        if (
            self.first_up is None
            or self.last_up is None
            or self.last_up <= self.first_up
        ):
            return 0.0
        return self.up / MiB / (self.last_up - self.first_up)


@dataclass
class LinkUse:
    """The connections one upload used, summed up."""

    connections: int
    per_connection: float  # MiB/s, the mean over the connections that carried a PUT
    idle_per_chunk: float | None  # seconds, the mean gap between PUTs on a connection
    up: int  # bytes
    # MiB/s of all connections together over every whole 10 s window between the first and the
    # last upstream second (empty: the upload took less than 12 s).
    windows: list[float] = field(default_factory=list)


def summarize(connections: list[Connection]) -> LinkUse:
    carrying = [c for c in connections if c.puts]
    gaps = [g for c in connections for g in c.gaps]
    return LinkUse(
        connections=len(connections),
        per_connection=statistics.mean(c.up_rate for c in carrying)
        if carrying
        else 0.0,
        idle_per_chunk=statistics.mean(gaps) if gaps else None,
        up=sum(c.up for c in connections),
        windows=ten_second_windows(connections),
    )


WINDOW = 10


def ten_second_windows(connections: list[Connection]) -> list[float]:
    """MiB/s over each 10 s of the upload, sliding by a second; the first and the last second
    (partly idle) are left out."""
    total: dict[int, int] = {}
    for conn in connections:
        for second, nbytes in conn.up_by_second.items():
            total[second] = total.get(second, 0) + nbytes
    if not total:
        return []
    first, last = min(total) + 1, max(total) - 1
    return [
        sum(total.get(s, 0) for s in range(start, start + WINDOW)) / WINDOW / MiB
        for start in range(first, last - WINDOW + 2)
    ]


class WanProxy:
    """The emulated link in front of `target` (an http://host:port URL), served at `url`."""

    def __init__(
        self,
        target: str,
        *,
        rtt_ms: float,
        conn_mibs: float,
        line_mibs: float,
        handshake_rtts: float = HANDSHAKE_RTTS,
        host: str = "127.0.0.1",
    ) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rtt = rtt_ms / 1000
        self.conn_rate = conn_mibs * MiB
        self.line_rate = line_mibs * MiB
        self.handshake = handshake_rtts * self.rtt
        self.host = host
        self.port = 0
        self._connections: list[Connection] = []
        self._opened = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._line: TokenBucket | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- The harness's side: a loop in a thread of its own ---------------------------------

    def start(self) -> WanProxy:
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = self._loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(self._listen())
            except BaseException as exc:
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=serve, name="wan-proxy", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]
        return self

    def connections(self) -> list[Connection]:
        """Copies of the connections opened since the last take()."""
        return self._call(self._copy)

    def take(self) -> list[Connection]:
        """Copies of the connections opened since the last take(), which forgets them."""
        return self._call(self._take)

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._call(self._close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._thread = None

    def __enter__(self) -> WanProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _call(self, function: Callable[[], Awaitable[T]]) -> T:
        assert self._loop is not None, "the proxy is not running"
        return asyncio.run_coroutine_threadsafe(function(), self._loop).result(
            timeout=30
        )

    async def _copy(self) -> list[Connection]:
        return [dataclasses.replace(c, gaps=list(c.gaps)) for c in self._connections]

    async def _take(self) -> list[Connection]:
        taken = await self._copy()
        self._connections = []
        return taken

    # --- The loop's side ---------------------------------------------------------------------

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        self._line = TokenBucket(self.line_rate, BURST, loop.time())
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        assert self._server is not None
        self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()

    def _accept(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.create_task(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(
        self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter
    ) -> None:
        loop = asyncio.get_running_loop()
        self._opened += 1
        conn = Connection(number=self._opened, opened=loop.time())
        self._connections.append(conn)
        try:
            server, to_server = await asyncio.open_connection(*self.target)
        except OSError:
            # The target refused: the client sees its connection closed.
            conn.closed = loop.time()
            to_client.close()
            return
        bucket = TokenBucket(self.conn_rate, BURST, loop.time())
        try:
            # A reset on either side ends both directions (the TaskGroup cancels the other).
            async with asyncio.TaskGroup() as directions:
                directions.create_task(self._carry(conn, client, to_server, bucket))
                directions.create_task(self._carry(conn, server, to_client, None))
        except* OSError:
            pass
        finally:
            conn.closed = loop.time()
            writers = (to_client, to_server)
            for writer in writers:
                writer.close()
            for writer in writers:
                with contextlib.suppress(OSError, asyncio.CancelledError):
                    await writer.wait_closed()

    async def _carry(
        self,
        conn: Connection,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        bucket: TokenBucket | None,
    ) -> None:
        """Move one direction through the delay line until the source's EOF, which is passed
        on as a half close. `bucket` is the connection's own on the upstream, None downstream."""
        loop = asyncio.get_running_loop()
        one_way = self.rtt / 2
        line: asyncio.Queue[tuple[float, bytes]] = (
            asyncio.Queue()
        )  # (due, data); b"" is EOF
        queued = 0
        room = asyncio.Event()
        room.set()

        async def release() -> None:
            nonlocal queued
            while True:
                due, data = await line.get()
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if sink.can_write_eof():
                        sink.write_eof()
                    return
                sink.write(data)
                await sink.drain()
                queued -= len(data)
                if queued <= MAX_QUEUED:
                    room.set()

        async with asyncio.TaskGroup() as tasks:
            releaser = tasks.create_task(release())
            if bucket is not None:
                # The client "connects": nothing it sends leaves before the handshakes.
                await asyncio.sleep(conn.opened + self.handshake - loop.time())
            while True:
                await room.wait()
                data = await source.read(READ_SIZE)
                now = loop.time()
                if data and bucket is not None:
                    assert self._line is not None
                    wait = max(
                        bucket.take(len(data), now), self._line.take(len(data), now)
                    )
                    if wait:
                        await asyncio.sleep(wait)
                        now = loop.time()
                self._count(conn, data, now, upstream=bucket is not None)
                line.put_nowait((now + one_way, data))
                queued += len(data)
                if queued > MAX_QUEUED:
                    room.clear()
                if not data:
                    break
            await releaser

    @staticmethod
    def _count(conn: Connection, data: bytes, now: float, *, upstream: bool) -> None:
        if not data:
            return
        if not upstream:
            conn.down += len(data)
            conn.in_request = False  # the answer has begun: the request is over
            return
        if not conn.in_request:  # a new request's first bytes
            conn.in_request = True
            put = data.startswith(b"PUT ")
            if put and conn.last_was_put and conn.last_up is not None:
                conn.gaps.append(now - conn.last_up)
            conn.requests += 1
            conn.puts += put
            conn.last_was_put = put
            if conn.first_up is None:
                conn.first_up = now
        conn.up += len(data)
        conn.last_up = now
        second = int(now)
        conn.up_by_second[second] = conn.up_by_second.get(second, 0) + len(data)


def main() -> None:
    """`python -m bench.wan TARGET_URL RTT_MS,CONN_MIBS,LINE_MIBS [--port N]`: serve the link
    until Ctrl-C, then print what every connection moved."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("target")
    parser.add_argument("figures")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    rtt, conn, line = (float(x) for x in args.figures.split(","))
    proxy = WanProxy(args.target, rtt_ms=rtt, conn_mibs=conn, line_mibs=line)
    proxy.port = args.port
    with proxy:
        print(proxy.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
        for c in proxy.take():
            print(
                f"#{c.number}: {c.up} B up, {c.down} B down, {c.requests} requests, "
                f"{c.up_rate:.2f} MiB/s up"
            )


if __name__ == "__main__":
    main()
