"""The live CDN (*.bilivideo.com): the FLV streams that play info points at (HLS: hls.py).

A stream is the room's clip looped by flvloop.Player, paced at the room's `speed` against the
wall clock since the request began (0: as fast as the client reads), and steered by the room's
stream controls (live.py): a cut or a stall after N bytes, a timestamp jump, a clip swap, and
at a stream second, the broadcast's end or a cut. The body goes out chunked (server.py), or
close-delimited from the cn-gotcha04 host, and ends when the room's broadcast does.

A broadcast is one timeline: a new pull of it takes the clip up where the last pull left it (at
speed 0, exactly there; paced, at the broadcast's clock if that has moved on), so stream seconds
(the controls' `T`) count from the broadcast's first pull. Like a real CDN, it starts with the
last GOP the previous pull sent (keyframe and the frames after it, same timestamps).

Strict rules (strict.py), each switchable: cdn_headers (403 without a browser User-Agent and a
live Referer: FLV, playlists, every segment), cdn_expires (403 on an FLV or playlist URL past
its `expires` or without a sign), cdn_close_delimited, cdn_gop_resend. set_cdn() makes play
URLs short-lived or lists other CDN hosts (a room's `cdn_hosts` does it for one room); cdn_log()
counts pulls, resends and refusals; sent_bytes() counts the media bytes each room sent (FLV
bodies as written to the socket, HLS init and media segments as answered; playlists not), so a
recorder's files can be checked against them.

Reference: /work/shared/reference/bilibili-protocol.md §6.4 and §9 "Live";
/work/shared/reference/bilibili-2026.md "Live rooms and the stream CDN".
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.fakebili import flvloop, hls, strict
from tests.fakebili.wire import ControlError, Hangup, Request, Response, error_page

if TYPE_CHECKING:
    from tests.fakebili.live import LiveState, Room
    from tests.fakebili.server import State

# Guessed: the stream-name suffix of the 150 transcode (the source has none).
QN_SUFFIX = {10000: "", 150: "_1500"}
STREAM_TTL = 3600
# The CDN hosts play info lists, in this order (`cdn=` in the URL's query); the second one sends
# FLV close-delimited (cdn_close_delimited), as some hot nodes do.
HOSTS = ("cn-gotcha01", "cn-gotcha04")
CLOSE_DELIMITED_HOST = "cn-gotcha04"
SIGN_SECRET = "fakebili-live"
SIGPARAMS = "cdn,expires,len,oi,pt,qn,trid"
# FLV, and HLS (hls.py): a TS playlist and its segments, an fMP4 playlist, init and segments.
STREAM_PATH = re.compile(
    r"/live-bvc/\d+/live_(?P<uid>\d+)_(?P<sid>\d+)(?P<suffix>_\d+)?"
    r"(?P<ext>\.flv|\.m3u8|-\d+\.ts|/index\.m3u8|/h?\d+\.m4s)"
)
SIGNED_EXTS = (".flv", ".m3u8", "/index.m3u8")
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


@dataclass
class Resume:
    """Where a room's last FLV pull left its broadcast, for the next pull of it."""

    broadcast: int
    gop: list[flvloop.Tag]  # the last GOP it sent: a keyframe, then what followed
    player: flvloop.Player | None  # the clip where it stopped; taken by the next pull


@dataclass
class CdnState:
    """The CDN's settings (set_cdn) and memory, under the fake's lock."""

    lock: threading.RLock
    stream_ttl: int = STREAM_TTL
    hosts: tuple[str, ...] = HOSTS
    resume: dict[int, Resume] = field(default_factory=dict)  # by room id
    # What happened, for tests: "pulls", "resent" and the refusals ("refused_<why>").
    log: Counter[str] = field(default_factory=Counter)
    # Media bytes sent, by room id (sent_bytes()).
    sent: Counter[int] = field(default_factory=Counter)

    def reset(self) -> None:
        with self.lock:
            for old in self.resume.values():
                if old.player is not None:
                    old.player.close()
            self.stream_ttl, self.hosts = STREAM_TTL, HOSTS
            self.resume = {}
            self.log = Counter()
            self.sent = Counter()

    def take(self, room: Room, broadcast: int) -> Resume | None:
        """The last pull's state if it was of this broadcast; its player leaves with it."""
        found = self.resume.get(room.room_id)
        if found is None or found.broadcast != broadcast:
            return None
        player, found.player = found.player, None
        return Resume(broadcast, list(found.gop), player)

    def leave(self, room: Room, state: Resume) -> None:
        """A pull ended: remember where, for the next one. Lock held."""
        old = self.resume.get(room.room_id)
        if old is not None and old.player is not None:
            old.player.close()
        self.resume[room.room_id] = state


def _not_found() -> Response:
    return error_page(404)


def _refused(state: State, why: str) -> Response:
    state.cdn.log[f"refused_{why}"] += 1
    return strict.forbidden()


def _url_refusal(
    state: State, name: str, ext: str, query: dict[str, str]
) -> str | None:
    """Why the URL's query is refused, if it is. A wrong sign always is. With cdn_expires on,
    FLV and playlist URLs need a sign and an `expires` still ahead; segments fetched by the
    playlist's relative URIs carry no query and pass, one that brings the query along is
    checked like the playlist. With it off, URLs never expire (the old lenient fake)."""
    if "sign" in query and query["sign"] != sign(name, query):
        return "sign"
    if not state.rules["cdn_expires"] or (ext not in SIGNED_EXTS and not query):
        return None
    if "sign" not in query or not query.get("expires", "").isdigit():
        return "unsigned"
    if int(query["expires"]) < state.now():
        return "expired"
    return None


