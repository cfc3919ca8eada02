"""The fake's HTTP/1.1 transport: one threaded server for every host, the request handler that
applies injected faults (server.State.take_fault) before routing to FakeBilibili.handle, and the
framings a Bilibili host uses: sized bodies, chunked streams, and close-delimited streams (cdn.py's
cn-gotcha04), cut with a TCP reset where a fault or a control says so.
"""

from __future__ import annotations

import itertools
import logging
import re
import socket
import struct
import threading
import uuid
from collections.abc import Generator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from tests.fakebili import upos, upos_limits
from tests.fakebili.wire import Hangup, Request, Response, error_page, fail

if TYPE_CHECKING:
    from tests.fakebili.server import FakeBilibili, Fault

logger = logging.getLogger("tests.fakebili.server")

SECRET_PARAM = re.compile(r"\b(token=)[^&\s\"]+")


def fault_response(fault: Fault) -> Response:
    """What an http_status or code fault answers with (timeout, reset and drop_response answer
    nothing)."""
    if fault.kind == "http_status":
        # What an overloaded front end (nginx/Tengine) shows, unless `body` says otherwise.
        return error_page(fault.status, fault.body)
    data = None
    headers = []
    if fault.code == -352:
        # §8: risk control carries a voucher for the captcha flow, in data and a header.
        voucher = f"voucher_{uuid.uuid4()}"
        data = {"v_voucher": voucher}
        headers.append(("x-bili-gaia-vvoucher", voucher))
    # §8: -412 sometimes comes as a real HTTP 412.
    status = 412 if fault.code == -412 else 200
    response = fail(fault.code, fault.message, data, status=status)
    response.headers.extend(headers)
    return response


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], fake: FakeBilibili) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._resets: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def track(self, conn: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def reset_on_close(self, conn: socket.socket) -> None:
        # SO_LINGER 0: close() sends RST instead of FIN.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with self._connections_lock:
            self._resets.add(conn)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            reset = request in self._resets
            self._resets.discard(request)
        if reset:
            # No shutdown(SHUT_WR) first: that would send a FIN before the RST.
            self.close_request(request)
        else:
            super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut kept-alive connections, so a stopped fake answers nothing."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, like UPOS's Tengine: otherwise a body written after its headers waits on the
    # client's delayed ACK (~40 ms per answer), which caps an upload at ~150 MB/s a connection.
    disable_nagle_algorithm = True
    server: Server
    server_version = "Tengine"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        # JustOneAPI's token travels in the query: a request line never shows it.
        line = SECRET_PARAM.sub(r"\1***", format % args)
        logger.debug("%s %s", self.address_string(), line)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # Trailers end with an empty line.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        # A chunk PUT holds a place among its upload's PUTs from its headers to its answer, the
        # body's transfer included (upos max_connections).
        with upos_limits.put_slot(
            self.server.fake.state, self.command, self.path
        ) as refusal:
            if refusal is not None:
                self._read_body()
                self._send(refusal)
                return
            self._serve_one()

    def _serve_one(self) -> None:
        fake = self.server.fake
        if (
            self.command == "PUT"
            and self.path.startswith("/upos-")
            and upos.take_cut(fake.state, self.path)
        ):
            # A chunk cut in flight (upos cut_next): half the body, then a reset.
            self._read_half_body()
            self.server.reset_on_close(self.connection)
            self.close_connection = True
            return
        body = self._read_body()
        req = Request.parse(self.command, self.path, dict(self.headers.items()), body)
        req.client = self.client_address[0]
        fault = None
        if not req.path.startswith("/_fake/"):
            fault = fake.state.take_fault(req.path, req.method)
        if fault is not None and fault.kind == "timeout":
            fake.stopping.wait(fault.delay)
            self.close_connection = True
            return
        if fault is not None and fault.kind == "reset":
            self.server.reset_on_close(self.connection)
            self.close_connection = True
            return
        try:
            if fault is not None and fault.kind == "drop_response":
                response = fake.handle(req)
                if response.stream is not None:
                    response.stream.close()
                self.server.reset_on_close(self.connection)
                self.close_connection = True
                return
            response = fault_response(fault) if fault else fake.handle(req)
        except Exception:
            # A bug in the fake: say so loudly rather than pass for a Bilibili answer.
            logger.exception("fakebili: %s %s failed", req.method, req.path)
            response = Response(
                status=500, body=b"fakebili bug, see the log", content_type="text/plain"
            )
        self._send(response)

    def _read_half_body(self) -> None:
        remaining = int(self.headers.get("Content-Length") or 0) // 2
        while remaining > 0:
            block = self.rfile.read(min(remaining, 1 << 16))
            if not block:
                return
            remaining -= len(block)

    def _send(self, response: Response) -> None:
        if response.stream is not None:
            self._send_stream(response, response.stream)
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _send_stream(self, response: Response, stream: Generator[bytes]) -> None:
        # No Content-Length: chunked, then close; or close-delimited (response.close_delimited:
        # not chunked either, the body ends with the connection). A chunked body cut short
        # (Hangup, the fake stopping) lacks the last chunk, so the client sees a broken stream
        # rather than its end; a close-delimited one cannot tell them apart, as on the real CDN.
        self.close_connection = True
        chunked = not response.close_delimited
        try:
            first = b"" if self.command == "HEAD" else next(stream, None)
        except Exception:
            logger.exception("fakebili: streaming %s failed", self.path)
            self._send(Response(500, b"fakebili bug, see the log", "text/plain"))
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD" or first is None:
            stream.close()
            if first is None and chunked:
                self.wfile.write(b"0\r\n\r\n")
            return
        stopping = self.server.fake.stopping
        try:
            for chunk in itertools.chain([first], stream):
                if stopping.is_set():
                    return
                if chunk:
                    self.wfile.write(
                        b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk
                    )
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (Hangup, OSError):
            pass
        finally:
            stream.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve
