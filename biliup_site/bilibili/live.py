"""Bilibili live rooms: is a room live, what is it called, and where is its stream. One function
per endpoint. Pulling the stream itself is `cdn`'s.

Reference: ../shared/reference/bilibili-protocol.md §6.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from biliup_site.bilibili.http import LIVE_REFERER, call, live_url, session

LIVE = 1  # live_status: 0 offline, 1 live, 2 rotation (replays: not recorded)
SOURCE_QN = 10000  # 原画, the original quality
# (format, codec) in the order the recorder prefers them. HTTP-FLV is parsed and repaired tag by
# tag; HLS segments are copied as they are, so HEVC is recorded only over HLS.
PREFERENCE = [
    ("flv", "avc"),
    ("ts", "avc"),
    ("fmp4", "avc"),
    ("fmp4", "hevc"),
    ("ts", "hevc"),
]


@dataclass(frozen=True)
class Room:
    room_id: int  # the long id; short ids (e.g. 3) are aliases
    short_id: int
    uid: int
    live_status: int
    live_time: (
        int  # unix seconds of the broadcast's start; the same for its whole length
    )

    @property
    def is_live(self) -> bool:
        return self.live_status == LIVE


@dataclass(frozen=True)
class RoomInfo:
    room_id: int
    title: str
    cover: str
    area_name: str
    live_status: int
    uname: str


@dataclass(frozen=True)
class StreamUrl:
    url: str
    cdn: str
    qn: int
    format: str  # flv, ts, fmp4
    codec: str  # avc, hevc


def _session(room: int | str, credential: dict[str, Any] | None = None) -> Any:
    sess = session(credential)
    sess.headers["Referer"] = f"{LIVE_REFERER}{room}"
    return sess


def room_init(room: int | str) -> Room:
    """The room behind a (short or long) id. Raises BilibiliError(60004) for no such room."""
    # Reference: §6.1.
    data = call(
        _session(room),
        "GET",
        live_url("/room/v1/Room/room_init"),
        params={"id": room},
    )
    return Room(
        room_id=int(data["room_id"]),
        short_id=int(data.get("short_id") or 0),
        uid=int(data["uid"]),
        live_status=int(data.get("live_status") or 0),
        live_time=int(data.get("live_time") or 0),
    )


def room_info(room_id: int) -> RoomInfo:
    """Title, cover and area of the room, and its anchor's name."""
    # Reference: §6.2 get_info and §6.3 get_anchor_in_room (neither needs WBI signing).
    sess = _session(room_id)
    info = call(
        sess,
        "GET",
        live_url("/room/v1/Room/get_info"),
        params={"room_id": room_id},
    )
    anchor = call(
        sess,
        "GET",
        live_url("/live_user/v1/UserInfo/get_anchor_in_room"),
        params={"roomid": room_id},
    )
    return RoomInfo(
        room_id=int(info["room_id"]),
        title=str(info.get("title", "")),
        cover=str(info.get("user_cover") or info.get("keyframe") or ""),
        area_name=str(info.get("area_name", "")),
        live_status=int(info.get("live_status") or 0),
        uname=str(((anchor or {}).get("info") or {}).get("uname", "")),
    )


def play_urls(
    room_id: int, credential: dict[str, Any] | None = None, qn: int = SOURCE_QN
) -> list[StreamUrl]:
    """The room's stream URLs that can be recorded, one per format and CDN host, best first
    (see PREFERENCE); [] when not live.

    The account's cookies unlock the original quality; without them Bilibili serves less.
    """
    # Reference: §6.4 getRoomPlayInfo. The URL is host + base_url + extra; `cdn=` is in extra.
    params = {
        "room_id": room_id,
        "protocol": "0,1",
        "format": "0,1,2",
        "codec": "0,1",
        "qn": qn,
        "platform": "web",
    }
    data = call(
        _session(room_id, credential),
        "GET",
        live_url("/xlive/web-room/v2/index/getRoomPlayInfo"),
        params=params,
    )
    playurl = ((data or {}).get("playurl_info") or {}).get("playurl") or {}
    urls: list[StreamUrl] = []
    for stream in playurl.get("stream") or []:
        for fmt in stream.get("format") or []:
            for codec in fmt.get("codec") or []:
                for info in codec.get("url_info") or []:
                    extra = str(info.get("extra", ""))
                    urls.append(
                        StreamUrl(
                            url=f"{info['host']}{codec['base_url']}{extra}",
                            cdn=(parse_qs(extra).get("cdn") or [""])[0],
                            qn=int(codec.get("current_qn") or 0),
                            format=str(fmt.get("format_name", "")),
                            codec=str(codec.get("codec_name", "")),
                        )
                    )
    return sorted(
        (u for u in urls if (u.format, u.codec) in PREFERENCE),
        key=lambda u: PREFERENCE.index((u.format, u.codec)),
    )
