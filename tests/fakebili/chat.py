"""The live chat (danmaku) socket: a WebSocket server on its own port, as strict as the site's.

getDanmuInfo (rooms.py) hands out a token and this server's host and port. The socket speaks the
broadcast protocol: every packet is a 16-byte big-endian header (packet length, header length
16, protover, op, sequence) and a body. The client's first frame must be an auth (op 7) within
`auth_timeout` (10 s), JSON {uid, roomid, protover, buvid, platform, type, key}; it is refused
(op 8 {"code": -101}, then close) unless the key is one getDanmuInfo issued for that room, to that
viewer (uid, 0 logged out) and with that buvid3 (rule danmu_buvid3). Then a heartbeat (op 2)
gets the popularity (op 3, a 4-byte count); none for `heartbeat_timeout` (70 s) closes the socket.
Messages are op 5: for protover 2 one packet whose body is the zlib of several inner packets
(protover 0, one message each), for 3 the same with brotli, otherwise one plain packet per
message. As on the site, a lone noise message (INTERACT_WORD…) comes plain on any connection.

The controls (ChatControls, mixed into FakeBilibili, and CONTROL_ROUTES under /_fake/chat/) send
danmaku, super chats, gifts, guard buys and noise to a room's connections, list what was sent and
who is connected, drop connections, shorten the timeouts (configure_chat), and set a room's auto
chatter: one DANMU_MSG every `danmaku_interval` seconds while the room is live (configure_room).
The messages' JSON is chat_messages.py's. The path is /sub only; the roomid must be the long id.

Reference: /work/shared/reference/bilibili-2026.md "Live chat (danmaku)".
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import brotli
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from tests.fakebili.chat_messages import NOISE_CMDS, message, number, record
from tests.fakebili.wire import ControlError

if TYPE_CHECKING:
    from websockets.http11 import Request as WsRequest
    from websockets.http11 import Response as WsResponse

    from tests.fakebili.server import State

logger = logging.getLogger(__name__)

HEADER = struct.Struct(">IHHII")
OP_HEARTBEAT, OP_HEARTBEAT_REPLY, OP_MESSAGE, OP_AUTH, OP_AUTH_REPLY = 2, 3, 5, 7, 8
AUTH_TIMEOUT = 10.0
HEARTBEAT_TIMEOUT = 70.0
PATH = "/sub"
AUTH_FIELDS = ("uid", "roomid", "protover", "buvid", "platform", "type", "key")
# How often a connection's thread looks up from its socket (new timeouts, the fake stopping).
POLL = 0.5
# A demo runs for hours: the log keeps each room's latest messages only.
SENT_LOG_LIMIT = 5000

# The wire


def packet(op: int, body: bytes, protover: int = 0, sequence: int = 1) -> bytes:
    return (
        HEADER.pack(HEADER.size + len(body), HEADER.size, protover, op, sequence) + body
    )


def frames(messages: list[dict[str, Any]], protover: int) -> list[bytes]:
    """The WebSocket frames that carry `messages`, sent together, to a `protover` connection."""
    bodies = [json.dumps(m, ensure_ascii=False).encode() for m in messages]
    plain = [packet(OP_MESSAGE, body) for body in bodies]
    lone_noise = len(messages) == 1 and messages[0]["cmd"] in NOISE_CMDS
    if protover not in (2, 3) or lone_noise:
        return plain
    inner = b"".join(plain)
    compressed = zlib.compress(inner) if protover == 2 else brotli.compress(inner)
    return [packet(OP_MESSAGE, compressed, protover)]


def _parse(data: bytes | str) -> tuple[int, bytes]:
    """A client's frame: one packet, its op and body. ValueError if it is not one."""
    if isinstance(data, str):
        raise ValueError("a text frame")
    if len(data) < HEADER.size:
        raise ValueError(f"a {len(data)}-byte frame")
    length, header_length, _protover, op, _sequence = HEADER.unpack_from(data)
    if header_length != HEADER.size or length != len(data):
        raise ValueError(f"a bad header (length {length}, header {header_length})")
    return op, data[HEADER.size :]


