"""The live host (api.live.bilibili.com): rooms, room info, anchor info, play info.

Play info points at the fake itself for the streams (cdn.py): a real H.264 + AAC clip
(tests/media.py makes one with ffmpeg on first use, or a room gets its own), looped with
continuous timestamps and paced at real time, or faster with the room's `speed` (0: as fast as
the client reads). onMetaData and the sequence headers come at timestamp 0, then the frames from
the broadcast's clock (ms since it went live), as from a CDN relaying a running broadcast:
clients must rebase.

Rooms and their stream controls live here, in LiveState (shared, under the fake's one lock). The
controls are LiveControls, mixed into FakeBilibili, and the same over HTTP in CONTROL_ROUTES.

Stream controls counted in bytes apply to the stream that reaches them first, once: drop (cut the
connection after N body bytes), stall (stop sending after N bytes, connection open, until
`clear` or the room goes off air). Controls at a stream time T (counted from the stream's first
frame, jumps aside; the same at any speed) apply once too, to the first stream to get there: a
timestamp jump and a clip swap (`at_seconds`; a swap at the next keyframe: the new clip's AVC/AAC
sequence headers, then its frames; later streams get the new clip), the end of the broadcast
(`offline_after_seconds`: as set_live(room, 0), so every stream ends after its last whole tag),
and a cut (`drop_after_seconds`: the frames before T, part of the next tag, then the connection
closes without ending the body; the room stays live).
HLS (protocol=1 in play info; set_hls_only hides the FLV) is served too, by hls.py: live
playlists of the same clip in MPEG-TS and fMP4 segments, paced at the room's `speed`, with their
own faults (set_hls). The FLV controls above do not touch it.

Reference: /work/shared/reference/bilibili-protocol.md §6 and §9 "Live".
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from tests.fakebili import cdn, flvloop, hls
from tests.fakebili.wire import (
    ControlError,
    Request,
    Response,
    fail,
    json_response,
    ok,
)

if TYPE_CHECKING:
    from tests.fakebili.server import State

# §6.1: room_init's live_time when offline.
OFFLINE_LIVE_TIME = -62170012800
SEED_ROOM = {"room_id": 23058, "short_id": 3, "uid": 11153765, "uname": "3号直播间"}
# §6.4: the qualities a room offers (source, and one transcode); logged out gets only the last.
ACCEPT_QN = [10000, 150]
LOGGED_OUT_QN = 150
QN_DESC = {
    30000: "杜比",
    20000: "4K",
    10000: "原画",
    400: "蓝光",
    250: "超清",
    150: "高清",
    80: "流畅",
}
CDNS = ("cn-gotcha01", "cn-gotcha04")


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

    def reset(self) -> None:
        with self.cond:
            for room in self.rooms.values():
                room.broadcast += 1
            self.rooms = {SEED_ROOM["room_id"]: _new_room(**SEED_ROOM)}
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


def _url(req: Request, path: str) -> str:
    return path if path.startswith("http") else req.base_url + path


def _face(req: Request, room: Room) -> str:
    return f"{req.base_url}/bfs/face/{room.uid}.jpg"


def _china_time(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts + 8 * 3600))


def _room_v1(data: Any, code: int = 0, msg: str = "ok") -> Response:
    """§0: the room/v1 envelope, with both `msg` and `message`, and no ttl."""
    return json_response({"code": code, "msg": msg, "message": msg, "data": data})


# §6.1 Room init


def room_init(state: State, req: Request) -> Response:
    room = state.live.find(req.query.get("id"))
    if room is None:
        return _room_v1({}, 60004, "直播间不存在")
    return _room_v1(
        {
            "room_id": room.room_id,
            "short_id": room.short_id,
            "uid": room.uid,
            "need_p2p": 0,
            "is_hidden": False,
            "is_locked": False,
            "is_portrait": False,
            "live_status": room.live_status,
            "hidden_till": 0,
            "lock_till": 0,
            "encrypted": False,
            "pwd_verified": False,
            "live_time": room.live_time or OFFLINE_LIVE_TIME,
            "room_shield": 1,
            "is_sp": 0,
            "special_type": 0,
        }
    )


# §6.2 Room info


def get_info(state: State, req: Request) -> Response:
    room = state.live.find(req.query.get("room_id", req.query.get("id")))
    if room is None:
        return _room_v1([], 1, "未找到该房间")
    cover = _url(req, room.cover)
    return _room_v1(
        {
            "uid": room.uid,
            "room_id": room.room_id,
            "short_id": room.short_id,
            "attention": 1024,
            "online": 321 if room.live_status == 1 else 0,
            "is_portrait": False,
            "description": room.description,
            "live_status": room.live_status,
            "area_id": room.area_id,
            "parent_area_id": room.parent_area_id,
            "parent_area_name": room.parent_area_name,
            "old_area_id": 0,
            "background": "",
            "title": room.title,
            "user_cover": cover,
            "keyframe": f"{req.base_url}/bfs/live-key-frame/keyframe_{room.room_id}.jpg",
            "is_strict_room": False,
            "live_time": _china_time(room.live_time)
            if room.live_time
            else "0000-00-00 00:00:00",
            "tags": room.tags,
            "is_anchor": 0,
            "room_silent_type": "",
            "room_silent_level": 0,
            "room_silent_second": 0,
            "area_name": room.area_name,
            "pendants": "",
            "area_pendants": "",
            "hot_words": [],
            "hot_words_status": 0,
            "verify": "",
            "new_pendants": {},
            "up_session": _up_session(room),
            "pk_status": 0,
            "pk_id": 0,
            "battle_id": 0,
            "allow_change_area_time": 0,
            "allow_upload_cover_time": 0,
            "studio_info": {"status": 0, "master_list": []},
        }
    )


def _up_session(room: Room) -> str:
    # Bilibili's id of one broadcast; here derived from its start.
    return f"{room.room_id}{room.live_time}" if room.live_time else ""


def get_info_by_room(state: State, req: Request) -> Response:
    # Current biliup signs this with WBI (wts, w_rid): accepted and not checked.
    room = state.live.find(req.query.get("room_id"))
    if room is None:
        return fail(19002000, "获取初始化数据失败")
    return ok(
        {
            "room_info": {
                "uid": room.uid,
                "room_id": room.room_id,
                "short_id": room.short_id,
                "title": room.title,
                "cover": _url(req, room.cover),
                "tags": room.tags,
                "background": "",
                "description": room.description,
                "live_status": room.live_status,
                "live_start_time": room.live_time,
                "live_screen_type": 0,
                "lock_status": 0,
                "lock_time": 0,
                "hidden_status": 0,
                "hidden_time": 0,
                "area_id": room.area_id,
                "area_name": room.area_name,
                "parent_area_id": room.parent_area_id,
                "parent_area_name": room.parent_area_name,
                "keyframe": f"{req.base_url}/bfs/live-key-frame/keyframe_{room.room_id}.jpg",
                "special_type": 0,
                "up_session": _up_session(room),
                "pk_status": 0,
                "is_studio": False,
                "pendants": {"frame": {"name": "", "value": "", "desc": ""}},
                "on_voice_join": 0,
                "online": 321 if room.live_status == 1 else 0,
                "room_type": {},
            },
            "anchor_info": {
                "base_info": {
                    "uname": room.uname,
                    "face": _face(req, room),
                    "gender": "保密",
                    "official_info": {
                        "role": 0,
                        "title": "",
                        "desc": "",
                        "is_nft": 0,
                        "nft_dmark": "",
                    },
                },
                "live_info": {
                    "level": 20,
                    "level_color": 10512625,
                    "score": 1234567,
                    "upgrade_score": 0,
                    "current": [0, 0],
                    "next": [],
                    "rank": ">50000",
                },
                "relation_info": {"attention": 1024},
            },
            "news_info": {"uid": room.uid, "ctime": "", "content": ""},
            "watched_show": {
                "switch": True,
                "num": 321,
                "text_small": "321",
                "text_large": "321人看过",
                "icon": "",
                "icon_location": 0,
                "icon_web": "",
            },
        }
    )


# §6.3 Anchor info


def get_anchor_in_room(state: State, req: Request) -> Response:
    room = state.live.find(req.query.get("roomid"))
    if room is None:
        # §6.3: code 0 even for a missing room (the empty data is a guess).
        return _room_v1({}, 0, "success")
    return _room_v1(
        {
            "info": {
                "uid": room.uid,
                "uname": room.uname,
                "face": _face(req, room),
                "rank": "0",
                "platform_user_level": 6,
                "mobile_verify": 1,
                "identification": 1,
                "official_verify": {"type": -1, "desc": "", "role": 0},
                "vip_type": 0,
                "gender": -1,
            },
            "level": {
                "uid": room.uid,
                "cost": 0,
                "rcost": 1234567,
                "user_score": "0",
                "vip": 0,
                "vip_time": "0000-00-00 00:00:00",
                "svip": 0,
                "svip_time": "0000-00-00 00:00:00",
                "update_time": "2024-01-01 00:00:00",
                "master_level": {
                    "level": 20,
                    "color": 10512625,
                    "current": [0, 0],
                    "next": [0, 0],
                    "anchor_score": 1234567,
                    "upgrade_score": 0,
                    "master_level_color": 10512625,
                    "sort": ">50000",
                },
                "user_level": 10,
                "color": 9868950,
                "anchor_score": 1234567,
            },
            "san": 12,
        },
        0,
        "success",
    )


# §6.4 Play info


def _ints(value: str, default: str) -> set[int]:
    return {int(v) for v in (value or default).split(",") if v.strip().isdigit()}


def _served_qn(requested: int, logged_in: bool) -> int:
    """The best accepted quality at or below the one asked for (else the lowest); logged-out
    clients get LOGGED_OUT_QN whatever they ask."""
    if not logged_in:
        return LOGGED_OUT_QN
    return max((qn for qn in ACCEPT_QN if qn <= requested), default=ACCEPT_QN[-1])


def _codec(
    state: State, req: Request, room: Room, qn: int, mid: int, ext: str
) -> dict[str, Any]:
    base_url = (
        f"/live-bvc/{secrets.randbelow(900000) + 100000}/{room.stream_name(qn)}{ext}?"
    )
    url_info = []
    for cdn_name in CDNS:
        params = {
            "expires": str(int(state.now()) + cdn.STREAM_TTL),
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
                "stream_ttl": cdn.STREAM_TTL,
            }
        )
    return {
        "codec_name": "avc",
        "current_qn": qn,
        "accept_qn": ACCEPT_QN,
        "base_url": base_url,
        "url_info": url_info,
        "hdr_qn": None,
        "dolby_type": 0,
        "attr_name": "",
        "hdr_type": 0,
    }


def get_room_play_info(state: State, req: Request) -> Response:
    if not req.query.get("room_id", "").isdigit():
        return fail(1002002, "参数错误")
    room = state.live.find(req.query["room_id"])
    if room is None:
        return fail(19002000, "获取初始化数据失败")
    session = state.session_for(req)
    requested = int(req.query["qn"]) if req.query.get("qn", "").isdigit() else 10000
    qn = _served_qn(requested, session is not None)
    mid = session.mid if session else 0
    protocols = _ints(req.query.get("protocol", ""), "0,1")
    formats = _ints(req.query.get("format", ""), "0,1,2")
    # Only AVC exists here: it is offered whatever `codec` asks for (a guess at Bilibili's way).
    streams = []
    if 0 in protocols and 0 in formats and not room.hls_only:
        flv = {
            "format_name": "flv",
            "codec": [_codec(state, req, room, qn, mid, ".flv")],
        }
        streams.append({"protocol_name": "http_stream", "format": [flv]})
    offered = room.hls_formats.split(",")
    playlists = []
    if 1 in formats and "ts" in offered:
        codec = _codec(state, req, room, qn, mid, ".m3u8")
        playlists.append({"format_name": "ts", "codec": [codec]})
    if 2 in formats and "fmp4" in offered:
        codec = _codec(state, req, room, qn, mid, "/index.m3u8")
        playlists.append({"format_name": "fmp4", "codec": [codec]})
    if 1 in protocols and playlists:
        streams.append({"protocol_name": "http_hls", "format": playlists})
    playurl_info = None
    if room.live_status == 1:
        playurl_info = {
            "conf_json": '{"cdn_rate":10000,"report_interval_sec":150}',
            "playurl": {
                "cid": room.room_id,
                "g_qn_desc": [
                    {"qn": q, "desc": d, "hdr_desc": "", "attr_desc": None}
                    for q, d in QN_DESC.items()
                ],
                "stream": streams,
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
            "encrypted": False,
            "pwd_verified": True,
            "live_time": room.live_time,
            "room_shield": 0,
            "all_special_types": [],
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
        the default clip)."""
        unknown = set(fields) - CONTROL_FIELDS
        if unknown:
            raise ControlError(f"unknown room fields: {sorted(unknown)}")
        if fields.get("clip") is not None:
            fields["clip"] = str(_check_clip(fields["clip"]))
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
        `at_seconds`. offline_after_seconds=T: the first stream to reach stream second T (its
        frames since it started, whatever the speed) ends the broadcast there, as set_live(room,
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

    def open_streams(self, room_id: int) -> int:
        """How many FLV responses of the room are being sent right now."""
        with self.state.lock:
            return self._room(room_id).open_streams


def _check_hls_formats(value: Any) -> str:
    try:
        return hls.formats(value)
    except (TypeError, ValueError) as exc:
        raise ControlError(str(exc)) from exc


def _check_clip(path: str | Path) -> Path:
    """A readable FLV clip, loaded now so a stream switching to it does not wait."""
    try:
        return flvloop.load(Path(path)).path
    except (OSError, ValueError) as exc:
        raise ControlError(f"bad clip {path}: {exc}") from exc


ROUTES = {
    ("GET", "/room/v1/Room/room_init"): room_init,
    ("GET", "/room/v1/Room/get_info"): get_info,
    ("GET", "/xlive/web-room/v1/index/getInfoByRoom"): get_info_by_room,
    ("GET", "/live_user/v1/UserInfo/get_anchor_in_room"): get_anchor_in_room,
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
        "GET",
        _ROOM + "/streams",
        lambda f, b, room_id: {"open": f.open_streams(int(room_id))},
    ),
]
