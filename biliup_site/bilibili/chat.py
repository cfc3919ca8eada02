"""Bilibili live chat (danmaku): the broadcast socket a live room's page opens, as a client that
a recorder thread keeps open for as long as it likes.

The wire: every packet has a 16-byte header (packet length, header length 16, protover, op,
sequence; big-endian) and a body. The client sends op 7 (auth, JSON) once, then op 2
(heartbeat) every 30 s; the server answers op 8 (auth reply, {"code": 0}), op 3 (popularity, a
4-byte count) and op 5 (messages). An op-5 body with protover 2 is zlib, with protover 3 brotli,
and holds several packets in turn (possibly nested); protover 0 and 1 bodies are the JSON itself.

`ChatClient.run` connects, authenticates, heartbeats and hands every danmaku, super chat, gift
and guard purchase to a callback as a ChatMessage; whatever fails (getDanmuInfo, the socket, a
refused token, silence) ends in a reconnection with back-off, with a fresh token each time.

Reference: bilibili-2026.md "Live chat (danmaku)" (getDanmuInfo with buvid3, the auth body, the
commands to keep).
"""

from __future__ import annotations

import json
import logging
import random
import struct
import threading
import time
import zlib
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import brotli
from django.conf import settings
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from biliup_site.bilibili import live
from biliup_site.bilibili.http import (
    BROWSER_UA,
    LIVE_REFERER,
    BilibiliError,
    BilibiliUnavailable,
    cookie_value,
)

logger = logging.getLogger(__name__)

# Packet length, header length, protover, op, sequence.
HEADER = struct.Struct(">IHHII")
# protover: how a body is encoded.
JSON_BODY = 0
PLAIN_BODY = 1  # heartbeats, popularity, and also plain JSON messages
ZLIB_BODY = 2
BROTLI_BODY = 3
# op: what a packet is.
OP_HEARTBEAT = 2
OP_POPULARITY = 3
OP_MESSAGE = 5
OP_AUTH = 7
OP_AUTH_REPLY = 8

# What the web client sends as a heartbeat's body (String({}) in JavaScript).
HEARTBEAT_BODY = b"[object Object]"
HEARTBEAT_SECONDS = 30.0
# The server answers every heartbeat: nothing at all for this long means the connection is
# dead even though no error says so (a half-open TCP connection).
SILENCE_SECONDS = 75.0
AUTH_SECONDS = 10.0  # for the op-8 reply
OPEN_SECONDS = 10.0  # TCP, TLS and the WebSocket handshake
CLOSE_SECONDS = 1.0  # for the server's close frame, so a stop is quick
RECV_SECONDS = 0.5  # a recv blocks this long at most: a stop is noticed within it
# Back-off between connections: doubling from RETRY_SECONDS to RETRY_MAX_SECONDS, jittered,
# and back to the start after a connection that stayed up STABLE_SECONDS.
RETRY_SECONDS = 1.0
RETRY_MAX_SECONDS = 60.0
STABLE_SECONDS = 60.0
MAX_FRAME_BYTES = 8 << 20
NESTING = 4  # compressed bodies within compressed bodies: deeper is garbage

DANMAKU = "danmaku"
SUPERCHAT = "superchat"
GIFT = "gift"
GUARD = "guard"


@dataclass(frozen=True)
class ChatMessage:
    """One chat event. `price` is in CNY: the super chat's amount, or one gift's or one guard
    month's price (0 for silver-coin gifts); `count` is how many gifts or guard months."""

    kind: str  # DANMAKU, SUPERCHAT, GIFT or GUARD
    received: float  # time.time() on arrival
    sent_ms: int = 0  # the site's timestamp, ms (0: none)
    uid: int = 0
    uname: str = ""
    text: str = ""
    mode: int = 1
    size: int = 25
    color: int = 0xFFFFFF
    price: float = 0.0
    count: int = 1
    gift_name: str = ""
    guard_level: int = 0  # 1 总督, 2 提督, 3 舰长
    duration: int = 0  # how long a super chat stays pinned, s
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Packet:
    op: int
    protover: int
    body: bytes
    sequence: int = 1


# --- the codec ---------------------------------------------------------------------------------


