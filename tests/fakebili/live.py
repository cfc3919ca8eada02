"""The live host (api.live.bilibili.com): the rooms, play info, and their controls (room_init,
room info, anchor info and the chat server's getDanmuInfo are rooms.py's).

Play info points at the fake itself for the streams (cdn.py): a real H.264 + AAC clip
(tests/media.py makes one with ffmpeg on first use, or a room gets its own), looped with
continuous timestamps and paced at real time, or faster with the room's `speed` (0: as fast as
the client reads). onMetaData and the sequence headers come at timestamp 0, then the frames from
the broadcast's clock (ms since it went live), as from a CDN relaying a running broadcast:
clients must rebase.

Play info is as strict as the site (strict.py): -352 without a valid WBI signature (rule
live_wbi); without a login cookie, no better than qn 250 (qn_cap), though accept_qn lists every
quality the room has, best first (qn values are opaque: 25000 原画真彩 ranks above 10000). A room's
origin may be HEVC only (offered as codec "hevc" in fMP4-HLS, and only to clients that ask for
codec 1) or HLS only, fMP4 only (set_origin); paid, guard-only (舰长专属) and password rooms
answer as the site does (set_special): all_special_types [203] and no streams; no streams; and
encrypted true, pwd_verified false, no playurl_info.

Rooms and their stream controls live here, in LiveState (shared, under the fake's one lock). The
controls are LiveControls, mixed into FakeBilibili, and the same over HTTP in CONTROL_ROUTES.

Stream controls counted in bytes apply to the stream that reaches them first, once: drop (cut the
connection after N body bytes), stall (stop sending after N bytes, connection open, until
`clear` or the room goes off air). Controls at a stream time T (counted from the broadcast's
first pulled frame, across reconnects (cdn.py), jumps aside; the same at any speed) apply once
too, to the first stream to get there: a
timestamp jump and a clip swap (`at_seconds`; a swap at the next keyframe: the new clip's AVC/AAC
sequence headers, then its frames; later streams get the new clip), the end of the broadcast
(`offline_after_seconds`: as set_live(room, 0), so every stream ends after its last whole tag),
and a cut (`drop_after_seconds`: the frames before T, part of the next tag, then the connection
closes without ending the body; the room stays live).
HLS (protocol=1 in play info; set_hls_only hides the FLV) is served too, by hls.py: live
playlists of the same clip in MPEG-TS and fMP4 segments, paced at the room's `speed`, with their
own faults (set_hls). The FLV controls above do not touch it.

Reference: /work/shared/reference/bilibili-protocol.md §6 and §9 "Live"; bilibili-2026.md "Live
rooms and the stream CDN" (WBI, the qn cap, HEVC/fMP4-only origins, special lives).
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from tests.fakebili import cdn, flvloop, hls, rooms, strict
from tests.fakebili.wire import ControlError, Request, Response, fail, ok

if TYPE_CHECKING:
    from tests.fakebili.server import State

SEED_ROOM = {"room_id": 23058, "short_id": 3, "uid": 11153765, "uname": "3号直播间"}
# §6.4: the qualities a room offers, best first (the source and three transcodes). accept_qn's
# order is the ranking: a client must not compare the numbers (25000 and 15000 exist).
ACCEPT_QN = (10000, 400, 250, 150)
# bilibili-2026.md: logged-out play URLs are capped (rule qn_cap).
LOGGED_OUT_QN = 250
# What the site's qualities are, best first: the fake's own ranking, for the cap and the default.
QN_RANK = (30000, 25000, 20000, 15000, 10000, 400, 250, 150, 80)
QN_DESC = {
    30000: "杜比",
    25000: "原画真彩",
    20000: "4K",
    15000: "2K",
    10000: "原画",
    400: "蓝光",
    250: "超清",
    150: "高清",
    80: "流畅",
}
CDNS = ("cn-gotcha01", "cn-gotcha04")
# §6.4 codec: 0 avc, 1 hevc. The formats: 0 flv, 1 ts, 2 fmp4.
CODEC_IDS = {"avc": 0, "hevc": 1}
FORMATS = ("flv", "ts", "fmp4")
# all_special_types of a paid live (biliLive-tools #485).
PAID_SPECIAL_TYPE = 203


@dataclass
class Room:
    room_id: int
    short_id: int = 0
    uid: int = 0
    uname: str = ""
    title: str = ""
    cover: str = ""  # a path on the image host, or a full URL
    description: str = ""
    tags: str = ""
    area_id: int = 190
    area_name: str = "唱见电台"
    parent_area_id: int = 5
    parent_area_name: str = "电台"
    live_status: int = 0  # 0 offline, 1 live, 2 rotation
    live_start: int = 0  # unix seconds this broadcast began; 0 when not broadcasting
    # Stream controls
    speed: float = 1.0
    hls_only: bool = False
    hls_formats: str = "ts,fmp4"  # offered in play info and served
    clip: str | None = None  # FLV path; None: media.clip()
    # The origin (set_origin): its codec ("avc", or "hevc": an HEVC-only origin, its HLS made
    # from the clip with libx265) and its qualities, best first.
    codec: str = "avc"
    accept_qn: tuple[int, ...] = ACCEPT_QN
    # The CDN hosts play info lists for this room, in order (some of cdn.HOSTS); empty: the
    # CDN's own list (set_cdn). A benchmark mixes chunked and close-delimited rooms with it.
    cdn_hosts: tuple[str, ...] = ()
    # Special lives (set_special): paid (DRM: all_special_types 203, room_init special_type 1,
    # no streams; tickets are not modelled), guard-only (舰长专属: no streams), password
    # (encrypted, not verified: no playurl_info).
    paid: bool = False
    guard_only: bool = False
    password: bool = False
    drop_after_bytes: int | None = None
    stall_after_bytes: int | None = None
    jump_ms: int | None = None
    jump_at: float = 0.0
    swap_clip: str | None = None
    swap_at: float = 0.0
    offline_after_seconds: float | None = None
    drop_after_seconds: float | None = None
    # HLS faults: the next N playlist / media segment requests answer hls_fail_status.
    hls_fail_playlists: int = 0
    hls_fail_segments: int = 0
    hls_fail_status: int = 404
    # HLS pacing (hls.py): the packager had made `hls_edge_s` media seconds at `hls_edge_at`.
    hls_edge_s: float = 0.0
    hls_edge_at: float = 0.0
    # Bookkeeping: streams end when `broadcast` moves on; stalls end when `releases` does.
    broadcast: int = 0
    releases: int = 0
    open_streams: int = 0

    @property
    def stream_id(self) -> int:
        # The room's stream name is stable across broadcasts, as a streamer's live code is.
        return 1000000 + self.room_id * 7919 % 9000000

    def stream_name(self, qn: int) -> str:
        return f"live_{self.uid}_{self.stream_id}{cdn.QN_SUFFIX.get(qn, '')}"

    @property
    def live_time(self) -> int:
        return self.live_start if self.live_status == 1 else 0

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "live_time": self.live_time}


CONTROL_FIELDS = {
    f.name
    for f in dataclasses.fields(Room)
    if f.name
    not in {
        "live_status",
        "live_start",
        "broadcast",
        "releases",
        "open_streams",
        "jump_ms",
        "jump_at",
        "swap_clip",
        "swap_at",
        "drop_after_bytes",
        "stall_after_bytes",
        "offline_after_seconds",
        "drop_after_seconds",
        "hls_fail_playlists",
        "hls_fail_segments",
        "hls_fail_status",
        "hls_edge_s",
        "hls_edge_at",
    }
}


class LiveState:
    """The rooms. Shares the fake's lock; `cond` wakes streams when a room changes."""

    def __init__(self, lock: threading.RLock, now: Callable[[], float]) -> None:
        self.cond = threading.Condition(lock)
        self.now = now
        self.rooms: dict[int, Room] = {}
        # getDanmuInfo's tokens: token → (room id, viewer's mid or 0, buvid3), for the chat
        # socket's auth.
        self.danmu_tokens: dict[str, tuple[int, int, str]] = {}

    def reset(self) -> None:
        with self.cond:
            for room in self.rooms.values():
                room.broadcast += 1
            self.rooms = {SEED_ROOM["room_id"]: _new_room(**SEED_ROOM)}
            self.danmu_tokens = {}
            self.cond.notify_all()

    def find(self, value: str | int | None) -> Room | None:
        """The room with this long or short id."""
        try:
            room_id = int(str(value))
        except ValueError:
            return None
        room = self.rooms.get(room_id)
        if room is None and room_id > 0:
            room = next((r for r in self.rooms.values() if r.short_id == room_id), None)
        return room

    def set_status(self, room: Room, status: int) -> None:
        """Start (1) or end (0, 2) a broadcast; ending one ends its open streams. Lock held."""
        if status == room.live_status:
            return
        room.live_status = status
        room.broadcast += 1
        if status == 1:
            # Whole seconds, as Bilibili gives them, and never the last broadcast's.
            room.live_start = max(int(self.now()), room.live_start + 1)
            hls.start_broadcast(room)
        self.cond.notify_all()

    def on_air(self, room: Room, broadcast: int) -> bool:
        return (
            self.rooms.get(room.room_id) is room
            and room.broadcast == broadcast
            and room.live_status == 1
        )


