"""The fake's live chat socket over a real WebSocket, with a client written here from the protocol
(not the product's), so a bug there does not hide here."""

from __future__ import annotations

import json
import struct
import time
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import brotli
import pytest
import requests
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.fakebili.server import FakeBilibili
from tests.fakebili.signing import wbi_signed
from tests.polling import wait_for

ROOM = 23058
OTHER_ROOM = 4242
BUVID3 = "5E3B1D9C-0000-4000-8000-FAKEBILITEST00000infoc"
HEADER = struct.Struct(">IHHII")
TIMEOUT = 5
# Each test's sockets, closed after it.
SOCKETS: list[ClientConnection] = []


@pytest.fixture(autouse=True)
def _close_sockets() -> Iterator[None]:
    yield
    while SOCKETS:
        SOCKETS.pop().close()


def pack(op: int, body: bytes, protover: int = 1) -> bytes:
    return HEADER.pack(16 + len(body), 16, protover, op, 1) + body


def unpack(data: bytes) -> list[tuple[int, int, bytes]]:
    """(protover, op, body) of every packet, compressed ones opened."""
    packets = []
    while data:
        length, header, protover, op, _ = HEADER.unpack_from(data)
        assert header == 16 and length <= len(data)
        body = data[header:length]
        if protover == 2:
            packets += unpack(zlib.decompress(body))
        elif protover == 3:
            packets += unpack(brotli.decompress(body))
        else:
            packets.append((protover, op, body))
        data = data[length:]
    return packets


def danmu_info(
    fake: FakeBilibili, room: int = ROOM, cookies: dict[str, str] | None = None
) -> dict[str, Any]:
    params = wbi_signed(fake, {"id": room, "type": 0})
    r = requests.get(
        fake.url + "/xlive/web-room/v1/index/getDanmuInfo",
        params=params,
        cookies={"buvid3": BUVID3, **(cookies or {})},
        timeout=TIMEOUT,
    )
    assert r.json()["code"] == 0, r.text
    return r.json()["data"]


def ws_url(fake: FakeBilibili, info: dict[str, Any] | None = None) -> str:
    [host] = (info or danmu_info(fake))["host_list"]
    assert (
        host["port"] == host["ws_port"] == host["wss_port"] != urlsplit(fake.url).port
    )
    return f"ws://{host['host']}:{host['ws_port']}/sub"


def open_chat(
    fake: FakeBilibili, room: int = ROOM, protover: int = 3, **auth: Any
) -> tuple[ClientConnection, dict[str, Any]]:
    """A socket after its auth, and the auth reply's JSON."""
    info = danmu_info(fake)
    ws = connect(ws_url(fake, info), open_timeout=TIMEOUT, close_timeout=1, legacy=True)
    SOCKETS.append(ws)
    body = {
        "uid": 0,
        "roomid": room,
        "protover": protover,
        "buvid": BUVID3,
        "platform": "web",
        "type": 2,
        "key": info["token"],
        **auth,
    }
    ws.send(
        pack(7, json.dumps({k: v for k, v in body.items() if v is not None}).encode())
    )
    [(_, op, reply)] = unpack(ws.recv(timeout=TIMEOUT))
    assert op == 8
    return ws, json.loads(reply)


def messages(ws: ClientConnection) -> list[dict[str, Any]]:
    """The op-5 messages of the next frame."""
    return [json.loads(b) for _, op, b in unpack(ws.recv(timeout=TIMEOUT)) if op == 5]


def closed(ws: ClientConnection) -> bool:
    """Whether the socket closes within TIMEOUT (frames still on their way are skipped)."""
    deadline = time.monotonic() + TIMEOUT
    try:
        while (left := deadline - time.monotonic()) > 0:
            ws.recv(timeout=left)
    except ConnectionClosed:
        return True
    except TimeoutError:
        pass
    return False


def test_auth_and_heartbeat(fake: FakeBilibili) -> None:
    ws, reply = open_chat(fake)
    assert reply == {"code": 0}
    [conn] = fake.chat_connections(ROOM)
    assert (conn["uid"], conn["buvid"], conn["protover"]) == (0, BUVID3, 3)
    fake.set_live(ROOM, 1)
    ws.send(pack(2, b"[object Object]"))
    [(_, op, body)] = unpack(ws.recv(timeout=TIMEOUT))
    assert op == 3 and struct.unpack(">I", body)[0] > 1
    assert fake.chat_connections(ROOM)[0]["heartbeats"] == 1
    ws.close()


@pytest.mark.parametrize(
    ("auth", "reason"),
    [
        ({"key": "not-a-token"}, "unknown"),
        ({"buvid": None}, "no buvid"),
        ({"buvid": "OTHER-infoc"}, "buvid"),
        ({"roomid": OTHER_ROOM}, "issued for room"),
        ({"uid": 10086}, "viewer 0"),
    ],
)
def test_auth_refused(fake: FakeBilibili, auth: dict[str, Any], reason: str) -> None:
    fake.add_room(OTHER_ROOM)
    ws, reply = open_chat(fake, **auth)
    assert reply == {"code": -101}
    assert closed(ws)
    [refusal] = fake.chat_refusals()
    assert reason in refusal
    assert fake.chat_connections() == []


