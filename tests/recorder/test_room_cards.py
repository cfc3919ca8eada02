"""Room cards: the live checks put a room's title, cover, area and online count on its streamer,
with at most one get_info a round per live room and none for an offline one; a get_info that
fails never fails the check or the recording."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recorder import recording, tasks, watch
from recorder.models import Streamer, StreamerInfo
from tests.polling import wait_for
from tests.recorder.rooms import (
    ROOM,
    ROOM_INIT,
    make_room_streamer,
    no_waits,
    record_in_background,
)

GET_INFO = "/room/v1/Room/get_info"


@pytest.fixture
def room(fakebili: Any, recordings: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(recording, "GUARD_SETTLE_SECONDS", 0)
    no_waits()
    fakebili.add_room(
        ROOM,
        speed=0,
        title="今晚打游戏",
        uname="主播A",
        area_name="英雄联盟",
        parent_area_name="网游",
    )
    fakebili.set_live(ROOM, 1)
    return fakebili


def card(streamer: Streamer) -> tuple[str, str, str, str, int | None]:
    streamer.refresh_from_db()
    return (
        streamer.live_title,
        streamer.live_cover,
        streamer.live_parent_area,
        streamer.live_area,
        streamer.live_online,
    )


@pytest.mark.django_db(transaction=True)
def test_a_recording_puts_the_rooms_card_on_record(room: Any, api: Any) -> None:
    streamer = make_room_streamer(split_time=0)
    room.set_stream(ROOM, offline_after_seconds=3)
    tasks.record(streamer.pk)

    title, cover, parent, area, online = card(streamer)
    assert (title, parent, area) == ("今晚打游戏", "网游", "英雄联盟")
    assert cover == f"{room.url}/bfs/live/new_room_cover/{ROOM}.jpg"
    assert online == 321
    assert streamer.live_seen is not None
    # The recorder's own room info: no get_info beyond the one it always made.
    assert room.hits(GET_INFO) == 1

    [row] = api.get("/api/v1/streamers").json()
    assert row["room"] == {
        "title": "今晚打游戏",
        "cover": cover,
        "area_name": "英雄联盟",
        "parent_area_name": "网游",
        "online": 321,
        "seen": streamer.live_seen.isoformat(),
    }
    # biliup's fields stay as they were: the card is beside them, not among them.
    assert "room" not in row["inner"] and "live_title" not in row

    # Offline: the card keeps the title and cover, not the online count, and costs no call.
    room.set_live(ROOM, 0)
    watch.check_all()
    assert card(streamer) == ("今晚打游戏", cover, "网游", "英雄联盟", None)
    assert room.hits(GET_INFO) == 1


@pytest.mark.django_db(transaction=True)
def test_a_live_that_is_not_recorded_gets_one_get_info_a_round(room: Any) -> None:
    room.set_special(ROOM, paid=True)
    streamer = make_room_streamer()
    for round_ in range(1, 4):
        watch.check_all()
        assert room.hits(GET_INFO) == round_
    assert card(streamer)[0::4] == ("今晚打游戏", 321)
    assert streamer.state == Streamer.State.RESTRICTED

    room.add_room(ROOM, title="换了标题")
    watch.check_all()
    assert card(streamer)[0] == "换了标题"

    room.set_live(ROOM, 0)
    watch.check_all()
    watch.check_all()
    assert room.hits(GET_INFO) == 4
    assert card(streamer)[0::4] == ("换了标题", None)


@pytest.mark.django_db(transaction=True)
def test_a_failing_get_info_leaves_the_check_and_the_recording_working(
    room: Any,
) -> None:
    # Risk control on get_info, once: the host is held back afterwards (bilibili/pace.py), so
    # the next rounds don't send it (they would be answered).
    room.inject(GET_INFO, "code", code=-352, times=1)
    restricted = make_room_streamer()
    room.set_special(ROOM, paid=True)
    assert [watch.check_all() for _ in range(3)] == [0, 0, 0]
    restricted.refresh_from_db()
    assert restricted.state == Streamer.State.RESTRICTED
    assert card(restricted) == ("", "", "", "", None)
    assert room.hits(GET_INFO) == 0
    assert room.hits(ROOM_INIT) == 3
    restricted.delete()

    # The recorder's own room info fails: the room is recorded all the same.
    room.inject(GET_INFO, "http_status", status=500, times=None)
    room.set_special(ROOM, paid=False)
    room.set_stream(ROOM, offline_after_seconds=3)
    streamer = make_room_streamer(split_time=0)
    assert watch.check_all() == 1
    session = StreamerInfo.objects.get()
    assert session.files.exists()
    assert (session.name, session.title) == ("主播A", "")  # the remark names it
    streamer.refresh_from_db()
    assert streamer.state == Streamer.State.IDLE and streamer.live_title == ""


@pytest.mark.django_db(transaction=True)
def test_the_card_of_a_room_being_recorded_follows_its_title(
    room: Any, api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recording, "HEARTBEAT_SECONDS", 1)
    room.add_room(ROOM, speed=1)  # real time: still recording while the rounds run
    streamer = make_room_streamer(split_time=0)
    thread = record_in_background(streamer)
    wait_for(
        lambda: Streamer.objects.get(pk=streamer.pk).progress.get("bytes"),
        30,
        "the recording did not start",
    )
    assert card(streamer)[0] == "今晚打游戏"
    checks = room.hits(ROOM_INIT)

    room.add_room(ROOM, title="下半场")
    watch.check_all()
    assert card(streamer)[0::4] == ("下半场", 321)
    # The round read the card of the recorded room; it did not check the room.
    assert room.hits(ROOM_INIT) == checks
    page = api.get("/").content.decode()
    assert "下半场" in page

    api.post(f"/api/v1/streamers/{streamer.pk}/pause")
    thread.join(timeout=20)
    assert not thread.is_alive()
