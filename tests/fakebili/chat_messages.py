"""The live chat's messages: the log entry of each message the fake sends (chat.py), and the JSON
the site sends for it: DANMU_MSG (some with the cmd's suffixes), SUPER_CHAT_MESSAGE, SEND_GIFT,
GUARD_BUY, and noise a client ignores (INTERACT_WORD, ONLINE_RANK_COUNT, WATCHED_CHANGE).

Prices in the entries are CNY; the site gives gift and guard prices in gold coins (1000 to the
yuan) and super chat prices in yuan.

Reference: /work/shared/reference/bilibili-2026.md "Live chat (danmaku)".
"""

from __future__ import annotations

import json
import random
import zlib
from typing import Any

from tests.fakebili.wire import ControlError

KINDS = ("danmaku", "superchat", "gift", "guard", "other")
FIELDS = {
    "danmaku": {"text", "uid", "uname", "mode", "size", "color", "cmd"},
    "superchat": {"text", "uid", "uname", "price", "duration"},
    "gift": {"text", "uid", "uname", "gift_name", "count", "price"},
    "guard": {"text", "uid", "uname", "level", "count", "price"},
    "other": {"text", "uid", "uname", "cmd"},
}
# The site sends DANMU_MSG with protocol suffixes too: clients must match on the prefix.
DANMU_CMDS = ("DANMU_MSG", "DANMU_MSG:4:0:2:2:2:0")
NOISE_CMDS = ("INTERACT_WORD", "ONLINE_RANK_COUNT", "WATCHED_CHANGE")
SUPERCHAT_IDS = 1000
GIFT_IDS = {"小花花": 31036, "牛哇牛哇": 31039, "干杯": 31041, "打call": 31116}
# guard_level: 1 总督, 2 提督, 3 舰长; a month's price in CNY.
GUARDS = {1: ("总督", 19998), 2: ("提督", 1998), 3: ("舰长", 198)}
VIEWERS = (
    (5201314, "路过的观众"),
    (233333, "吃瓜群众"),
    (10001, "老粉丝"),
    (777, "夜猫子"),
)
CHATTER = (
    "主播好",
    "来了来了",
    "哈哈哈哈",
    "666",
    "好耶",
    "？？？",
    "草",
    "这波可以",
    "晚上好",
)


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ControlError(f"{name} must be a number") from exc


