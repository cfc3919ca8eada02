"""The danmaku XML writer: BililiveRecorder's format, a valid document after every write and after
a kill -9, and what biliass makes of it."""

from __future__ import annotations

import multiprocessing
import os
import signal
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from biliup_site.bilibili.chat import ChatMessage
from recorder import danmaku, segments
from recorder.models import StreamerInfo
from tests import media
from tests.recorder.rooms import make_room_streamer

INFO = danmaku.RecordInfo(
    room_id=23058,
    short_id=3,
    name="主播<A>",
    title='今晚"打"游戏',
    area_child="单机游戏",
)
START = datetime(2026, 1, 10, 20, 0, tzinfo=UTC)

MESSAGES = [
    ChatMessage(
        kind="danmaku",
        received=0,
        sent_ms=1768075200123,
        uid=5201314,
        uname="路过的观众",
        text="<b>前排</b> & 'hi'\n第二行\x00\x07\x1b\ud800\ufffe 😀",
        mode=4,
        size=36,
        color=0xFF6868,
    ),
    ChatMessage(
        kind="superchat",
        received=0,
        uid=233333,
        uname="吃瓜&群众",
        text="醒目留言",
        price=30.0,
        duration=60,
    ),
    ChatMessage(
        kind="gift", received=0, uid=10001, uname="老粉丝", gift_name="小花花", count=5
    ),
    ChatMessage(kind="guard", received=0, uid=42, uname="舰长", guard_level=3, count=1),
]


def test_each_write_leaves_a_document_in_bililiverecorders_format(
    tmp_path: Path,
) -> None:
    path = tmp_path / "seg.xml"
    writer = danmaku.XmlWriter(path, INFO, START)
    root = ET.parse(path).getroot()
    assert path.read_bytes().startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<i>')
    assert [e.tag for e in root] == [
        "chatserver",
        "chatid",
        "mission",
        "maxlimit",
        "state",
        "real_name",
        "source",
        "BililiveRecorderRecordInfo",
    ]
    info = root.find("BililiveRecorderRecordInfo")
    assert info is not None
    assert info.attrib == {
        "roomid": "23058",
        "shortid": "3",
        "name": "主播<A>",
        "title": '今晚"打"游戏',
        "areanameparent": "",
        "areanamechild": "单机游戏",
        "start_time": "2026-01-10T20:00:00+00:00",
    }
    for n, message in enumerate(MESSAGES):
        writer.append(message, 1.5 + n)
        assert len(ET.parse(path).getroot()) == 9 + n  # parses after every write
    writer.close()

    root = ET.parse(path).getroot()
    d, sc, gift, guard = list(root)[8:]
    assert d.tag == "d"
    assert d.attrib["p"] == "1.500,4,36,16738408,1768075200123,0,5201314,0"
    assert (d.attrib["user"], d.attrib["uid"]) == ("路过的观众", "5201314")
    assert b"&#" not in path.read_bytes()  # biliass reads no character references
    # Markup stays text; what XML cannot hold (controls, a lone surrogate, U+FFFE) is dropped.
    assert d.text == "<b>前排</b> & 'hi'\n第二行 😀"
    assert sc.attrib == {
        "ts": "2.500",
        "user": "吃瓜&群众",
        "uid": "233333",
        "price": "30",
        "time": "60",
    }
    assert sc.text == "醒目留言"
    assert gift.attrib == {
        "ts": "3.500",
        "user": "老粉丝",
        "uid": "10001",
        "giftname": "小花花",
        "giftcount": "5",
    }
    assert guard.attrib == {
        "ts": "4.500",
        "user": "舰长",
        "uid": "42",
        "level": "3",
        "count": "1",
    }
    assert danmaku.read_counts(path) == {
        "danmaku": 1,
        "superchat": 1,
        "gift": 1,
        "guard": 1,
    }
    assert writer.counts == danmaku.read_counts(path)


def _write_forever(path: str, ready: multiprocessing.synchronize.Event) -> None:
    writer = danmaku.XmlWriter(Path(path), INFO, START)
    n = 0
    while True:
        n += 1
        writer.append(MESSAGES[n % len(MESSAGES)], n / 10)
        if n == 2000:
            ready.set()


def test_a_writer_killed_mid_write_leaves_a_file_that_parses(tmp_path: Path) -> None:
    path = tmp_path / "killed.xml"
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    child = context.Process(target=_write_forever, args=(str(path), ready))
    child.start()
    try:
        assert ready.wait(20), "the writer did not get going"
        os.kill(child.pid, signal.SIGKILL)
        child.join(10)
    finally:
        if child.is_alive():
            child.kill()
    assert child.exitcode == -signal.SIGKILL
    counts = danmaku.read_counts(path)  # parses as it is
    assert sum(counts.values()) >= 2000
    assert danmaku.repair(path)  # nothing to repair


def test_biliass_makes_an_ass_subtitle_of_it(tmp_path: Path) -> None:
    xml = tmp_path / "seg.xml"
    writer = danmaku.XmlWriter(xml, INFO, START)
    for message in MESSAGES:
        writer.append(message, 2.0)
    writer.close()
    ass = danmaku.make_ass(xml, tmp_path / "seg.flv")
    assert ass == tmp_path / "seg.ass"
    text = ass.read_text(encoding="utf-8")
    assert "PlayResX: 1920" in text
    [dialogue] = [line for line in text.splitlines() if line.startswith("Dialogue:")]
    assert "0:00:02.00" in dialogue
    assert "前排" in dialogue
    # What biliass cannot read gives no subtitle, and no exception.
    (tmp_path / "bad.xml").write_text("<i><d p=", encoding="utf-8")
    assert danmaku.make_ass(tmp_path / "bad.xml", tmp_path / "bad.flv") is None


@pytest.mark.django_db
def test_a_dead_recorders_chat_is_attached_to_the_recovered_segment(
    recordings: Path,
) -> None:
    streamer = make_room_streamer(danmaku_ass=True)
    session = StreamerInfo.objects.create(
        streamer=streamer, name="主播A", url=streamer.url
    )
    directory = segments.folder(streamer)
    directory.mkdir(parents=True)
    clip = media.clip(6).read_bytes()
    (directory / "主播A-crashed.flv.part").write_bytes(clip[: len(clip) * 2 // 3])
    xml = directory / "主播A-crashed.xml"
    writer = danmaku.XmlWriter(xml, INFO, START)
    for message in MESSAGES:
        writer.append(message, 1.0)
    data = xml.read_bytes()
    xml.write_bytes(data[: data.rindex(b"<guard") + 20])  # killed mid-write

    segments.recover(streamer)

    [file] = session.files.all()
    assert file.path == str(directory / "主播A-crashed.flv")
    assert file.danmaku_path == str(xml)
    assert file.danmaku_counts == {
        "danmaku": 1,
        "superchat": 1,
        "gift": 1,
        "guard": 0,
    }
    assert file.danmaku_ass_path == str(directory / "主播A-crashed.ass")
    assert "前排" in Path(file.danmaku_ass_path).read_text(encoding="utf-8")