def _new_room(room_id: int, uid: int | None = None, **fields: Any) -> Room:
    room = Room(room_id=room_id, uid=room_id if uid is None else uid, **fields)
    room.uname = room.uname or f"主播{room.uid}"
    room.title = room.title or f"{room.uname}的直播间"
    room.cover = room.cover or f"/bfs/live/new_room_cover/{room_id}.jpg"
    return room


# §6.4 Play info


def _ints(value: str, default: str) -> set[int]:
    return {int(v) for v in (value or default).split(",") if v.strip().isdigit()}


def _rank(qn: int) -> int:
    return QN_RANK.index(qn) if qn in QN_RANK else len(QN_RANK)


def _served_qn(room: Room, requested: int, capped: bool) -> int:
    """The quality asked for if the room has it, else its default (原画 10000 where offered,
    else its best). Capped (logged out, rule qn_cap): no better than LOGGED_OUT_QN."""
    accept = list(room.accept_qn)
    qn = requested if requested in accept else (10000 if 10000 in accept else accept[0])
    if capped and _rank(qn) < _rank(LOGGED_OUT_QN):
        allowed = [q for q in accept if _rank(q) >= _rank(LOGGED_OUT_QN)]
        qn = allowed[0] if allowed else accept[-1]
    return qn


def _codec(
    state: State, req: Request, room: Room, qn: int, mid: int, ext: str
) -> dict[str, Any]:
    base_url = (
        f"/live-bvc/{secrets.randbelow(900000) + 100000}/{room.stream_name(qn)}{ext}?"
    )
    url_info = []
    # cdn.py's hosts and TTL: set_cdn() can list only the close-delimited host, or shorten it.
    for cdn_name in room.cdn_hosts or state.cdn.hosts:
        params = {
            "expires": str(int(state.now()) + state.cdn.stream_ttl),
            "len": "0",
            "oi": "0",
            "pt": "web",
            "qn": str(qn),
            "trid": secrets.token_hex(16),
            "sigparams": cdn.SIGPARAMS,
            "cdn": cdn_name,
        }
        params["sign"] = cdn.sign(room.stream_name(qn), params)
        extra = {**params, "site": secrets.token_hex(16), "free_type": "0"}
        extra.update(mid=str(mid), sche="ban", trace="0", isp="ct", rg="other")
        url_info.append(
            {
                "host": req.base_url,
                "extra": urlencode(extra, safe=","),
                "stream_ttl": state.cdn.stream_ttl,
            }
        )
    return {
        "codec_name": room.codec,
        "current_qn": qn,
        "accept_qn": list(room.accept_qn),
        "base_url": base_url,
        "url_info": url_info,
        "hdr_qn": None,
        "dolby_type": 0,
        "attr_name": "",
        "hdr_type": 0,
    }


