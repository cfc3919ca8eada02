"""The live host's room endpoints: room_init, get_info, getInfoByRoom, get_anchor_in_room and
getDanmuInfo (play info and the rooms themselves are live.py's).

getInfoByRoom and getDanmuInfo want a WBI signature (rule "live_wbi"), and getDanmuInfo a
buvid3 cookie too (rule "danmu_buvid3"); the room/v1 and live_user endpoints want neither.
Special rooms show here as the site shows them: a paid room's special_type 1, a password room's
encrypted true with pwd_verified false.

Reference: /work/shared/reference/bilibili-protocol.md §6.1–§6.3; bilibili-2026.md (WBI on the
live calls; getDanmuInfo's token, host_list and buvid3).
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import TYPE_CHECKING, Any

from tests.fakebili import strict
from tests.fakebili.wire import Request, Response, fail, json_response, ok

if TYPE_CHECKING:
    from tests.fakebili.live import Room
    from tests.fakebili.server import State

# §6.1: room_init's live_time when offline.
OFFLINE_LIVE_TIME = -62170012800
# §6.1 special_type: 0 normal, 1 paid, 2 gala.
PAID_SPECIAL_TYPE = 1


def _url(req: Request, path: str) -> str:
    return path if path.startswith("http") else req.base_url + path


def _face(req: Request, room: Room) -> str:
    return f"{req.base_url}/bfs/face/{room.uid}.jpg"


def _china_time(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts + 8 * 3600))


def _room_v1(data: Any, code: int = 0, msg: str = "ok") -> Response:
    """§0: the room/v1 envelope, with both `msg` and `message`, and no ttl."""
    return json_response({"code": code, "msg": msg, "message": msg, "data": data})


def _up_session(room: Room) -> str:
    # Bilibili's id of one broadcast; here derived from its start.
    return f"{room.room_id}{room.live_time}" if room.live_time else ""


def special_type(room: Room) -> int:
    return PAID_SPECIAL_TYPE if room.paid else 0


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
            # §6.1's example: a room without a password says pwd_verified false here too.
            "encrypted": room.password,
            "pwd_verified": False,
            "live_time": room.live_time or OFFLINE_LIVE_TIME,
            "room_shield": 1,
            "is_sp": 0,
            "special_type": special_type(room),
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


def get_info_by_room(state: State, req: Request) -> Response:
    """§6.2's WBI-signed room info: -352 unsigned (rule live_wbi)."""
    if state.rules["live_wbi"] and not strict.wbi_valid(state, req):
        return strict.risk_control()
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
                "special_type": special_type(room),
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


# Chat server (danmaku)


def get_danmu_info(state: State, req: Request) -> Response:
    """The chat server's token and hosts: -352 unsigned (live_wbi) or without a buvid3 cookie
    (danmu_buvid3). The token is remembered with the room, the viewer and the buvid3, for the
    chat socket's auth (op 7) to check (chat.py). The one host is the fake's, as the client
    named it, with the chat socket's port for port, ws_port and wss_port (no TLS here: the
    client is told the scheme, ws, by FakeBilibili.env())."""
    if state.rules["live_wbi"] and not strict.wbi_valid(state, req):
        return strict.risk_control()
    buvid3 = req.cookies.get("buvid3", "")
    if state.rules["danmu_buvid3"] and not buvid3:
        return strict.risk_control()
    room = state.live.find(req.query.get("id"))
    if room is None:
        return fail(1002002, "参数错误")
    session = state.session_for(req)
    # The real token is opaque base64 of about 180 characters.
    token = base64.b64encode(secrets.token_bytes(135)).decode()
    state.live.danmu_tokens[token] = (
        room.room_id,
        session.mid if session else 0,
        buvid3,
    )
    hostname = req.headers.get("host", "127.0.0.1").partition(":")[0]
    port = state.chat.port
    host = {"host": hostname, "port": port, "wss_port": port, "ws_port": port}
    return ok(
        {
            "group": "live",
            "business_id": 0,
            "refresh_row_factor": 0.125,
            "refresh_rate": 100,
            "max_delay": 5000,
            "token": token,
            "host_list": [host],
        }
    )


ROUTES = {
    ("GET", "/room/v1/Room/room_init"): room_init,
    ("GET", "/room/v1/Room/get_info"): get_info,
    ("GET", "/xlive/web-room/v1/index/getInfoByRoom"): get_info_by_room,
    ("GET", "/live_user/v1/UserInfo/get_anchor_in_room"): get_anchor_in_room,
    ("GET", "/xlive/web-room/v1/index/getDanmuInfo"): get_danmu_info,
}