# State


@dataclass
class Connection:
    """An authed chat socket."""

    ws: ServerConnection
    room_id: int
    uid: int
    buvid: str
    protover: int
    connected_at: float
    heartbeats: int = 0
    # Serialises writes: the connection's own thread (auth and heartbeat replies) and the
    # controls' broadcasts write to the same socket.
    send_lock: threading.Lock = field(default_factory=threading.Lock)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": id(self),
            "room_id": self.room_id,
            "uid": self.uid,
            "buvid": self.buvid,
            "protover": self.protover,
            "heartbeats": self.heartbeats,
            "connected_at": self.connected_at,
        }

    def send(self, data: bytes) -> bool:
        try:
            with self.send_lock:
                self.ws.send(data)
        except (ConnectionClosed, OSError):
            return False
        return True

    def drop(self) -> None:
        """Cut the TCP connection: no close frame."""
        try:
            self.ws.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class ChatState:
    """Who is connected, what was sent, why auths were refused, and the rooms' auto chatter.
    Shares the fake's lock; `send_lock` (taken before it, never inside it) keeps broadcasts in
    the order they are logged."""

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self.send_lock = threading.Lock()
        # Wakes the auto chatter when a room's interval changes.
        self.wake = threading.Event()
        self.port = 0
        self.reset()

    def reset(self) -> None:
        with self.lock:
            for conn in getattr(self, "connections", {}).values():
                conn.drop()
            self.connections: dict[int, Connection] = {}
            self.sent: dict[int, list[dict[str, Any]]] = {}
            self.refusals: list[str] = []
            self.intervals: dict[int, float] = {}
            self.auth_timeout = AUTH_TIMEOUT
            self.heartbeat_timeout = HEARTBEAT_TIMEOUT
            # Messages sent so far: numbers them (chat_messages.record).
            self.count = 0
            self.wake.set()

    def refuse(self, reason: str) -> None:
        with self.lock:
            self.refusals.append(reason)
        logger.info("chat auth refused: %s", reason)