def offered_formats(room: Room) -> list[str]:
    """What the room's origin offers: FLV unless HLS only (AVC only: HEVC in FLV is not made
    here), and its HLS formats."""
    flv = [] if room.hls_only or room.codec != "avc" else ["flv"]
    return flv + room.hls_formats.split(",")


def _streams(
    state: State, req: Request, room: Room, qn: int, mid: int
) -> list[dict[str, Any]]:
    """play info's `stream` list for the protocols, formats and codecs the query asks for. The
    codec is honoured: an HEVC origin offers nothing to a client asking codec=0 only (a
    missing `codec` is taken as 0, AVC)."""
    protocols = _ints(req.query.get("protocol", ""), "0,1")
    formats = _ints(req.query.get("format", ""), "0,1,2")
    codecs = _ints(req.query.get("codec", ""), "0")
    if room.paid or room.guard_only or CODEC_IDS[room.codec] not in codecs:
        return []
    offered = offered_formats(room)
    streams = []
    if 0 in protocols and 0 in formats and "flv" in offered:
        flv = {
            "format_name": "flv",
            "codec": [_codec(state, req, room, qn, mid, ".flv")],
        }
        streams.append({"protocol_name": "http_stream", "format": [flv]})
    playlists = []
    if 1 in formats and "ts" in offered:
        codec = _codec(state, req, room, qn, mid, ".m3u8")
        playlists.append({"format_name": "ts", "codec": [codec]})
    if 2 in formats and "fmp4" in offered:
        codec = _codec(state, req, room, qn, mid, "/index.m3u8")
        playlists.append({"format_name": "fmp4", "codec": [codec]})
    if 1 in protocols and playlists:
        streams.append({"protocol_name": "http_hls", "format": playlists})
    return streams


