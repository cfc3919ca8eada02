"""The live CDN (*.bilivideo.com): the FLV streams that play info points at (HLS: hls.py).

A stream is the room's clip looped by flvloop.Player, paced at the room's `speed` against the
wall clock since the request began (0: as fast as the client reads), and steered by the room's
stream controls (live.py): a cut or a stall after N bytes, a timestamp jump, a clip swap, and
at a stream second, the broadcast's end or a cut. The body goes out chunked (server.py), and ends
when the room's broadcast does.

Reference: /work/shared/reference/bilibili-protocol.md §6.4 and §9 "Live".
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

from tests.fakebili import flvloop, hls
from tests.fakebili.wire import Hangup, Request, Response

if TYPE_CHECKING:
    from tests.fakebili.live import LiveState, Room
    from tests.fakebili.server import State

# Guessed: the stream-name suffix of the 150 transcode (the source has none).
QN_SUFFIX = {10000: "", 150: "_1500"}
STREAM_TTL = 3600
SIGN_SECRET = "fakebili-live"
SIGPARAMS = "cdn,expires,len,oi,pt,qn,trid"
# FLV, and HLS (hls.py): a TS playlist and its segments, an fMP4 playlist, init and segments.
STREAM_PATH = re.compile(
    r"/live-bvc/\d+/live_(?P<uid>\d+)_(?P<sid>\d+)(?P<suffix>_\d+)?"
    r"(?P<ext>\.flv|\.m3u8|-\d+\.ts|/index\.m3u8|/h?\d+\.m4s)"
)
# Stream pacing: bytes gathered before a write, and the longest wait before rechecking the room.
BATCH_BYTES = 64 * 1024
TICK_SECONDS = 0.2


def sign(name: str, params: dict[str, str]) -> str:
    """The stream URL's `sign`: a stand-in (Bilibili's is secret) over the stream name and the
    values of the keys `sigparams` lists."""
    signed = "&".join(
        f"{key}={params.get(key, '')}"
        for key in params.get("sigparams", SIGPARAMS).split(",")
    )
    return hashlib.md5(f"{name}?{signed}&{SIGN_SECRET}".encode()).hexdigest()


def _not_found() -> Response:
    page = (
        "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
        "<center><h1>404 Not Found</h1></center>\r\n<hr><center>Tengine</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return Response(status=404, body=page.encode(), content_type="text/html")


def stream(state: State, req: Request) -> Response:
    """host + base_url + extra from play info, and the HLS segments beside it. Unknown names
    and rooms off air: 404; a wrong sign or a past `expires` (when given: the check is loose,
    so segments without a query pass): 403."""
    match = STREAM_PATH.fullmatch(req.path)
    if match is None:
        return _not_found()
    uid, sid, suffix = int(match["uid"]), int(match["sid"]), match["suffix"] or ""
    room = next(
        (
            r
            for r in state.live.rooms.values()
            if (r.uid, r.stream_id) == (uid, sid) and suffix in QN_SUFFIX.values()
        ),
        None,
    )
    if room is None or room.live_status != 1:
        return _not_found()
    name = f"live_{uid}_{sid}{suffix}"
    query = req.query
    expired = query.get("expires", "").isdigit() and int(query["expires"]) < state.now()
    if ("sign" in query and query["sign"] != sign(name, query)) or expired:
        return Response(status=403, body=b"403 Forbidden", content_type="text/plain")
    if match["ext"] != ".flv":
        return hls.serve(state, room, name, match["ext"]) or _not_found()
    if room.hls_only:
        return _not_found()
    return Response(
        content_type="video/x-flv",
        headers=[("Access-Control-Allow-Origin", "*"), ("Cache-Control", "no-cache")],
        stream=Stream(state.live, room).body(),
    )


class Stream:
    """One FLV response: the file header, the clip's header tags, then its frames in a loop.

    Runs in the request's thread, outside the lock except to look at the room.
    """

    def __init__(self, live: LiveState, room: Room) -> None:
        self.live = live
        self.room = room
        self.broadcast = room.broadcast
        self.sent = 0
        self.buf = bytearray()
        # Pacing: wire time `elapsed_ms` is due `wall` seconds after `wall0`, at `speed`.
        self.speed = room.speed
        self.wall0 = time.monotonic()
        self.elapsed0 = 0

    def on_air(self) -> bool:
        return self.live.on_air(self.room, self.broadcast)

    def body(self) -> Generator[bytes, None, None]:
        room = self.room
        clip = flvloop.load(Path(room.clip) if room.clip else flvloop.make_clip())
        with self.live.cond:
            if not self.on_air():
                return
            room.open_streams += 1
            start_ms = max(0, round((self.live.now() - room.live_start) * 1000))
        player = flvloop.Player(clip, start_ms)
        try:
            self.buf += flvloop.FILE_HEADER
            # Header tags at 0 (ffmpeg reads a script tag at any other time as a data stream),
            # frames from the broadcast's clock.
            for tag in clip.header_tags():
                self.buf += tag.encode(0)
            self.wall0 = time.monotonic()
            yield from self._play(player)
        finally:
            player.close()
            with self.live.cond:
                room.open_streams -= 1
                self.live.cond.notify_all()

    def _play(self, player: flvloop.Player) -> Generator[bytes, None, None]:
        while True:
            tag = player.peek()
            with self.live.cond:
                if not self.on_air():
                    break
                if self.room.speed != self.speed:
                    self.speed = self.room.speed
                    self.wall0, self.elapsed0 = time.monotonic(), player.elapsed_ms
                swap = self._timed_controls(player, tag)
            if swap is not None:
                for header in player.switch(flvloop.load(swap)):
                    self.buf += header.encode()
                continue
            if self.speed > 0:
                due = (
                    self.wall0 + (player.elapsed_ms - self.elapsed0) / 1000 / self.speed
                )
                wait = due - time.monotonic()
                if wait > 0:
                    yield from self._flush()
                    with self.live.cond:
                        self.live.cond.wait(min(wait, TICK_SECONDS))
                    yield b""
                    continue
            # Checked when the tag is due, so at speed 1 it happens at wall second T too.
            with self.live.cond:
                end = self._end_controls(player)
            if end == "offline":
                break
            if end == "drop":
                # Cut mid-tag, as a real broken connection would be.
                cut = player.peek().encode()
                self.buf += cut[: len(cut) // 2]
                yield from self._flush()
                raise Hangup
            self.buf += player.take().encode()
            if len(self.buf) >= BATCH_BYTES:
                yield from self._flush()
        yield from self._flush()

    def _timed_controls(self, player: flvloop.Player, tag: flvloop.Tag) -> Path | None:
        """Apply a due jump; the clip to switch to, if there is one and `tag` is a keyframe."""
        room = self.room
        elapsed_s = player.elapsed_ms / 1000
        if room.jump_ms is not None and elapsed_s >= room.jump_at:
            player.jump(room.jump_ms)
            room.jump_ms = None
        if not tag.is_keyframe:
            return None
        if room.swap_clip is not None and elapsed_s >= room.swap_at:
            room.clip, room.swap_clip = room.swap_clip, None
            self.live.cond.notify_all()
        if room.clip is not None and Path(room.clip) != player.clip.path:
            return Path(room.clip)
        return None

    def _end_controls(self, player: flvloop.Player) -> str | None:
        """What ends this stream before the next tag, if anything: the broadcast ("offline",
        ended here when the tag reaches offline_after_seconds) or a cut ("drop", when it reaches
        drop_after_seconds). Each control fires once. Lock held."""
        room = self.room
        if not self.on_air():
            return "offline"
        elapsed_s = player.elapsed_ms / 1000
        if (
            room.offline_after_seconds is not None
            and elapsed_s >= room.offline_after_seconds
        ):
            room.offline_after_seconds = None
            self.live.set_status(room, 0)
            return "offline"
        if room.drop_after_seconds is not None and elapsed_s >= room.drop_after_seconds:
            room.drop_after_seconds = None
            return "drop"
        return None

    def _flush(self) -> Generator[bytes, None, None]:
        """Send the buffer, cutting or stalling where a byte control says."""
        while self.buf:
            with self.live.cond:
                room = self.room
                size, action = len(self.buf), None
                for name in ("drop_after_bytes", "stall_after_bytes"):
                    at = getattr(room, name)
                    if at is not None and at - self.sent <= size:
                        size, action = max(0, at - self.sent), name
                if action is not None:
                    setattr(room, action, None)
            chunk = bytes(self.buf[:size])
            del self.buf[:size]
            if chunk:
                self.sent += len(chunk)
                yield chunk
            if action == "drop_after_bytes":
                raise Hangup
            if action == "stall_after_bytes":
                yield from self._stall()
                if not self.on_air():
                    self.buf.clear()

    def _stall(self) -> Generator[bytes, None, None]:
        started = time.monotonic()
        with self.live.cond:
            releases = self.room.releases
        while True:
            with self.live.cond:
                if not self.on_air() or self.room.releases != releases:
                    break
                self.live.cond.wait(TICK_SECONDS)
            yield b""
        # Resume at the same pace, rather than rush to catch up.
        self.wall0 += time.monotonic() - started


PREFIX_ROUTES = [("GET", "/live-bvc/", stream)]