@pytest.mark.parametrize("protover", [2, 3])
def test_messages_sent_together_share_a_compressed_frame(
    fake: FakeBilibili, protover: int
) -> None:
    ws, _ = open_chat(fake, protover=protover)
    sent = fake.chat_send_many(
        ROOM,
        [
            {"kind": "danmaku", "text": "第一条", "uid": 42},
            {"kind": "danmaku", "text": "第二条"},
            {"kind": "superchat", "text": "醒目留言", "price": 50, "duration": 90},
            {"kind": "gift", "gift_name": "干杯", "count": 3, "price": 0.1},
            {"kind": "guard", "level": 2},
            {"kind": "other", "cmd": "ONLINE_RANK_COUNT"},
        ],
    )
    frame = ws.recv(timeout=TIMEOUT)
    assert HEADER.unpack_from(frame)[2] == protover
    got = [json.loads(b) for _, op, b in unpack(frame) if op == 5]
    assert [m["cmd"].split(":")[0] for m in got] == [
        "DANMU_MSG",
        "DANMU_MSG",
        "SUPER_CHAT_MESSAGE",
        "SEND_GIFT",
        "GUARD_BUY",
        "ONLINE_RANK_COUNT",
    ]
    assert {m["cmd"] for m in got[:2]} == {"DANMU_MSG", "DANMU_MSG:4:0:2:2:2:0"}
    danmaku = got[0]["info"]
    # A guest (uid 0) is not shown who sent a danmaku.
    assert (danmaku[1], danmaku[2][0], danmaku[2][1][1:], danmaku[0][4]) == (
        "第一条",
        0,
        "***",
        sent[0]["sent_ms"],
    )
    sc = got[2]["data"]
    assert (sc["message"], sc["price"], sc["time"]) == ("醒目留言", 50, 90)
    gift = got[3]["data"]
    assert (gift["giftName"], gift["num"], gift["total_coin"]) == ("干杯", 3, 300)
    assert got[4]["data"]["guard_level"] == 2
    assert fake.chat_sent(ROOM) == [{**s, "delivered": 1} for s in sent]


def test_plain_protover_and_lone_noise(fake: FakeBilibili) -> None:
    ws, _ = open_chat(fake, protover=1)
    fake.chat_send_many(ROOM, [{"kind": "danmaku"}, {"kind": "gift"}])
    first, second = ws.recv(timeout=TIMEOUT), ws.recv(timeout=TIMEOUT)
    assert [HEADER.unpack_from(f)[2] for f in (first, second)] == [0, 0]
    ws3, _ = open_chat(fake, protover=3)
    fake.chat_send(ROOM, "other", cmd="WATCHED_CHANGE")
    frame = ws3.recv(timeout=TIMEOUT)
    assert HEADER.unpack_from(frame)[2] == 0
    assert json.loads(frame[16:])["cmd"] == "WATCHED_CHANGE"


def test_drop_silence_and_no_auth_close(fake: FakeBilibili) -> None:
    ws, _ = open_chat(fake)
    assert fake.chat_drop(ROOM) == 1
    assert closed(ws) and fake.chat_connections() == []
    with pytest.raises(InvalidStatus):
        connect(
            ws_url(fake).replace("/sub", "/chat"), open_timeout=TIMEOUT, legacy=True
        )
    fake.configure_chat(auth_timeout=0.2)
    silent = connect(ws_url(fake), open_timeout=TIMEOUT, close_timeout=1, legacy=True)
    SOCKETS.append(silent)
    assert closed(silent)
    assert fake.chat_refusals() == ["no auth within 0.2 s"]
    fake.configure_chat(heartbeat_timeout=0.3)
    ws, _ = open_chat(fake)
    started = time.monotonic()
    assert closed(ws)
    assert time.monotonic() - started < 3
    wait_for(lambda: not fake.chat_connections(), 3, "the connection forgotten")


def test_auto_chatter_while_live_and_http_controls(fake: FakeBilibili) -> None:
    ws, _ = open_chat(fake)
    r = requests.post(
        f"{fake.url}/_fake/chat/rooms/{ROOM}/configure",
        json={"danmaku_interval": 0.05},
        timeout=TIMEOUT,
    )
    assert r.json()["danmaku_interval"] == 0.05
    fake.set_live(ROOM, 1)
    [message] = messages(ws)
    assert message["cmd"].startswith("DANMU_MSG")
    wait_for(lambda: len(fake.chat_sent(ROOM)) >= 2, 3, "a second auto danmaku")
    sent = requests.get(f"{fake.url}/_fake/chat/rooms/{ROOM}/sent", timeout=TIMEOUT)
    assert sent.json()["sent"][0]["text"] == message["info"][1]
    bad = requests.post(
        f"{fake.url}/_fake/chat/rooms/{ROOM}/send",
        json={"kind": "nope"},
        timeout=TIMEOUT,
    )
    assert bad.status_code == 400 and "kind" in bad.json()["error"]
    fake.reset()
    assert closed(ws) and fake.chat_sent(ROOM) == []