def get_room_play_info(state: State, req: Request) -> Response:
    """§6.4. -352 unsigned (live_wbi); qn capped without a login cookie (qn_cap); a paid room
    lists 203 in all_special_types and, like a guard-only room, offers no streams; a password
    room has no playurl_info."""
    if state.rules["live_wbi"] and not strict.wbi_valid(state, req):
        return strict.risk_control()
    if not req.query.get("room_id", "").isdigit():
        return fail(1002002, "参数错误")
    room = state.live.find(req.query["room_id"])
    if room is None:
        return fail(19002000, "获取初始化数据失败")
    session = state.session_for(req)
    requested = int(req.query["qn"]) if req.query.get("qn", "").isdigit() else 10000
    capped = session is None and state.rules["qn_cap"]
    qn = _served_qn(room, requested, capped)
    mid = session.mid if session else 0
    playurl_info = None
    if room.live_status == 1 and not room.password:
        playurl_info = {
            "conf_json": '{"cdn_rate":10000,"report_interval_sec":150}',
            "playurl": {
                "cid": room.room_id,
                "g_qn_desc": [
                    {"qn": q, "desc": d, "hdr_desc": "", "attr_desc": None}
                    for q, d in QN_DESC.items()
                ],
                "stream": _streams(state, req, room, qn, mid),
                "p2p_data": {
                    "p2p": False,
                    "p2p_type": 0,
                    "m_p2p": False,
                    "m_servers": None,
                },
                "dolby_qn": None,
            },
        }
    return ok(
        {
            "room_id": room.room_id,
            "short_id": room.short_id,
            "uid": room.uid,
            "is_hidden": False,
            "is_locked": False,
            "is_portrait": False,
            "live_status": room.live_status,
            "hidden_till": 0,
            "lock_till": 0,
            "encrypted": room.password,
            "pwd_verified": not room.password,
            "live_time": room.live_time,
            "room_shield": 0,
            "all_special_types": [PAID_SPECIAL_TYPE] if room.paid else [],
            "playurl_info": playurl_info,
        }
    )


# Controls