def encode_packet(
    op: int, body: bytes | str | dict[str, Any] = b"", *, protover: int = PLAIN_BODY
) -> bytes:
    """One packet: a dict body becomes compact JSON, a str UTF-8. With protover 2 or 3 the
    body (then usually several packets already encoded) is compressed, zlib or brotli, as
    decode_packets expects."""
    if isinstance(body, dict):
        body = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if isinstance(body, str):
        body = body.encode()
    if protover == ZLIB_BODY:
        body = zlib.compress(body)
    elif protover == BROTLI_BODY:
        body = brotli.compress(body)
    return HEADER.pack(HEADER.size + len(body), HEADER.size, protover, op, 1) + body


def decode_packets(data: bytes) -> list[Packet]:
    """Every packet of a frame, compressed op-5 bodies opened (nested ones too), in order.

    Never raises for bad input: a body that does not decompress is logged and skipped (the
    packets after it still count); a truncated or impossible header ends the frame there,
    logged, and what came before it is returned."""
    packets: list[Packet] = []
    _decode(data, packets, 0)
    return packets


def _decode(data: bytes, packets: list[Packet], depth: int) -> None:
    offset = 0
    while offset < len(data):
        left = len(data) - offset
        if left < HEADER.size:
            logger.warning("chat frame: %d stray bytes after the last packet", left)
            return
        length, header_length, protover, op, sequence = HEADER.unpack_from(data, offset)
        if header_length < HEADER.size or length < header_length or length > left:
            logger.warning(
                "chat frame: bad packet header (length %d, header %d, %d bytes left)",
                length,
                header_length,
                left,
            )
            return
        body = data[offset + header_length : offset + length]
        offset += length
        if op != OP_MESSAGE or protover not in (ZLIB_BODY, BROTLI_BODY):
            packets.append(Packet(op, protover, body, sequence))
            continue
        if depth >= NESTING:
            logger.warning("chat frame: compressed more than %d levels deep", NESTING)
            continue
        try:
            inner = (
                zlib.decompress(body)
                if protover == ZLIB_BODY
                else brotli.decompress(body)
            )
        except (zlib.error, brotli.error) as exc:
            logger.warning("chat frame: protover %d body: %s", protover, exc)
            continue
        _decode(inner, packets, depth + 1)


# --- messages ----------------------------------------------------------------------------------


def to_message(payload: Any, received: float) -> ChatMessage | None:
    """The ChatMessage of an op-5 JSON payload; None for the commands not kept and for a
    malformed one (logged)."""
    if not isinstance(payload, dict):
        logger.warning("chat message is not a JSON object: %.200r", payload)
        return None
    # The cmd may carry suffixes ("DANMU_MSG:4:0:2:2:2:0").
    cmd = str(payload.get("cmd") or "").split(":", 1)[0]
    parse = PARSERS.get(cmd)
    if parse is None:
        return None
    try:
        return parse(payload, received)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        logger.warning(
            "chat message %s malformed (%s: %s): %.300r",
            cmd,
            type(exc).__name__,
            exc,
            payload,
        )
        return None


def _danmaku(payload: dict[str, Any], received: float) -> ChatMessage:
    # info[0]: [0, mode, size, color, sent ms, …, extra at 15]; info[1] the text;
    # info[2]: [uid, uname, …].
    info = payload["info"]
    meta, text, user = info[0], info[1], info[2]
    uname = str(user[1] or "")
    if not uname and len(meta) > 15 and isinstance(meta[15], dict):
        # Newer payloads also carry the sender in the extra dict.
        uname = str(meta[15].get("user", {}).get("base", {}).get("name") or "")
    return ChatMessage(
        kind=DANMAKU,
        received=received,
        sent_ms=int(meta[4] or 0),
        uid=int(user[0] or 0),
        uname=uname,
        text=str(text),
        mode=int(meta[1]),
        size=int(meta[2]),
        color=int(meta[3]),
        raw=payload,
    )


def _superchat(payload: dict[str, Any], received: float) -> ChatMessage:
    data = payload["data"]
    user = data.get("user_info") or {}
    seconds = int(data.get("ts") or data.get("start_time") or 0)
    return ChatMessage(
        kind=SUPERCHAT,
        received=received,
        sent_ms=seconds * 1000,
        uid=int(data.get("uid") or 0),
        uname=str(user.get("uname") or data.get("uname") or ""),
        text=str(data.get("message") or ""),
        price=float(data.get("price") or 0),
        duration=int(data.get("time") or 0),
        raw=payload,
    )


def _gold(price: Any) -> float:
    # Gold coins: 1000 are 1 CNY.
    return int(price or 0) / 1000


