"""The live chat client: the packet codec and the message shapes, then the client against the
fake's chat socket (connect, every kind of message, reconnection, a refused token)."""

from __future__ import annotations

import json
import logging
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from biliup_site.bilibili import chat
from biliup_site.bilibili.chat import ChatMessage, decode_packets, encode_packet
from tests.factories import log_in_by_tv_qr
from tests.polling import wait_for

DANMU = {
    "cmd": "DANMU_MSG:4:0:2:2:2:0",
    "info": [
        [0, 1, 25, 16777215, 1700000000123, 1700000000, 0, "c23b254e", 0],
        "好想抱回家",
        [37089851, "Dark2笑", 0, 1, 1, 10000, 1, "#7c1482"],
        [17, "言叶", "枫言w", 367, 16752445, "union"],
    ],
}
SUPER_CHAT = {
    "cmd": "SUPER_CHAT_MESSAGE",
    "data": {
        "uid": 42,
        "price": 30,
        "message": "加油",
        "time": 60,
        "ts": 1700000001,
        "user_info": {"uname": "观众"},
    },
}
GIFT = {
    "cmd": "SEND_GIFT",
    "data": {
        "uid": 43,
        "uname": "送礼人",
        "giftName": "小花花",
        "num": 3,
        "price": 100,
        "coin_type": "gold",
        "timestamp": 1700000002,
    },
}
GUARD = {
    "cmd": "GUARD_BUY",
    "data": {
        "uid": 44,
        "username": "舰长甲",
        "guard_level": 3,
        "num": 1,
        "price": 198000,
        "gift_name": "舰长",
        "start_time": 1700000003,
    },
}


def messages(frame: bytes) -> list[dict[str, Any]]:
    return [
        json.loads(p.body) for p in decode_packets(frame) if p.op == chat.OP_MESSAGE
    ]


# The codec


def test_a_packet_survives_the_round_trip() -> None:
    auth = {"uid": 0, "roomid": 23058, "key": "token"}
    frame = encode_packet(chat.OP_AUTH, auth)
    assert struct.unpack(">IHHII", frame[:16]) == (len(frame), 16, 1, 7, 1)
    (packet,) = decode_packets(frame)
    assert (packet.op, packet.protover) == (chat.OP_AUTH, 1)
    assert messages(encode_packet(chat.OP_MESSAGE, DANMU)) == [DANMU]


@pytest.mark.parametrize("protover", [chat.ZLIB_BODY, chat.BROTLI_BODY])
def test_a_compressed_frame_holds_several_packets(protover: int) -> None:
    inner = b"".join(
        encode_packet(chat.OP_MESSAGE, m, protover=0) for m in (DANMU, GIFT)
    )
    # Nested: a compressed body inside the compressed body, then a plain popularity packet.
    nested = encode_packet(
        chat.OP_MESSAGE, encode_packet(chat.OP_MESSAGE, GUARD), protover=protover
    )
    frame = encode_packet(chat.OP_MESSAGE, inner + nested, protover=protover)
    frame += encode_packet(chat.OP_POPULARITY, struct.pack(">I", 7))
    packets = decode_packets(frame)
    assert [p.op for p in packets] == [5, 5, 5, 3]
    assert messages(frame) == [DANMU, GIFT, GUARD]


def test_a_damaged_frame_keeps_what_is_whole(caplog: pytest.LogCaptureFixture) -> None:
    good = encode_packet(chat.OP_MESSAGE, DANMU)
    # A body that does not decompress is skipped, the packets after it still count.
    bad_zlib = struct.pack(">IHHII", 16 + 4, 16, 2, 5, 1) + b"oops"
    truncated = encode_packet(chat.OP_MESSAGE, GIFT)[:-5]
    with caplog.at_level(logging.WARNING, logger="biliup_site.bilibili.chat"):
        assert messages(bad_zlib + good + truncated) == [DANMU]
        assert messages(good + good[:10]) == [DANMU]
    assert len(caplog.records) == 3


# The messages


def test_the_four_kinds_become_chat_messages() -> None:
    danmaku = chat.to_message(DANMU, 1.5)
    assert danmaku == ChatMessage(
        kind="danmaku",
        received=1.5,
        sent_ms=1700000000123,
        uid=37089851,
        uname="Dark2笑",
        text="好想抱回家",
        mode=1,
        size=25,
        color=0xFFFFFF,
    )
    assert danmaku.raw == DANMU
    sc = chat.to_message(SUPER_CHAT, 1.5)
    assert sc is not None
    assert (sc.kind, sc.uname, sc.text, sc.price, sc.duration, sc.sent_ms) == (
        "superchat",
        "观众",
        "加油",
        30.0,
        60,
        1700000001000,
    )
    gift = chat.to_message(GIFT, 1.5)
    assert gift is not None
    assert (gift.kind, gift.uname, gift.gift_name, gift.count, gift.price) == (
        "gift",
        "送礼人",
        "小花花",
        3,
        0.1,
    )
    guard = chat.to_message(GUARD, 1.5)
    assert guard is not None
    assert (guard.kind, guard.uid, guard.guard_level, guard.price, guard.count) == (
        "guard",
        44,
        3,
        198.0,
        1,
    )


def test_other_and_malformed_messages_are_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert chat.to_message({"cmd": "INTERACT_WORD", "data": {}}, 0) is None
    assert not caplog.records
    assert chat.to_message({"cmd": "DANMU_MSG", "info": [[0, 1]]}, 0) is None
    assert chat.to_message(["not", "a", "dict"], 0) is None
    assert len(caplog.records) == 2