def stream(state: State, req: Request) -> Response:
    """host + base_url + extra from play info, and the HLS segments beside it. Without browser
    headers: 403 (cdn_headers). Unknown names and rooms off air: 404. A bad URL: 403
    (_url_refusal)."""
    match = STREAM_PATH.fullmatch(req.path)
    if match is None:
        return _not_found()
    if state.rules["cdn_headers"] and not strict.is_browser(req):
        return _refused(state, "headers")
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
    why = _url_refusal(state, name, match["ext"], req.query)
    if why is not None:
        return _refused(state, why)
    if match["ext"] != ".flv":
        return hls.serve(state, room, name, match["ext"]) or _not_found()
    if room.hls_only:
        return _not_found()
    state.cdn.log["pulls"] += 1
    return Response(
        content_type="video/x-flv",
        headers=[("Access-Control-Allow-Origin", "*"), ("Cache-Control", "no-cache")],
        stream=Stream(state, room).body(),
        close_delimited=state.rules["cdn_close_delimited"]
        and req.query.get("cdn") == CLOSE_DELIMITED_HOST,
    )


class Stream:
    """One FLV response: the file header, the clip's header tags, then its frames in a loop.

    Runs in the request's thread, outside the lock except to look at the room.
    """

    def __init__(self, state: State, room: Room) -> None:
        self.live: LiveState = state.live
        self.cdn: CdnState = state.cdn
        self.resend = state.rules["cdn_gop_resend"]
        self.room = room
        self.broadcast = room.broadcast
        self.sent = 0
        self.buf = bytearray()
        self.gop: list[flvloop.Tag] = []  # the last GOP sent, for the next pull
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
            resume = self.cdn.take(room, self.broadcast)
            if resume is not None and resume.gop and self.resend:
                self.gop = resume.gop
                self.cdn.log["resent"] += 1
        player = self._player(clip, start_ms, resume)
        try:
            self.buf += flvloop.FILE_HEADER
            # Header tags at 0 (ffmpeg reads a script tag at any other time as a data stream),
            # then the GOP resent as it went before, then frames from the broadcast's clock.
            for tag in clip.header_tags():
                self.buf += tag.encode(0)
            for tag in self.gop:
                self.buf += tag.encode()
            self.wall0, self.elapsed0 = time.monotonic(), player.elapsed_ms
            yield from self._play(player)
        finally:
            with self.live.cond:
                room.open_streams -= 1
                if self.on_air():
                    self.cdn.leave(room, Resume(self.broadcast, self.gop, player))
                else:
                    player.close()
                self.live.cond.notify_all()

    def _player(
        self, clip: flvloop.Clip, start_ms: int, resume: Resume | None
    ) -> flvloop.Player:
        """The last pull's player, moved on to the broadcast's clock if that is ahead (what
        nobody pulled meanwhile is gone); a new one when there is none, or it is a lap behind."""
        player = resume.player if resume is not None else None
        if player is None:
            return flvloop.Player(clip, start_ms)
        if self.speed == 0:
            return player  # as fast as the client reads: the broadcast waited for it
        if start_ms - player.peek().timestamp > player.clip.loop_ms:
            player.close()
            return flvloop.Player(clip, start_ms)
        while player.peek().timestamp < start_ms:
            player.take()
        return player

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
            tag = player.take()
            if tag.is_keyframe:
                self.gop = [tag]
            elif self.gop:
                self.gop.append(tag)
            self.buf += tag.encode()
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
                # Resumed only once the transport has written the chunk: a write that fails
                # closes the generator at the yield, so what is counted went out.
                with self.live.cond:
                    self.cdn.sent[self.room.room_id] += len(chunk)
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


# Controls


class CdnControls:
    """The CDN's controls, mixed into FakeBilibili (which provides `state`)."""

    state: State

    def set_cdn(
        self, *, stream_ttl: int | None = None, hosts: list[str] | None = None
    ) -> dict[str, Any]:
        """Until the next reset. stream_ttl: seconds a play URL stays valid (its `expires`;
        a pull already going is not cut). hosts: the CDN hosts play info lists, in order, some
        of HOSTS: ["cn-gotcha04"] gives only the close-delimited one."""
        if stream_ttl is not None and int(stream_ttl) < 1:
            raise ControlError("stream_ttl must be 1 s or more")
        if hosts is not None and (not hosts or set(hosts) - set(HOSTS)):
            raise ControlError(f"hosts must be some of {', '.join(HOSTS)}")
        with self.state.lock:
            if stream_ttl is not None:
                self.state.cdn.stream_ttl = int(stream_ttl)
            if hosts is not None:
                self.state.cdn.hosts = tuple(hosts)
        return self.cdn_log()

    def cdn_log(self) -> dict[str, Any]:
        """The settings, and counts: FLV pulls, GOPs resent, refusals by reason (refused_headers,
        refused_expired, refused_unsigned, refused_sign)."""
        with self.state.lock:
            cdn = self.state.cdn
            return {"stream_ttl": cdn.stream_ttl, "hosts": list(cdn.hosts), **cdn.log}

    def sent_bytes(self) -> dict[str, int]:
        """Media bytes sent per room (its id as a string, for JSON) since the last reset."""
        with self.state.lock:
            return {str(room): n for room, n in self.state.cdn.sent.items()}


PREFIX_ROUTES = [("GET", "/live-bvc/", stream)]
# (method, path pattern, action(fake, json body)), as in server.CONTROL_ROUTES.
CONTROL_ROUTES: list[tuple[str, str, Callable[..., Any]]] = [
    ("GET", r"/_fake/cdn", lambda f, b: f.cdn_log()),
    ("POST", r"/_fake/cdn", lambda f, b: f.set_cdn(**b)),
    ("GET", r"/_fake/cdn/sent", lambda f, b: f.sent_bytes()),
]