def _gift(payload: dict[str, Any], received: float) -> ChatMessage:
    data = payload["data"]
    gold = data.get("coin_type", "gold") == "gold"  # silver-coin gifts are free
    return ChatMessage(
        kind=GIFT,
        received=received,
        sent_ms=int(data.get("timestamp") or 0) * 1000,
        uid=int(data.get("uid") or 0),
        uname=str(data.get("uname") or ""),
        gift_name=str(data.get("giftName") or data.get("gift_name") or ""),
        count=int(data.get("num") or 1),
        price=_gold(data.get("price")) if gold else 0.0,
        raw=payload,
    )


def _guard(payload: dict[str, Any], received: float) -> ChatMessage:
    data = payload["data"]
    return ChatMessage(
        kind=GUARD,
        received=received,
        sent_ms=int(data.get("start_time") or 0) * 1000,
        uid=int(data.get("uid") or 0),
        uname=str(data.get("username") or ""),
        gift_name=str(data.get("gift_name") or ""),
        guard_level=int(data.get("guard_level") or 0),
        count=int(data.get("num") or 1),
        price=_gold(data.get("price")),
        raw=payload,
    )


PARSERS: dict[str, Callable[[dict[str, Any], float], ChatMessage]] = {
    "DANMU_MSG": _danmaku,
    "SUPER_CHAT_MESSAGE": _superchat,
    "SEND_GIFT": _gift,
    "GUARD_BUY": _guard,
}


# --- the client --------------------------------------------------------------------------------


class ChatFailure(Exception):
    """The connection cannot go on: the message says why (it becomes last_error)."""


