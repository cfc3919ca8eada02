"""bench/wan.py's emulated link: its caps, its shared line, its delay and its handshake hold,
measured from outside with plain sockets (small transfers: the whole file runs in seconds).

Bounds are generous: the machine may be busy, and a late timer only ever makes the link slower.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.wan import MiB, WanProxy
from tests.polling import wait_for


class Target(socketserver.ThreadingTCPServer):
    """Answers each message (an 8-byte length, then that many bytes) with b"ok", any number of
    times on one connection; counts the connections that ended."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.ended = 0

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class Handler(socketserver.BaseRequestHandler):
    server: Target

    def handle(self) -> None:
        while True:
            header = self._read(8)
            if header is None:
                break
            if self._read(struct.unpack("!Q", header)[0]) is None:
                break
            self.request.sendall(b"ok")
        self.server.ended += 1

    def _read(self, size: int) -> bytes | None:
        data = bytearray()
        while len(data) < size:
            got = self.request.recv(min(size - len(data), 1 << 20))
            if not got:
                return None
            data += got
        return bytes(data)


@pytest.fixture
def target() -> Iterator[Target]:
    server = Target()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}
    )
    thread.start()
    yield server
    server.shutdown()
    thread.join()
    server.server_close()


def exchange(conn: socket.socket, size: int) -> None:
    """Send a message of `size` bytes and wait for its answer."""
    conn.sendall(struct.pack("!Q", size) + b"\0" * size)
    assert conn.recv(2) == b"ok"


def connect(proxy: WanProxy) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.port), timeout=30)


def test_one_connection_moves_its_cap(target: Target) -> None:
    with WanProxy(target.url, rtt_ms=10, conn_mibs=1, line_mibs=100) as proxy:
        started = time.monotonic()
        with connect(proxy) as conn:
            exchange(conn, 2 * MiB)
        # Less the handshakes (2 round trips) and the answer's (1).
        rate = 2 / (time.monotonic() - started - 3 * proxy.rtt)
        used = proxy.take()
    assert 0.85 <= rate <= 1.15, f"{rate:.2f} MiB/s through a 1 MiB/s cap"
    assert len(used) == 1
    assert used[0].up == 2 * MiB + 8
    assert 0.85 <= used[0].up_rate <= 1.15


def test_connections_share_the_line(target: Target) -> None:
    with WanProxy(target.url, rtt_ms=10, conn_mibs=10, line_mibs=2) as proxy:

        def upload(_: int) -> None:
            with connect(proxy) as conn:
                exchange(conn, MiB)

        started = time.monotonic()
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(upload, range(3)))
        rate = 3 / (time.monotonic() - started - 3 * proxy.rtt)
        used = proxy.take()
    assert 1.7 <= rate <= 2.3, f"{rate:.2f} MiB/s from 3 connections on a 2 MiB/s line"
    assert [c.up for c in used] == [MiB + 8] * 3


def test_a_round_trip_takes_the_rtt_and_the_first_waits_for_handshakes(
    target: Target,
) -> None:
    with WanProxy(target.url, rtt_ms=100, conn_mibs=10, line_mibs=10) as proxy:
        conn = connect(proxy)
        started = time.monotonic()
        exchange(conn, 1)
        first = time.monotonic() - started
        trips = []
        for _ in range(3):  # the same connection, kept alive
            started = time.monotonic()
            exchange(conn, 1)
            trips.append(time.monotonic() - started)
        conn.close()
        # Closing on one side closes the other.
        wait_for(lambda: target.ended == 1, 10, "the target saw the connection end")
        wait_for(
            lambda: proxy.connections()[0].closed, 10, "the proxy closed both sides"
        )
        used = proxy.take()
    assert 0.29 <= first <= 0.5, f"first answer after {first:.3f} s (3 RTTs: 0.3 s)"
    assert all(0.095 <= t <= 0.2 for t in trips), (
        f"round trips of {trips} s (RTT 0.1 s)"
    )
    assert len(used) == 1
    assert used[0].requests == 4


def test_ten_second_windows_leave_out_the_partial_first_and_last_seconds() -> None:
    from bench.wan import Connection, ten_second_windows

    a = Connection(number=1, opened=0.0)
    b = Connection(number=2, opened=0.0)
    # 14 s of 1 MiB/s on each connection, a partial second at each end.
    a.up_by_second = dict.fromkeys(range(100, 114), MiB) | {99: 10, 114: 10}
    b.up_by_second = dict.fromkeys(range(100, 114), MiB)
    windows = ten_second_windows([a, b])
    assert len(windows) == 5  # starting at 100 … 104
    assert windows == [2.0] * 5
    assert ten_second_windows([Connection(number=3, opened=0.0)]) == []