def broadcast(
    state: State, room_id: int, specs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Send `specs` (chat_send's fields and "kind") together to the room's authed connections,
    one frame each; log and return their entries, sent_at being when they were written."""
    if not isinstance(specs, list) or not specs:
        raise ControlError("messages must be a non-empty list")
    chat = state.chat
    with chat.send_lock:
        with state.lock:
            if int(room_id) not in state.live.rooms:
                raise ControlError(f"no room {room_id}", 404)
            first = chat.count + 1
            entries = [
                record(int(room_id), spec, first + i) for i, spec in enumerate(specs)
            ]
            chat.count += len(entries)
            targets = [
                c for c in chat.connections.values() if c.room_id == int(room_id)
            ]
        sent_at = time.time()
        for entry in entries:
            entry["sent_at"] = sent_at
            if entry["kind"] == "danmaku":
                entry["sent_ms"] = int(sent_at * 1000)
        encoded = {
            (c.protover, c.uid == 0): frames(
                [
                    message(masked(e) if c.uid == 0 else e, first + i)
                    for i, e in enumerate(entries)
                ],
                c.protover,
            )
            for c in targets
        }
        delivered = sum(
            all(c.send(f) for f in encoded[c.protover, c.uid == 0]) for c in targets
        )
        with state.lock:
            log = chat.sent.setdefault(int(room_id), [])
            for entry in entries:
                entry["delivered"] = delivered
                log.append(entry)
            del log[:-SENT_LOG_LIMIT]
    return [dict(e) for e in entries]


def masked(entry: dict[str, Any]) -> dict[str, Any]:
    """What a connection without a login sees of a danmaku: since 2023 the site hides the
    sender from guests (uid 0, the name cut to its first character and ***)."""
    if entry["kind"] != "danmaku":
        return entry
    name = str(entry["uname"])
    return {**entry, "uid": 0, "uname": f"{name[:1]}***"}


# The server


def check_auth(state: State, auth: Any) -> str | None:
    """Why the auth body is refused, or None (lock held)."""
    if not isinstance(auth, dict):
        return "the auth body is not a JSON object"
    missing = [name for name in AUTH_FIELDS if name not in auth]
    if "key" in missing or "roomid" in missing:
        return (
            f"auth without {' and '.join(n for n in missing if n in ('key', 'roomid'))}"
        )
    issued = (
        state.live.danmu_tokens.get(auth["key"])
        if isinstance(auth["key"], str)
        else None
    )
    if issued is None:
        return "the key is unknown (getDanmuInfo never issued it)"
    room_id, mid, buvid3 = issued
    if auth["roomid"] != room_id:
        return f"roomid {auth['roomid']!r}: the key was issued for room {room_id}"
    buvid = auth.get("buvid")
    if state.rules["danmu_buvid3"]:
        if not buvid:
            return "no buvid"
        if buvid != buvid3:
            return f"buvid {buvid!r} is not the buvid3 the key was issued with"
    if auth.get("uid") != mid:
        return f"uid {auth.get('uid')!r}: the key was issued to viewer {mid}"
    if not isinstance(auth.get("protover"), int):
        return f"protover {auth.get('protover')!r} is not a number"
    return None


class ChatServer:
    """The WebSocket server and the auto chatter's thread. The port is bound on construction."""

    def __init__(self, state: State, host: str) -> None:
        self.state = state
        self.stopped = threading.Event()
        self._server: Server = serve(
            self._serve,
            host,
            0,
            process_request=self._check_path,
            # The site keeps sockets alive with its own heartbeats, not WebSocket pings.
            ping_interval=None,
            open_timeout=3,
            close_timeout=1,
            logger=logger,
        )
        state.chat.port = self._server.socket.getsockname()[1]
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self._threads:
            return
        for target, name in (
            (self._server.serve_forever, "fakebili-chat"),
            (self._chatter, "fakebili-chatter"),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self.stopped.set()
        self.state.chat.wake.set()
        with self.state.lock:
            for conn in self.state.chat.connections.values():
                conn.drop()
        if self._threads:
            self._server.shutdown()
            for thread in self._threads:
                thread.join()
            self._threads = []
        else:
            self._server.socket.close()

    @staticmethod
    def _check_path(ws: ServerConnection, request: WsRequest) -> WsResponse | None:
        if urlsplit(request.path).path != PATH:
            return ws.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        return None

    def _serve(self, ws: ServerConnection) -> None:
        chat = self.state.chat
        try:
            first = ws.recv(timeout=chat.auth_timeout)
        except TimeoutError:
            chat.refuse(f"no auth within {chat.auth_timeout:g} s")
            return
        except ConnectionClosed:
            return
        conn = self._auth(ws, first)
        if conn is None:
            return
        try:
            self._talk(conn)
        finally:
            with self.state.lock:
                chat.connections.pop(id(conn), None)

    def _auth(self, ws: ServerConnection, data: bytes | str) -> Connection | None:
        """The authed connection, registered, or None: refused, and closed on return."""
        chat = self.state.chat
        try:
            op, body = _parse(data)
            if op != OP_AUTH:
                raise ValueError(f"op {op}, not auth ({OP_AUTH})")
            auth = json.loads(body)
        except ValueError as exc:
            # Not the protocol at all: the site closes without a word.
            chat.refuse(f"first frame: {exc}")
            return None
        with self.state.lock:
            reason = check_auth(self.state, auth)
            if reason is None:
                conn = Connection(
                    ws,
                    auth["roomid"],
                    auth["uid"],
                    auth["buvid"],
                    auth["protover"],
                    time.time(),
                )
                # Holding its send lock until the reply is out: no broadcast gets in first.
                conn.send_lock.acquire()
                chat.connections[id(conn)] = conn
        if reason is not None:
            chat.refuse(reason)
            try:
                ws.send(packet(OP_AUTH_REPLY, b'{"code":-101}', 1))
            except ConnectionClosed:
                pass
            return None
        try:
            ws.send(packet(OP_AUTH_REPLY, b'{"code":0}', 1))
        except ConnectionClosed:
            with self.state.lock:
                chat.connections.pop(id(conn), None)
            return None
        finally:
            conn.send_lock.release()
        return conn

    def _talk(self, conn: Connection) -> None:
        chat = self.state.chat
        last = time.monotonic()
        while not self.stopped.is_set():
            remaining = last + chat.heartbeat_timeout - time.monotonic()
            if remaining <= 0:
                logger.info(
                    "chat: no heartbeat for %g s, closing", chat.heartbeat_timeout
                )
                return
            try:
                data = conn.ws.recv(timeout=min(remaining, POLL))
            except TimeoutError:
                continue
            except ConnectionClosed:
                return
            try:
                op, _body = _parse(data)
            except ValueError as exc:
                logger.info("chat: closing on %s", exc)
                return
            if op != OP_HEARTBEAT:
                continue
            last = time.monotonic()
            with self.state.lock:
                conn.heartbeats += 1
                room = self.state.live.rooms.get(conn.room_id)
                popularity = 321 if room is not None and room.live_status == 1 else 1
            conn.send(packet(OP_HEARTBEAT_REPLY, struct.pack(">I", popularity), 1))

    def _chatter(self) -> None:
        """Each live room with an interval gets a DANMU_MSG every interval, the first one an
        interval after it is seen live."""
        chat = self.state.chat
        due: dict[int, tuple[float, float]] = {}  # room → (interval, next send)
        while not self.stopped.is_set():
            now = time.monotonic()
            with self.state.lock:
                rooms = self.state.live.rooms
                active = {
                    room_id: interval
                    for room_id, interval in chat.intervals.items()
                    if interval > 0
                    and room_id in rooms
                    and rooms[room_id].live_status == 1
                }
            for room_id in set(due) - set(active):
                del due[room_id]
            for room_id, interval in active.items():
                if due.get(room_id, (None,))[0] != interval:
                    due[room_id] = (interval, now + interval)
                elif now >= due[room_id][1]:
                    due[room_id] = (interval, max(due[room_id][1] + interval, now))
                    try:
                        broadcast(self.state, room_id, [{"kind": "danmaku"}])
                    except ControlError:
                        pass  # the room went away meanwhile (a reset)
            wait = min([POLL, *(t - time.monotonic() for _, t in due.values())])
            chat.wake.wait(max(wait, 0.01))
            chat.wake.clear()


# Controls


class ChatControls:
    """The chat's controls, mixed into FakeBilibili (which provides `state`)."""

    state: State

    def chat_send(self, room_id: int, kind: str, **fields: Any) -> dict[str, Any]:
        """Send one message to the room's chat connections and return its log entry. kind:
        danmaku (text, uid, uname, mode, size, color; cmd: "DANMU_MSG" or a suffixed one, every
        other one by default), superchat (text, uid, uname, price in CNY, duration in s), gift
        (gift_name, count, price: CNY each), guard (level 1-3, count in months, price in CNY),
        other (cmd: INTERACT_WORD, ONLINE_RANK_COUNT or WATCHED_CHANGE; clients ignore it)."""
        return broadcast(self.state, room_id, [{**fields, "kind": kind}])[0]

    def chat_send_many(
        self, room_id: int, messages: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Send several messages (chat_send's fields and a "kind" each) in one frame."""
        return broadcast(self.state, room_id, messages)

    def chat_sent(self, room_id: int) -> list[dict[str, Any]]:
        """Everything sent to the room since the reset, oldest first; each entry's `delivered`
        is how many connections got it."""
        with self.state.lock:
            return [dict(e) for e in self.state.chat.sent.get(int(room_id), [])]

    def chat_connections(self, room_id: int | None = None) -> list[dict[str, Any]]:
        """The authed connections (of one room, or all)."""
        with self.state.lock:
            return [
                c.to_dict()
                for c in self.state.chat.connections.values()
                if room_id is None or c.room_id == int(room_id)
            ]

    def chat_drop(self, room_id: int | None = None) -> int:
        """Cut the authed connections (of one room, or all) without a close frame; how many."""
        with self.state.lock:
            chat = self.state.chat
            dropped = [
                key
                for key, c in chat.connections.items()
                if room_id is None or c.room_id == int(room_id)
            ]
            for key in dropped:
                chat.connections.pop(key).drop()
            return len(dropped)

    def chat_refusals(self) -> list[str]:
        """Why auths were refused (or first frames were not auths), oldest first."""
        with self.state.lock:
            return list(self.state.chat.refusals)

    def configure_room(
        self, room_id: int, *, danmaku_interval: float | None = None
    ) -> dict[str, Any]:
        """danmaku_interval: while the room is live, one DANMU_MSG to its chat every this many
        seconds (0: none, the default)."""
        with self.state.lock:
            if int(room_id) not in self.state.live.rooms:
                raise ControlError(f"no room {room_id}", 404)
            chat = self.state.chat
            if danmaku_interval is not None:
                chat.intervals[int(room_id)] = number(
                    danmaku_interval, "danmaku_interval"
                )
                chat.wake.set()
            return {
                "room_id": int(room_id),
                "danmaku_interval": chat.intervals.get(int(room_id), 0.0),
            }

    def configure_chat(
        self,
        *,
        heartbeat_timeout: float | None = None,
        auth_timeout: float | None = None,
    ) -> dict[str, float]:
        """How long the socket waits for a heartbeat (70 s) or the first auth (10 s), until the
        next reset; a change applies to connections already open."""
        with self.state.lock:
            chat = self.state.chat
            if heartbeat_timeout is not None:
                chat.heartbeat_timeout = number(heartbeat_timeout, "heartbeat_timeout")
            if auth_timeout is not None:
                chat.auth_timeout = number(auth_timeout, "auth_timeout")
            return {
                "heartbeat_timeout": chat.heartbeat_timeout,
                "auth_timeout": chat.auth_timeout,
            }

    def chat_snapshot(self) -> dict[str, Any]:
        with self.state.lock:
            chat = self.state.chat
            return {
                "port": chat.port,
                "connections": self.chat_connections(),
                "refusals": list(chat.refusals),
                "intervals": dict(chat.intervals),
                "sent": {room: len(log) for room, log in chat.sent.items()},
            }


_ROOM = r"/_fake/chat/rooms/(?P<room_id>\d+)"
# (method, path pattern, action(fake, json body, **groups)), as in server.CONTROL_ROUTES.
CONTROL_ROUTES: list[tuple[str, str, Callable[..., Any]]] = [
    ("POST", _ROOM + "/send", lambda f, b, room_id: f.chat_send(int(room_id), **b)),
    (
        "POST",
        _ROOM + "/send_many",
        lambda f, b, room_id: {"sent": f.chat_send_many(int(room_id), b["messages"])},
    ),
    ("GET", _ROOM + "/sent", lambda f, b, room_id: {"sent": f.chat_sent(int(room_id))}),
    (
        "GET",
        _ROOM + "/connections",
        lambda f, b, room_id: {"connections": f.chat_connections(int(room_id))},
    ),
    (
        "POST",
        _ROOM + "/drop",
        lambda f, b, room_id: {"dropped": f.chat_drop(int(room_id))},
    ),
    (
        "POST",
        _ROOM + "/configure",
        lambda f, b, room_id: f.configure_room(int(room_id), **b),
    ),
    (
        "GET",
        r"/_fake/chat/connections",
        lambda f, b: {"connections": f.chat_connections()},
    ),
    ("POST", r"/_fake/chat/drop", lambda f, b: {"dropped": f.chat_drop()}),
    ("GET", r"/_fake/chat/refusals", lambda f, b: {"refusals": f.chat_refusals()}),
    ("POST", r"/_fake/chat/config", lambda f, b: f.configure_chat(**b)),
    ("GET", r"/_fake/chat", lambda f, b: f.chat_snapshot()),
]
