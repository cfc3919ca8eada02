"""Recording a room's live chat from the fake's chat socket: an XML beside each segment, each
message in the segment it arrived during, at the video time it arrived; on after a dropped
connection.

Reference: /work/shared/reference/bilibili-2026.md "Live chat (danmaku)".
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from recorder import danmaku, segments
from recorder.models import RecordingFile, StreamerInfo
from tests.factories import log_in_by_tv_qr, make_template
from tests.polling import wait_for
from tests.recorder.rooms import (
    ROOM,
    make_room_streamer,
    no_waits,
    record_in_background,
)

TAGS = {"d": "danmaku", "sc": "superchat", "gift": "gift", "guard": "guard"}


@pytest.fixture
def room(fakebili: Any, recordings: Path, settings: Any) -> Any:
    """The fake's room at real pace (chat times are video times); its chat over plain ws."""
    no_waits()
    settings.BILIBILI_CHAT_SCHEME = "ws"
    fakebili.add_room(
        ROOM, speed=1, title="今晚打游戏", uname="主播A", area_name="单机游戏"
    )
    return fakebili


def seconds(element: ET.Element) -> float:
    return float(
        element.attrib["p"].split(",")[0]
        if "p" in element.attrib
        else element.attrib["ts"]
    )


def chat_of(file: RecordingFile) -> tuple[float, list[ET.Element]]:
    """The XML's start (unix time) and its messages."""
    root = ET.parse(file.danmaku_path).getroot()
    info = root.find("BililiveRecorderRecordInfo")
    assert info is not None
    assert (info.attrib["roomid"], info.attrib["name"]) == (str(ROOM), "主播A")
    start = datetime.fromisoformat(info.attrib["start_time"]).timestamp()
    return start, [e for e in root if e.tag in TAGS]


def text_of(element: ET.Element) -> str:
    return (
        element.text
        or element.attrib.get("giftname", "")
        or element.attrib.get("level", "")
    )


@pytest.mark.django_db(transaction=True)
def test_the_chat_goes_beside_each_segment_at_its_video_time(room: Any) -> None:
    # With the template's account: a guest's chat hides who sent each danmaku.
    account = log_in_by_tv_qr(room)
    streamer = make_room_streamer(
        split_time=2, danmaku_ass=True, upload_template=make_template(account=account)
    )
    room.set_live(ROOM, 1)
    thread = record_in_background(streamer)
    folder = segments.folder(streamer)
    wait_for(lambda: room.chat_connections(ROOM), 10, "no chat connection")
    wait_for(lambda: folder.is_dir() and any(folder.glob("*.part")), 10, "no segment")

    room.chat_send(ROOM, "danmaku", text="前排 <&>", uid=5201314, uname="路过的观众")
    room.chat_send(
        ROOM,
        "superchat",
        text="醒目留言",
        uid=233333,
        uname="吃瓜群众",
        price=30,
        duration=60,
    )
    room.chat_send(ROOM, "gift", gift_name="小花花", count=5, uid=10001, uname="老粉丝")
    room.chat_send(ROOM, "guard", level=3, count=1, uid=42, uname="舰长")
    wait_for(lambda: RecordingFile.objects.exists(), 10, "no split")
    room.chat_send(ROOM, "danmaku", text="第二段", uid=1, uname="观众一")

    [before] = room.chat_connections(ROOM)
    assert room.chat_drop(ROOM) == 1
    wait_for(
        lambda: (
            [c["connected_at"] for c in room.chat_connections(ROOM)]
            not in ([], [before["connected_at"]])
        ),
        10,
        "the chat did not reconnect",
    )
    room.chat_send(ROOM, "danmaku", text="重连以后", uid=2, uname="观众二")
    room.chat_send(
        ROOM, "superchat", text="又一条", uid=3, uname="观众三", price=50, duration=60
    )
    # On disk before the live ends, whichever segment it went to.
    wait_for(
        lambda: any("又一条" in p.read_text("utf-8") for p in folder.glob("*.xml")),
        5,
        "the last message was not written",
    )
    room.set_live(ROOM, 0)
    thread.join(30)
    assert not thread.is_alive()

    files = list(StreamerInfo.objects.get().files.all())
    assert len(files) >= 2
    chats = [chat_of(f) for f in files]
    # The XMLs' timeline is the video's: each starts where the segments before it end.
    first = chats[0][0]
    starts = [first + sum(f.duration for f in files[:k]) for k in range(len(files))]
    for (start, _messages), expected in zip(chats, starts, strict=True):
        assert start == pytest.approx(expected, abs=1)

    sent = room.chat_sent(ROOM)
    assert len(sent) == 7
    found = {}
    for k, (_start, messages) in enumerate(chats):
        for element in messages:
            found[(TAGS[element.tag], element.attrib["uid"])] = (k, element)
    for message in sent:
        k, element = found.pop((message["kind"], str(message["uid"])))
        assert element.attrib["user"] == message["uname"]
        # In the segment being written when it was sent, at that moment of its video.
        end = starts[k] + files[k].duration
        assert starts[k] - 0.5 <= message["sent_at"] <= end + 0.5
        assert seconds(element) == pytest.approx(message["sent_at"] - starts[k], abs=1)
        if message["kind"] in ("danmaku", "superchat"):
            assert element.text == message["text"]
        elif message["kind"] == "gift":
            assert (element.attrib["giftname"], element.attrib["giftcount"]) == (
                "小花花",
                "5",
            )
        else:
            assert (element.attrib["level"], element.attrib["count"]) == ("3", "1")
    assert not found

    for file, (_start, messages) in zip(files, chats, strict=True):
        video = Path(file.path)
        assert file.danmaku_path == str(video.with_suffix(".xml"))
        assert file.danmaku_counts == danmaku.read_counts(Path(file.danmaku_path))
        assert sum(file.danmaku_counts.values()) == len(messages)
        assert Path(file.danmaku_ass_path) == video.with_suffix(".ass")
        assert Path(file.danmaku_ass_path).is_file()
    # The chat thread is gone with the recording.
    wait_for(lambda: not room.chat_connections(ROOM), 5, "the chat is still connected")