class LiveControls:
    """The live rooms' controls, mixed into FakeBilibili (which provides `state`)."""

    state: State

    def _room(self, room_id: int) -> Room:
        room = self.state.live.rooms.get(int(room_id))
        if room is None:
            raise ControlError(f"no room {room_id}", 404)
        return room

    def add_room(self, room_id: int, **fields: Any) -> dict[str, Any]:
        """Create a room, offline, or update one. fields: short_id, uid, uname, title, cover,
        description, tags, area_id, area_name, parent_area_id, parent_area_name, speed,
        hls_only, hls_formats (as set_hls's `formats`), clip (an FLV path to loop instead of
        the default clip), codec and accept_qn (as set_origin's), paid, guard_only, password
        (as set_special's), cdn_hosts (the room's own CDN hosts in play info, some of cdn.HOSTS)."""
        unknown = set(fields) - CONTROL_FIELDS
        if unknown:
            raise ControlError(f"unknown room fields: {sorted(unknown)}")
        if "accept_qn" in fields:
            fields["accept_qn"] = _check_accept_qn(fields["accept_qn"])
        if fields.get("codec", "avc") not in CODEC_IDS:
            raise ControlError(f"codec must be one of {sorted(CODEC_IDS)}")
        if fields.get("clip") is not None:
            fields["clip"] = str(_check_clip(fields["clip"]))
        if "cdn_hosts" in fields:
            fields["cdn_hosts"] = tuple(fields["cdn_hosts"] or ())
            if set(fields["cdn_hosts"]) - set(cdn.HOSTS):
                raise ControlError(f"cdn_hosts must be some of {', '.join(cdn.HOSTS)}")
        if "hls_formats" in fields:
            fields["hls_formats"] = _check_hls_formats(fields["hls_formats"])
        with self.state.lock:
            rooms = self.state.live.rooms
            room = rooms.get(int(room_id))
            if room is None:
                room = rooms[int(room_id)] = _new_room(int(room_id), **fields)
            else:
                if "speed" in fields:
                    hls.set_speed(room, float(fields.pop("speed")), self.state.now())
                for name, value in fields.items():
                    setattr(room, name, value)
            self.state.live.cond.notify_all()
            return room.to_dict()

    def rooms(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [room.to_dict() for room in self.state.live.rooms.values()]

    def set_live(self, room_id: int, status: int) -> dict[str, Any]:
        """1: a new broadcast starts (new live_time), unless the room is live already. 0 (offline)
        or 2 (rotation): the broadcast ends, and so do its open streams."""
        if int(status) not in (0, 1, 2):
            raise ControlError("status must be 0, 1 or 2")
        with self.state.lock:
            room = self._room(room_id)
            self.state.live.set_status(room, int(status))
            return room.to_dict()

    def set_stream(
        self,
        room_id: int,
        *,
        speed: float | None = None,
        drop_after_bytes: int | None = None,
        stall_after_bytes: int | None = None,
        jump_ms: int | None = None,
        swap_clip: str | Path | None = None,
        size: str | None = None,
        at_seconds: float = 0.0,
        offline_after_seconds: float | None = None,
        drop_after_seconds: float | None = None,
        clear: bool = False,
    ) -> dict[str, Any]:
        """Steer the room's streams. speed: × real time (0: as fast as the client reads).
        drop_after_bytes / stall_after_bytes: the first stream to send N bytes is cut, or stops
        sending with its connection open until `clear` or the room goes off air. jump_ms: +N ms
        on every later timestamp, from stream second `at_seconds`. swap_clip (an FLV path) or
        size ("640x360", a clip ffmpeg makes): play another clip from the first keyframe after
        `at_seconds`. offline_after_seconds=T: the first stream to reach stream second T (the
        broadcast's frames since its first pull, whatever the speed) ends the broadcast there, as set_live(room,
        0) does: its last frame is the one before T. drop_after_seconds=T: the first stream to
        reach second T is cut there (part of the tag at T sent, no end of body); the room stays
        live. Each of these happens once. clear: first cancel what has not happened yet, and end
        any stall."""
        if speed is not None and float(speed) < 0:
            raise ControlError("speed must be 0 (unpaced) or more")
        for name, value in (
            ("offline_after_seconds", offline_after_seconds),
            ("drop_after_seconds", drop_after_seconds),
        ):
            if value is not None and float(value) < 0:
                raise ControlError(f"{name} must be 0 or more")
        if size is not None:
            if not re.fullmatch(r"\d+x\d+", str(size)):
                raise ControlError('size must look like "640x360"')
            swap_clip = flvloop.make_clip(str(size))
        swap = _check_clip(swap_clip) if swap_clip is not None else None
        with self.state.lock:
            room = self._room(room_id)
            if clear:
                room.drop_after_bytes = room.stall_after_bytes = None
                room.jump_ms = room.swap_clip = None
                room.offline_after_seconds = room.drop_after_seconds = None
                room.releases += 1
            if speed is not None:
                hls.set_speed(room, float(speed), self.state.now())
            if drop_after_bytes is not None:
                room.drop_after_bytes = max(0, int(drop_after_bytes))
            if stall_after_bytes is not None:
                room.stall_after_bytes = max(0, int(stall_after_bytes))
            if jump_ms is not None:
                room.jump_ms, room.jump_at = int(jump_ms), float(at_seconds)
            if swap is not None:
                room.swap_clip, room.swap_at = str(swap), float(at_seconds)
            if offline_after_seconds is not None:
                room.offline_after_seconds = float(offline_after_seconds)
            if drop_after_seconds is not None:
                room.drop_after_seconds = float(drop_after_seconds)
            self.state.live.cond.notify_all()
            return room.to_dict()

    def set_hls_only(self, room_id: int, hls_only: bool = True) -> dict[str, Any]:
        """Play info offers only http_hls (the formats in the room's hls_formats, whose
        playlists and segments hls.py serves), and the FLV stream answers 404."""
        with self.state.lock:
            room = self._room(room_id)
            room.hls_only = bool(hls_only)
            result = room.to_dict()
        if hls_only:
            # Outside the lock: the first time, ffmpeg cuts the clip (hls.py).
            hls.prepare(room, room.hls_formats.split(","))
        return result

    def set_hls(
        self,
        room_id: int,
        *,
        formats: str | list[str] | None = None,
        fail_playlists: int | None = None,
        fail_segments: int | None = None,
        status: int = 404,
        clear: bool = False,
    ) -> dict[str, Any]:
        """The room's HLS. formats: "ts", "fmp4" or "ts,fmp4" (or a list), the http_hls formats
        play info offers and the CDN serves (the others' URLs answer 404). fail_playlists /
        fail_segments=N: the next N playlist / media segment requests (init segments aside)
        answer HTTP `status` (404 by default; 500, 503…), then all is well again. clear: first
        cancel the failures still pending."""
        kinds = None if formats is None else _check_hls_formats(formats)
        if not 400 <= int(status) <= 599:
            raise ControlError("status must be an HTTP error, 400 to 599")
        with self.state.lock:
            room = self._room(room_id)
            if clear:
                room.hls_fail_playlists = room.hls_fail_segments = 0
            if kinds is not None:
                room.hls_formats = kinds
            if fail_playlists is not None:
                room.hls_fail_playlists = max(0, int(fail_playlists))
            if fail_segments is not None:
                room.hls_fail_segments = max(0, int(fail_segments))
            if fail_playlists is not None or fail_segments is not None:
                room.hls_fail_status = int(status)
            result = room.to_dict()
        # Outside the lock: the first time, ffmpeg cuts the clip (hls.py).
        hls.prepare(room, room.hls_formats.split(","))
        return result

    def set_origin(
        self,
        room_id: int,
        *,
        codec: str | None = None,
        formats: str | list[str] | None = None,
        accept_qn: list[int] | None = None,
    ) -> dict[str, Any]:
        """What the room's origin offers. codec "hevc": an HEVC-only origin, offered as codec
        "hevc" only to clients asking codec 1, in HLS only (formats default to "fmp4"); "avc"
        the usual. formats: some of "flv", "ts", "fmp4" (a string or a list), at least one of
        them HLS: "fmp4" alone is an fMP4-HLS-only origin. accept_qn: the qualities, best first
        (any numbers: 25000 原画真彩 ranks where it is put)."""
        if codec is not None and codec not in CODEC_IDS:
            raise ControlError(f"codec must be one of {sorted(CODEC_IDS)}")
        qualities = None if accept_qn is None else _check_accept_qn(accept_qn)
        kinds = None
        if formats is not None or codec == "hevc":
            kinds = _check_formats(formats if formats is not None else "fmp4")
            if codec == "hevc" and "flv" in kinds:
                raise ControlError("HEVC is offered in HLS only here (no HEVC FLV)")
        with self.state.lock:
            room = self._room(room_id)
            if codec is not None:
                room.codec = codec
            if kinds is not None:
                room.hls_only = "flv" not in kinds
                room.hls_formats = ",".join(k for k in kinds if k != "flv")
            if qualities is not None:
                room.accept_qn = qualities
            result = room.to_dict()
        # Outside the lock: the first time, ffmpeg makes the media (hls.py).
        hls.prepare(room, room.hls_formats.split(","))
        return result

    def set_special(
        self,
        room_id: int,
        *,
        paid: bool | None = None,
        guard_only: bool | None = None,
        password: bool | None = None,
    ) -> dict[str, Any]:
        """Make the room a special live, or a plain one again. paid: a paid (DRM) live,
        all_special_types [203] and room_init special_type 1, no streams. guard_only: 舰长专属,
        play info without streams. password: encrypted true, pwd_verified false, no
        playurl_info."""
        with self.state.lock:
            room = self._room(room_id)
            for name, value in (
                ("paid", paid),
                ("guard_only", guard_only),
                ("password", password),
            ):
                if value is not None:
                    setattr(room, name, bool(value))
            return room.to_dict()

    def open_streams(self, room_id: int) -> int:
        """How many FLV responses of the room are being sent right now."""
        with self.state.lock:
            return self._room(room_id).open_streams


def _check_hls_formats(value: Any) -> str:
    try:
        return hls.formats(value)
    except (TypeError, ValueError) as exc:
        raise ControlError(str(exc)) from exc


def _check_formats(value: Any) -> list[str]:
    names = value.split(",") if isinstance(value, str) else list(value)
    kinds = [str(n).strip() for n in names if str(n).strip()]
    if not kinds or set(kinds) - set(FORMATS) or not set(kinds) - {"flv"}:
        raise ControlError(
            f"formats must be some of {', '.join(FORMATS)}, one of them HLS; not {value!r}"
        )
    return [k for k in FORMATS if k in kinds]


def _check_accept_qn(value: Any) -> tuple[int, ...]:
    try:
        qualities = tuple(int(q) for q in value)
    except (TypeError, ValueError) as exc:
        raise ControlError(f"accept_qn must be a list of numbers: {exc}") from exc
    if not qualities or len(set(qualities)) != len(qualities):
        raise ControlError("accept_qn must list distinct qualities, best first")
    return qualities


def _check_clip(path: str | Path) -> Path:
    """A readable FLV clip, loaded now so a stream switching to it does not wait."""
    try:
        return flvloop.load(Path(path)).path
    except (OSError, ValueError) as exc:
        raise ControlError(f"bad clip {path}: {exc}") from exc


ROUTES = {
    **rooms.ROUTES,
    ("GET", "/xlive/web-room/v2/index/getRoomPlayInfo"): get_room_play_info,
}

_ROOM = r"/_fake/rooms/(?P<room_id>\d+)"
# (method, path pattern, action(fake, json body, **groups)), as in server.CONTROL_ROUTES.
CONTROL_ROUTES: list[tuple[str, str, Callable[..., Any]]] = [
    ("GET", r"/_fake/rooms", lambda f, b: {"rooms": f.rooms()}),
    ("POST", r"/_fake/rooms", lambda f, b: f.add_room(**b)),
    (
        "POST",
        _ROOM + "/live",
        lambda f, b, room_id: f.set_live(int(room_id), b["status"]),
    ),
    (
        "POST",
        _ROOM + "/stream",
        lambda f, b, room_id: f.set_stream(int(room_id), **b),
    ),
    (
        "POST",
        _ROOM + "/hls_only",
        lambda f, b, room_id: f.set_hls_only(int(room_id), b.get("hls_only", True)),
    ),
    (
        "POST",
        _ROOM + "/hls",
        lambda f, b, room_id: f.set_hls(int(room_id), **b),
    ),
    (
        "POST",
        _ROOM + "/origin",
        lambda f, b, room_id: f.set_origin(int(room_id), **b),
    ),
    (
        "POST",
        _ROOM + "/special",
        lambda f, b, room_id: f.set_special(int(room_id), **b),
    ),
    (
        "GET",
        _ROOM + "/streams",
        lambda f, b, room_id: {"open": f.open_streams(int(room_id))},
    ),
]
