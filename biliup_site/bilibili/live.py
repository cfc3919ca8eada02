"""Bilibili live rooms: is a room live, what is it called, where is its stream and in which
quality, can it be recorded at all, and where is its chat server. One function per endpoint.
Pulling the stream itself is `cdn`'s.

Play info and the chat server's info are WBI-signed (risk.wbi_call: the site answers -352
unsigned), with the live page's web_location; getDanmuInfo also wants a buvid3 cookie.

Reference: ../shared/reference/bilibili-protocol.md §6; bilibili-2026.md "Live rooms and the
stream CDN" (WBI, the qn cap, HEVC-only and fMP4-only origins, special lives) and "Live chat".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from biliup_site.bilibili import pace, risk
from biliup_site.bilibili.http import (
    LIVE_REFERER,
    BilibiliUnavailable,
    Session,
    call,
    live_url,
    session,
)

LIVE = 1  # live_status: 0 offline, 1 live, 2 rotation (replays: not recorded)
SOURCE_QN = 10000  # 原画: what is asked for first; accept_qn then says what is best
# (format, codec) in the order the recorder prefers them. AVC first, HTTP-FLV before HLS: FLV
# is parsed and repaired tag by tag. HEVC in fMP4 or TS before HEVC in FLV: ffmpeg before 6.1
# reads neither Bilibili's legacy FLV codec id 12 nor enhanced FLV, while an HEVC .mp4 plays
# anywhere; the FLV writer keeps HEVC intact, so an origin offering HEVC FLV only is still
# recorded.
PREFERENCE = [
    ("flv", "avc"),
    ("ts", "avc"),
    ("fmp4", "avc"),
    ("fmp4", "hevc"),
    ("ts", "hevc"),
    ("flv", "hevc"),
]
# Lives that cannot be recorded, and why (bilibili-2026.md "Special lives").
PAID = (
    "paid"  # DRM-protected: all_special_types holds 203, room_init's special_type is 1
)
GUARD = (
    "guard"  # 舰长专属 and the like: live, but play info offers this viewer no stream
)
PASSWORD = "password"  # encrypted and not verified: no play info without the password
PAID_SPECIAL_TYPE = 203  # in play info's all_special_types
PAID_ROOM_TYPE = 1  # room_init's special_type (§6.1: 0 normal, 1 paid, 2 gala)


@dataclass(frozen=True)
class Room:
    room_id: int  # the long id; short ids (e.g. 3) are aliases
    short_id: int
    uid: int
    live_status: int
    live_time: (
        int  # unix seconds of the broadcast's start; the same for its whole length
    )
    encrypted: bool = False
    pwd_verified: bool = False
    special_type: int = 0

    @property
    def is_live(self) -> bool:
        return self.live_status == LIVE

    @property
    def restriction(self) -> str:
        """PASSWORD or PAID when room_init already tells the live cannot be recorded, else "".
        (A guard-only live shows only in play info.)"""
        if self.encrypted and not self.pwd_verified:
            return PASSWORD
        return PAID if self.special_type == PAID_ROOM_TYPE else ""


@dataclass(frozen=True)
class RoomInfo:
    room_id: int
    title: str
    cover: str
    area_name: str
    live_status: int
    uname: str
    parent_area_name: str = ""
    online: int = 0  # get_info's `online` while live (0 offline)

    @property
    def is_live(self) -> bool:
        return self.live_status == LIVE


@dataclass(frozen=True)
class StreamUrl:
    url: str
    cdn: str
    qn: int  # current_qn: the quality this URL carries
    format: str  # flv, ts, fmp4
    codec: str  # avc, hevc
    # The qualities of this format and codec, best first, as the site ranks them: qn numbers
    # are opaque (25000 原画真彩 may rank above 10000), only this order says which is better.
    accept_qn: tuple[int, ...] = ()


@dataclass(frozen=True)
class PlayInfo:
    live_status: int
    urls: list[StreamUrl]  # what can be recorded, best first (PREFERENCE)
    restriction: str  # "", PAID, GUARD or PASSWORD
    offered: tuple[str, ...]  # every "format/codec" the room offers, recordable or not

    @property
    def is_live(self) -> bool:
        return self.live_status == LIVE

    @property
    def qn(self) -> int:
        """The quality that would be recorded (the best URL's); 0 when none."""
        return self.urls[0].qn if self.urls else 0

    @property
    def origin_qn(self) -> int:
        """The best quality the room has in the recorded format, whoever may watch it."""
        if not self.urls:
            return 0
        return (self.urls[0].accept_qn or (self.qn,))[0]

    @property
    def below_origin(self) -> bool:
        return bool(self.urls) and self.qn != self.origin_qn


@dataclass(frozen=True)
class DanmuHost:
    host: str
    port: int
    wss_port: int
    ws_port: int


@dataclass(frozen=True)
class DanmuInfo:
    """What the chat socket (wss://<host>:<wss_port>/sub) needs: its token for the auth
    packet, and the buvid3 the token was issued to (the auth's `buvid`)."""

    token: str
    hosts: list[DanmuHost]
    buvid3: str


def _session(room: int | str, credential: dict[str, Any] | None = None) -> Session:
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
        encrypted=bool(data.get("encrypted")),
        pwd_verified=bool(data.get("pwd_verified")),
        special_type=int(data.get("special_type") or 0),
    )