def number(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ControlError(f"{name} must be a number") from exc
    if number < 0:
        raise ControlError(f"{name} must be 0 or more")
    return number


def _yuan(price: float) -> int | float:
    return int(price) if price == int(price) else price


def record(room_id: int, spec: dict[str, Any], n: int) -> dict[str, Any]:
    """The log entry of the fake's `n`th message, from chat_send's fields and "kind", defaults
    filled in (sent_at is set when it is sent). ControlError for bad fields."""
    spec = dict(spec)
    kind = spec.pop("kind", None)
    if kind not in KINDS:
        raise ControlError(f"kind must be one of {', '.join(KINDS)}")
    unknown = set(spec) - FIELDS[kind]
    if unknown:
        raise ControlError(f"unknown {kind} fields: {sorted(unknown)}")
    uid, uname = VIEWERS[n % len(VIEWERS)]
    if "uid" in spec:
        uid = _int(spec["uid"], "uid")
        uname = f"bili_{uid}"
    entry: dict[str, Any] = {
        "kind": kind,
        "room_id": room_id,
        "sent_at": 0.0,
        "text": str(spec.get("text", "")),
        "uid": uid,
        "uname": str(spec.get("uname", uname)),
    }
    if kind == "danmaku":
        entry["cmd"] = str(spec.get("cmd", DANMU_CMDS[n % 2]))
        entry["text"] = str(spec.get("text", CHATTER[n % len(CHATTER)]))
        entry["mode"] = _int(spec.get("mode", 1), "mode")
        entry["size"] = _int(spec.get("size", 25), "size")
        entry["color"] = _int(spec.get("color", 0xFFFFFF), "color")
    elif kind == "superchat":
        entry["cmd"] = "SUPER_CHAT_MESSAGE"
        entry["text"] = str(spec.get("text", "主播加油！"))
        entry["id"] = SUPERCHAT_IDS + n
        entry["price"] = _yuan(number(spec.get("price", 30), "price"))
        entry["duration"] = _int(spec.get("duration", 60), "duration")
    elif kind == "gift":
        entry["cmd"] = "SEND_GIFT"
        entry["gift_name"] = str(spec.get("gift_name", "小花花"))
        entry["count"] = _int(spec.get("count", 1), "count")
        entry["price"] = _yuan(number(spec.get("price", 0.1), "price"))
    elif kind == "guard":
        level = _int(spec.get("level", 3), "level")
        if level not in GUARDS:
            raise ControlError("level must be 1 (总督), 2 (提督) or 3 (舰长)")
        name, price = GUARDS[level]
        entry["cmd"] = "GUARD_BUY"
        entry["level"] = level
        entry["gift_name"] = name
        entry["count"] = _int(spec.get("count", 1), "count")
        entry["price"] = _yuan(number(spec.get("price", price), "price"))
    else:
        cmd = str(spec.get("cmd", NOISE_CMDS[n % len(NOISE_CMDS)]))
        if cmd not in NOISE_CMDS:
            raise ControlError(f"cmd must be one of {', '.join(NOISE_CMDS)}")
        entry["cmd"] = cmd
    return entry


def _medal(n: int, room_id: int) -> list[Any]:
    # Some viewers wear the room's fan medal, most wear none.
    if n % 3:
        return []
    return [
        21,
        "粉丝团",
        "主播",
        room_id,
        1725515,
        "",
        0,
        6809855,
        1725515,
        5414290,
        0,
        0,
        1,
    ]


def message(entry: dict[str, Any], n: int) -> dict[str, Any]:
    """The JSON the site sends for a log entry whose sent_at is set."""
    kind, sent_at, uid, uname = (
        entry["kind"],
        entry["sent_at"],
        entry["uid"],
        entry["uname"],
    )
    seconds = int(sent_at)
    if kind == "danmaku":
        ms = int(sent_at * 1000)
        extra = {
            "send_from_me": False,
            "mode": 0,
            "color": entry["color"],
            "content": entry["text"],
        }
        head = [
            0,
            entry["mode"],
            entry["size"],
            entry["color"],
            ms,
            random.randrange(1 << 31),
        ]
        head += [0, f"{zlib.crc32(str(uid).encode()):08x}", 0, 0, 0, "", 0, "{}", "{}"]
        head += [
            {
                "mode": 0,
                "show_player_type": 0,
                "extra": json.dumps(extra, ensure_ascii=False),
            },
            {"activity_identity": "", "activity_source": 0, "not_show": 0},
            0,
        ]
        info = [
            head,
            entry["text"],
            [uid, uname, 0, 0, 0, 10000, 1, ""],
            _medal(n, entry["room_id"]),
            [12, 0, 6406234, ">50000", 0],
            ["", ""],
            0,
            0,
            None,
            {"ts": seconds, "ct": f"{random.getrandbits(32):08X}"},
            0,
            0,
            None,
            None,
            0,
            105,
        ]
        return {"cmd": entry["cmd"], "info": info, "dm_v2": ""}
    if kind == "superchat":
        data = {
            "id": entry["id"],
            "uid": uid,
            "price": entry["price"],
            "rate": 1000,
            "message": entry["text"],
            "message_trans": "",
            "time": entry["duration"],
            "start_time": seconds,
            "end_time": seconds + entry["duration"],
            "ts": seconds,
            "token": f"{random.getrandbits(32):08X}",
            "background_color": "#EDF5FF",
            "background_bottom_color": "#2A60B2",
            "user_info": {
                "uname": uname,
                "face": "",
                "guard_level": 0,
                "user_level": 12,
            },
        }
        return {"cmd": "SUPER_CHAT_MESSAGE", "data": data, "roomid": entry["room_id"]}
    if kind == "gift":
        # Gift prices are in gold coins, 1000 to the yuan.
        gold = round(entry["price"] * 1000)
        data = {
            "giftName": entry["gift_name"],
            "giftId": GIFT_IDS.get(
                entry["gift_name"],
                30000 + zlib.crc32(entry["gift_name"].encode()) % 1000,
            ),
            "giftType": 0,
            "num": entry["count"],
            "uid": uid,
            "uname": uname,
            "face": "",
            "action": "投喂",
            "price": gold,
            "coin_type": "gold" if gold else "silver",
            "total_coin": gold * entry["count"],
            "timestamp": seconds,
            "rnd": str(random.getrandbits(40)),
        }
        return {"cmd": "SEND_GIFT", "data": data}
    if kind == "guard":
        data = {
            "uid": uid,
            "username": uname,
            "guard_level": entry["level"],
            "num": entry["count"],
            "price": round(entry["price"] * 1000),
            "gift_id": 10000 + entry["level"],
            "gift_name": entry["gift_name"],
            "start_time": seconds,
            "end_time": seconds,
        }
        return {"cmd": "GUARD_BUY", "data": data}
    return _noise(entry, seconds)


def _noise(entry: dict[str, Any], seconds: int) -> dict[str, Any]:
    cmd = entry["cmd"]
    if cmd == "INTERACT_WORD":
        data: dict[str, Any] = {
            "uid": entry["uid"],
            "uname": entry["uname"],
            "msg_type": 1,
            "roomid": entry["room_id"],
            "timestamp": seconds,
            "trigger_time": seconds * 1_000_000_000,
            "fans_medal": {"medal_level": 0, "medal_name": "", "target_id": 0},
        }
    elif cmd == "ONLINE_RANK_COUNT":
        data = {
            "count": 321,
            "count_text": "321",
            "online_count": 321,
            "online_count_text": "321",
        }
    else:
        data = {"num": 1024, "text_small": "1024", "text_large": "1024人看过"}
    return {"cmd": cmd, "data": data}