class ChatClient:
    """The chat of one room, for as long as run() runs.

    `room_id` is the long room id; `credential` a cookies.json document or None (anonymous: the
    site then masks user names). on_message(ChatMessage) and on_state(state, detail) are called
    on run()'s thread; state is "connected" (detail: the host) or "disconnected" (detail: why).
    An exception raised by either is logged and does not end the chat.

    Read from other threads: `connected` (authenticated and reading now), `reconnects` (how
    many times run() has started over after its first attempt) and `last_error` (the latest
    failure, "" while none happened).
    """

    def __init__(
        self,
        room_id: int,
        credential: dict[str, Any] | None,
        on_message: Callable[[ChatMessage], None],
        on_state: Callable[[str, str], None] | None = None,
    ) -> None:
        self.room_id = int(room_id)
        self.credential = credential
        self.on_message = on_message
        self.on_state = on_state
        self.connected = False
        self.reconnects = 0
        self.last_error = ""

    def run(self, stop: threading.Event) -> None:
        """Connect, read and reconnect until `stop` is set; returns within about a second of
        it (longer only while an HTTP call or a handshake is under way, bounded by its
        timeout). The socket is closed on return."""
        delay = RETRY_SECONDS
        first = True
        while not stop.is_set():
            if not first:
                self.reconnects += 1
            first = False
            lasted = self._attempt(stop)
            if stop.is_set():
                break
            if lasted >= STABLE_SECONDS:
                delay = RETRY_SECONDS
            wait = delay * random.uniform(0.75, 1.25)
            logger.info(
                "room %s chat: %s; trying again in %.1f s",
                self.room_id,
                self.last_error or "disconnected",
                wait,
            )
            stop.wait(wait)
            delay = min(delay * 2, RETRY_MAX_SECONDS)

    # One connection, from getDanmuInfo to its end.

    def _attempt(self, stop: threading.Event) -> float:
        """Seconds the connection stayed authenticated (0 when it never was)."""
        try:
            # A fresh token every time: they expire, and a refused one must not come back.
            info = live.danmu_info(self.room_id, self.credential)
        except (BilibiliError, BilibiliUnavailable) as exc:
            self.last_error = f"getDanmuInfo: {exc}"
            return 0.0
        if not info.hosts:
            self.last_error = "getDanmuInfo named no chat server"
            return 0.0
        # The stack closes the socket, however the reading ends.
        with ExitStack() as stack:
            opened = self._open(info, stack)
            if opened is None:
                return 0.0
            ws, where = opened
            return self._read(ws, where, info, stop)

    def _open(
        self, info: live.DanmuInfo, stack: ExitStack
    ) -> tuple[ClientConnection, str] | None:
        """The first chat host of getDanmuInfo's list that accepts a connection."""
        scheme = settings.BILIBILI_CHAT_SCHEME
        errors = []
        for host in info.hosts:
            if scheme == "wss":
                port = host.wss_port or 443
            else:
                port = host.ws_port or 80
            where = f"{host.host}:{port}"
            try:
                ws = stack.enter_context(
                    connect(
                        f"{scheme}://{where}/sub",
                        origin=Origin(LIVE_REFERER.rstrip("/")),
                        user_agent_header=BROWSER_UA,
                        open_timeout=OPEN_SECONDS,
                        close_timeout=CLOSE_SECONDS,
                        # The protocol's own heartbeat keeps the connection alive and proves it.
                        ping_interval=None,
                        max_size=MAX_FRAME_BYTES,
                    )
                )
            except (OSError, WebSocketException) as exc:
                # TimeoutError is an OSError.
                errors.append(f"{where}: {str(exc) or type(exc).__name__}")
                continue
            return ws, where
        self.last_error = "cannot connect to the chat server: " + "; ".join(errors)
        return None

    def _auth(self, info: live.DanmuInfo) -> dict[str, Any]:
        uid = cookie_value(self.credential, "DedeUserID") if self.credential else None
        return {
            "uid": int(uid) if uid and uid.isdigit() else 0,
            "roomid": self.room_id,
            "protover": BROTLI_BODY,
            "buvid": info.buvid3,
            "platform": "web",
            "type": 2,
            "key": info.token,
        }

    def _read(
        self,
        ws: ClientConnection,
        where: str,
        info: live.DanmuInfo,
        stop: threading.Event,
    ) -> float:
        start = heard = time.monotonic()
        authed_at: float | None = None
        next_heartbeat = 0.0
        reason = "stopped"
        try:
            ws.send(encode_packet(OP_AUTH, self._auth(info)))
            while not stop.is_set():
                now = time.monotonic()
                if authed_at is None and now - start > AUTH_SECONDS:
                    raise ChatFailure(f"no auth reply within {AUTH_SECONDS:g} s")
                if now - heard > SILENCE_SECONDS:
                    raise ChatFailure(f"nothing heard for {SILENCE_SECONDS:g} s")
                if authed_at is not None and now >= next_heartbeat:
                    ws.send(encode_packet(OP_HEARTBEAT, HEARTBEAT_BODY))
                    next_heartbeat = now + HEARTBEAT_SECONDS
                try:
                    frame = ws.recv(timeout=RECV_SECONDS)
                except TimeoutError:
                    continue
                heard = time.monotonic()
                data = frame.encode() if isinstance(frame, str) else frame
                for packet in decode_packets(data):
                    if packet.op == OP_AUTH_REPLY and authed_at is None:
                        _check_auth(packet)
                        authed_at = time.monotonic()
                        self._state(True, where)
                    elif packet.op == OP_MESSAGE:
                        self._dispatch(packet)
        except ChatFailure as exc:
            reason = self.last_error = str(exc)
        except ConnectionClosed as exc:
            reason = self.last_error = f"{where} closed the connection ({exc})"
        except (OSError, WebSocketException) as exc:
            reason = self.last_error = f"{where}: {str(exc) or type(exc).__name__}"
        finally:
            if authed_at is not None:
                self._state(False, reason)
        return 0.0 if authed_at is None else time.monotonic() - authed_at

    def _dispatch(self, packet: Packet) -> None:
        received = time.time()
        try:
            payload = json.loads(packet.body)
        except ValueError as exc:
            # UnicodeDecodeError is a ValueError too.
            logger.warning(
                "room %s chat: a message is not JSON (%s): %.200r",
                self.room_id,
                exc,
                packet.body,
            )
            return
        message = to_message(payload, received)
        if message is None:
            return
        try:
            self.on_message(message)
        except Exception:
            # The recorder's callback must not end the chat of a 24/7 recording; say it loudly.
            logger.exception("room %s chat: on_message failed", self.room_id)

    def _state(self, connected: bool, detail: str) -> None:
        self.connected = connected
        state = "connected" if connected else "disconnected"
        logger.info("room %s chat %s: %s", self.room_id, state, detail)
        if self.on_state is None:
            return
        try:
            self.on_state(state, detail)
        except Exception:
            logger.exception("room %s chat: on_state failed", self.room_id)


def _check_auth(packet: Packet) -> None:
    try:
        reply = json.loads(packet.body)
        code = reply.get("code") if isinstance(reply, dict) else None
    except ValueError:
        code = None
    if code != 0:
        raise ChatFailure(f"the chat server refused the token (code {code})")