def get_info(room_id: int, *, paced: bool = False) -> RoomInfo:
    """Title, cover, area and online count of the room, in one call (no anchor name).

    paced: through the pace of the live host's counted calls (pace.py), for the room cards'
    refresh: a risk-control answer holds the host back for them, and during a hold the call is
    not sent (RiskControlled). The recorder's own calls are not paced: a recording never waits
    on a card."""
    # Reference: §6.2 get_info (no WBI signing).
    url = live_url("/room/v1/Room/get_info")
    sess = _session(room_id)
    if not paced:
        return _room_info(call(sess, "GET", url, params={"room_id": room_id}))
    sess = pace.paced(sess)
    return _room_info(
        pace.PACE.guarded(
            url, lambda: call(sess, "GET", url, params={"room_id": room_id})
        )
    )


def _room_info(info: Any, uname: str = "") -> RoomInfo:
    if not isinstance(info, dict):
        raise BilibiliUnavailable("get_info answered no room object")
    try:
        return RoomInfo(
            room_id=int(info["room_id"]),
            title=str(info.get("title") or ""),
            cover=str(info.get("user_cover") or info.get("keyframe") or ""),
            area_name=str(info.get("area_name") or ""),
            live_status=int(info.get("live_status") or 0),
            uname=uname,
            parent_area_name=str(info.get("parent_area_name") or ""),
            online=int(info.get("online") or 0),
        )
    except (KeyError, TypeError, ValueError):
        raise BilibiliUnavailable(
            "get_info answered an unexpected room object"
        ) from None


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
    uname = str(((anchor or {}).get("info") or {}).get("uname", ""))
    return _room_info(info, uname)


def play_info(
    room_id: int, credential: dict[str, Any] | None = None, qn: int = SOURCE_QN
) -> PlayInfo:
    """The room's recordable stream URLs in the best quality this viewer can get, and whether
    the live can be recorded at all (PlayInfo.restriction).

    Asks for every protocol, format and codec. When what came is below the best of accept_qn
    (the ranking is accept_qn's order, never the numbers), asks once more for that best; what
    comes then is what the account gets. Without the account's cookies the site caps the
    quality (qn 250): PlayInfo.below_origin says so.
    """
    sess = _session(room_id, credential)
    info = _play_info(sess, room_id, qn)
    best = info.origin_qn
    if info.urls and best != qn and info.qn != best:
        info = _play_info(sess, room_id, best)
    return info


def _play_info(sess: Session, room_id: int, qn: int) -> PlayInfo:
    # Reference: §6.4 getRoomPlayInfo (WBI-signed, bilibili-2026.md). The URL is host +
    # base_url + extra; `cdn=` is in extra.
    params = {
        "room_id": room_id,
        "protocol": "0,1",
        "format": "0,1,2",
        "codec": "0,1",
        "qn": qn,
        "platform": "web",
        "web_location": risk.LIVE_WEB_LOCATION,
    }
    data = risk.wbi_call(
        sess, live_url("/xlive/web-room/v2/index/getRoomPlayInfo"), params
    )
    data = data if isinstance(data, dict) else {}
    playurl_info = data.get("playurl_info") or {}
    playurl = playurl_info.get("playurl") if isinstance(playurl_info, dict) else None
    urls: list[StreamUrl] = []
    offered: list[str] = []
    streams = (playurl or {}).get("stream") or []
    for stream in streams:
        for fmt in stream.get("format") or []:
            for codec in fmt.get("codec") or []:
                offered.append(
                    f"{fmt.get('format_name', '')}/{codec.get('codec_name', '')}"
                )
                urls.extend(_urls(fmt, codec))
    live_status = int(data.get("live_status") or 0)
    if data.get("encrypted") and not data.get("pwd_verified"):
        restriction = PASSWORD
    elif PAID_SPECIAL_TYPE in (data.get("all_special_types") or []):
        restriction = PAID
    elif live_status == LIVE and playurl and not streams:
        restriction = GUARD
    else:
        restriction = ""
    return PlayInfo(
        live_status=live_status,
        urls=sorted(
            (u for u in urls if (u.format, u.codec) in PREFERENCE),
            key=lambda u: PREFERENCE.index((u.format, u.codec)),
        ),
        restriction=restriction,
        offered=tuple(dict.fromkeys(offered)),
    )


def _urls(fmt: dict[str, Any], codec: dict[str, Any]) -> list[StreamUrl]:
    accept = tuple(int(q) for q in codec.get("accept_qn") or [])
    urls = []
    for info in codec.get("url_info") or []:
        extra = str(info.get("extra", ""))
        urls.append(
            StreamUrl(
                url=f"{info['host']}{codec['base_url']}{extra}",
                cdn=(parse_qs(extra).get("cdn") or [""])[0],
                qn=int(codec.get("current_qn") or 0),
                format=str(fmt.get("format_name", "")),
                codec=str(codec.get("codec_name", "")),
                accept_qn=accept,
            )
        )
    return urls


def danmu_info(room_id: int, credential: dict[str, Any] | None = None) -> DanmuInfo:
    """The chat server's token and hosts for the room. WBI-signed, with a buvid3 cookie
    (from finger/spi, or made up): the site answers -352 without either."""
    # Reference: bilibili-2026.md "Live chat" (getDanmuInfo, buvid3 since 2025-06).
    sess = _session(room_id, credential)
    buvid3 = risk.ensure_buvid3(sess)
    data = risk.wbi_call(
        sess,
        live_url("/xlive/web-room/v1/index/getDanmuInfo"),
        {"id": room_id, "type": 0, "web_location": risk.LIVE_WEB_LOCATION},
    )
    hosts = [
        DanmuHost(
            host=str(h["host"]),
            port=int(h.get("port") or 0),
            wss_port=int(h.get("wss_port") or 0),
            ws_port=int(h.get("ws_port") or 0),
        )
        for h in (data or {}).get("host_list") or []
        if isinstance(h, dict) and h.get("host")
    ]
    return DanmuInfo(
        token=str((data or {}).get("token") or ""), hosts=hosts, buvid3=buvid3
    )