# The client on the fake's chat socket

ROOM = 23058


class Running:
    """A ChatClient on its own thread, as the recorder runs it."""

    def __init__(self, room_id: int, credential: dict[str, Any] | None) -> None:
        self.messages: list[ChatMessage] = []
        self.states: list[tuple[str, str]] = []
        self.client = chat.ChatClient(
            room_id,
            credential,
            self.messages.append,
            lambda state, detail: self.states.append((state, detail)),
        )
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=self.client.run, args=(self.stop,), daemon=True
        )
        self.thread.start()

    def end(self) -> float:
        """Seconds run() took to return once told to stop."""
        started = time.monotonic()
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()
        return time.monotonic() - started


@pytest.fixture
def start(
    fakebili: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Running]]:
    settings.BILIBILI_CHAT_SCHEME = "ws"  # the fake has no TLS
    monkeypatch.setattr(chat, "RETRY_SECONDS", 0.05)
    started: list[Running] = []

    def start(credential: dict[str, Any] | None = None, room_id: int = ROOM) -> Running:
        started.append(Running(room_id, credential))
        return started[-1]

    yield start
    for running in started:
        running.end()


@pytest.mark.django_db
def test_it_reads_every_kind_of_message(
    fakebili: Any, start: Callable[..., Running]
) -> None:
    account = log_in_by_tv_qr(fakebili)
    running = start(account.credential)
    wait_for(lambda: running.client.connected, 10, "no chat connection")
    (conn,) = fakebili.chat_connections(ROOM)
    assert (conn["uid"], conn["protover"]) == (account.mid, 3)

    sent = [fakebili.chat_send(ROOM, "danmaku", text="你好", color=0xFF0000, mode=4)]
    sent += fakebili.chat_send_many(
        ROOM,
        [
            {"kind": "superchat", "text": "加油", "price": 50, "duration": 90},
            {"kind": "other"},
            {"kind": "gift", "gift_name": "干杯", "count": 2, "price": 6.6},
            {"kind": "guard", "level": 2, "count": 3},
            {"kind": "danmaku", "cmd": "DANMU_MSG:4:0:2:2:2:0", "text": "二"},
        ],
    )
    got = running.messages
    wait_for(lambda: len(got) == 5, 5, "five chat messages")
    del sent[2]  # "other": not kept
    assert [m.kind for m in got] == [e["kind"] for e in sent]
    assert [(m.uid, m.uname, m.text) for m in got] == [
        (e["uid"], e["uname"], e["text"]) for e in sent
    ]
    assert (got[0].sent_ms, got[0].color, got[0].mode) == (
        sent[0]["sent_ms"],
        0xFF0000,
        4,
    )
    assert (got[1].price, got[1].duration) == (50, 90)
    assert (got[2].gift_name, got[2].count, got[2].price) == ("干杯", 2, 6.6)
    assert (got[3].guard_level, got[3].count, got[3].price) == (2, 3, 1998)
    assert got[4].text == "二"
    assert all(m.received >= e["sent_at"] for m, e in zip(got, sent, strict=True))
    wait_for(
        lambda: fakebili.chat_connections(ROOM)[0]["heartbeats"] >= 1,
        5,
        "no heartbeat",
    )

    assert running.end() < 1.5
    assert [state for state, _ in running.states] == ["connected", "disconnected"]
    assert not running.client.connected and running.client.reconnects == 0


def test_it_reconnects_with_a_fresh_token_after_a_drop(
    fakebili: Any, start: Callable[..., Running]
) -> None:
    running = start()
    client = running.client
    wait_for(lambda: client.connected, 10, "no chat connection")
    assert fakebili.chat_drop(ROOM) == 1
    wait_for(
        lambda: client.reconnects == 1 and client.connected,
        10,
        "no reconnection after the drop",
    )
    assert "closed the connection" in client.last_error
    assert [state for state, _ in running.states] == [
        "connected",
        "disconnected",
        "connected",
    ]
    assert len(fakebili.state.live.danmu_tokens) == 2
    fakebili.chat_send(ROOM, "danmaku", text="又来了")
    wait_for(lambda: running.messages, 5, "no message after reconnecting")
    assert running.messages[0].text == "又来了"


def test_a_refused_token_is_fetched_again_and_backed_off(
    fakebili: Any, start: Callable[..., Running]
) -> None:
    # A DedeUserID without a valid login: the token is issued to viewer 0, the auth says 777.
    stale = {"cookie_info": {"cookies": [{"name": "DedeUserID", "value": "777"}]}}
    running = start(stale)
    wait_for(lambda: len(fakebili.chat_refusals()) >= 2, 10, "no second refusal")
    client = running.client
    assert "refused the token" in client.last_error
    assert "uid 777" in fakebili.chat_refusals()[0]
    assert client.reconnects >= 1 and not client.connected and not running.states
    assert len(fakebili.state.live.danmu_tokens) >= 2


def test_a_failing_danmu_info_is_retried(
    fakebili: Any, start: Callable[..., Running]
) -> None:
    running = start(room_id=999999999)
    wait_for(lambda: running.client.reconnects >= 2, 10, "no retry")
    assert running.client.last_error.startswith("getDanmuInfo: Bilibili error")
    assert running.thread.is_alive()
