"""What a Bilibili room offers, recorded as it is, and said when it is less than the room's best;
lives that cannot be recorded told once and left alone (bilibili-2026.md "Live rooms and the
stream CDN": the qn cap, HEVC-only and fMP4-only origins, special lives)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation
from django.utils.html import escape

from recorder import recording, tasks, watch
from recorder.models import RecordingFile, Streamer, StreamerInfo
from tests import media
from tests.factories import log_in_by_tv_qr, make_template
from tests.polling import wait_for
from tests.recorder.rooms import (
    PLAY_INFO,
    ROOM,
    ROOM_INIT,
    make_room_streamer,
    no_waits,
    record_in_background,
)


@pytest.fixture
def room(fakebili: Any, recordings: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The fake's room, live and streaming as fast as the socket goes; no grace after it ends,
    and a live without streams is taken for guard-only at once (see the settle test)."""
    monkeypatch.setattr(recording, "GUARD_SETTLE_SECONDS", 0)
    no_waits()
    fakebili.add_room(ROOM, speed=0, title="今晚打游戏", uname="主播A")
    fakebili.set_live(ROOM, 1)
    return fakebili


# Quality


@pytest.mark.django_db
def test_a_logged_out_recording_says_it_is_below_the_origin(
    room: Any, api: Any
) -> None:
    streamer = make_room_streamer(split_time=0)
    room.set_stream(ROOM, offline_after_seconds=3)
    tasks.record(streamer.pk)

    session = StreamerInfo.objects.get()
    assert (session.stream_format, session.stream_qn, session.origin_qn) == (
        "flv/avc",
        250,
        10000,
    )
    assert session.logged_out and session.below_origin
    [row] = api.get("/api/v1/streamer_info").json()
    assert (row["qn"], row["origin_qn"], row["below_origin"]) == (250, 10000, True)
    assert "250" in row["quality_note"] and "10000" in row["quality_note"]
    page = api.get("/recordings/").content.decode()
    assert 'class="small alert quality-note"' in page
    assert escape(session.quality_note()) in page


@pytest.mark.django_db
def test_with_the_templates_account_the_origin_is_recorded(room: Any) -> None:
    account = log_in_by_tv_qr(room)
    streamer = make_room_streamer(
        split_time=0, upload_template=make_template(account=account)
    )
    room.set_stream(ROOM, offline_after_seconds=3)
    tasks.record(streamer.pk)

    session = StreamerInfo.objects.get()
    assert (session.stream_qn, session.origin_qn, session.logged_out) == (
        10000,
        10000,
        False,
    )
    assert not session.below_origin and session.quality_note() == ""


@pytest.mark.django_db(transaction=True)
def test_the_streamer_page_says_so_while_recording(
    room: Any, api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pause is found by the next heartbeat: one a second, not one in five.
    monkeypatch.setattr(recording, "HEARTBEAT_SECONDS", 1)
    room.add_room(ROOM, speed=1)  # real time: still recording when we look
    streamer = make_room_streamer(split_time=0)
    thread = record_in_background(streamer)
    wait_for(
        lambda: api.get("/api/v1/streamers").json()[0]["progress"].get("qn"),
        recording.HEARTBEAT_SECONDS + 20,
        "the recording's quality was not reported",
    )
    [row] = api.get("/api/v1/streamers").json()
    assert (row["progress"]["qn"], row["progress"]["origin_qn"]) == (250, 10000)
    assert row["progress"]["stream"] == "flv/avc"
    page = api.get("/streamers/").content.decode()
    assert 'class="small alert quality-note"' in page
    assert "10000" in page

    api.post(f"/api/v1/streamers/{streamer.pk}/pause")
    thread.join(timeout=recording.HEARTBEAT_SECONDS + 15)
    assert not thread.is_alive()


# What the origin offers


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("origin", "stream_format", "codec"),
    [
        ({"codec": "hevc"}, "fmp4/hevc", "hevc"),
        ({"formats": "fmp4"}, "fmp4/avc", "h264"),
    ],
)
def test_an_hevc_only_or_fmp4_only_room_is_recorded(
    room: Any, origin: dict[str, str], stream_format: str, codec: str
) -> None:
    room.set_origin(ROOM, **origin)
    streamer = make_room_streamer(split_time=4)
    thread = record_in_background(streamer)
    wait_for(
        lambda: RecordingFile.objects.count() >= 2, 60, "2 segments were not closed"
    )
    room.set_live(ROOM, 0)
    thread.join(timeout=30)
    assert not thread.is_alive()

    session = StreamerInfo.objects.get()
    assert session.stream_format == stream_format
    files = list(session.files.order_by("id"))
    for f in files:
        assert f.path.endswith(".mp4")
        probe = media.probe(Path(f.path))
        assert probe.decode_errors == "", f.path
        assert probe.streams == [codec, "aac"]
    assert sum(f.duration for f in files) >= 4


# Special lives


SPECIALS = [
    pytest.param({"paid": True}, "paid", 0, id="paid"),
    pytest.param({"guard_only": True}, "guard", 1, id="guard-only"),
    pytest.param({"password": True}, "password", 0, id="password"),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("special", "restriction", "play_infos"), SPECIALS)
def test_a_special_live_is_told_once_and_not_retried(
    room: Any,
    api: Any,
    caplog: pytest.LogCaptureFixture,
    special: dict[str, bool],
    restriction: str,
    play_infos: int,
) -> None:
    room.set_special(ROOM, **special)
    streamer = make_room_streamer()
    caplog.set_level(logging.INFO)

    found = [watch.check_all() for _ in range(4)]
    # The watcher looked each round (room_init); play info was asked only by the one job that
    # found a guard-only live (the first round took it for live: paid and password rooms say
    # so in room_init already).
    assert found == [play_infos, 0, 0, 0]
    assert room.hits(ROOM_INIT) >= 4
    assert room.hits(PLAY_INFO) == play_infos
    assert not StreamerInfo.objects.exists()
    told = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(told) == 1, [r.getMessage() for r in told]

    streamer.refresh_from_db()
    assert (streamer.state, streamer.restriction) == ("restricted", restriction)
    [row] = api.get("/api/v1/streamers").json()
    assert (row["state"], row["restriction"]) == ("restricted", restriction)
    assert row["state_detail"] == streamer.restriction_detail() != ""
    page = api.get("/streamers/").content.decode()
    assert page.count('class="small alert restriction"') == 1
    assert 'class="badge badge-restricted"' in page
    # The page speaks Chinese by default: the reason too.
    with translation.override("zh-hans"):
        reason = str(Streamer.Restriction(restriction).label)
    assert reason != streamer.restriction_detail() and escape(reason) in page


@pytest.mark.django_db(transaction=True)
def test_a_live_just_begun_without_streams_is_not_taken_for_guard_only(
    room: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A room that has just gone live may list no stream for a moment; skipping it for the
    # whole broadcast would lose the recording, so it is only looked at again.
    monkeypatch.setattr(recording, "GUARD_SETTLE_SECONDS", 90)
    room.set_special(ROOM, guard_only=True)
    streamer = make_room_streamer()
    assert [watch.check_all() for _ in range(2)] == [1, 1]
    streamer.refresh_from_db()
    assert (streamer.state, streamer.restriction) == ("idle", "")
    assert not StreamerInfo.objects.exists()

    # Once the streams come, it is recorded.
    room.set_special(ROOM, guard_only=False)
    room.set_stream(ROOM, offline_after_seconds=3)
    assert watch.check_all() == 1
    assert StreamerInfo.objects.get().files.exists()


@pytest.mark.django_db(transaction=True)
def test_a_special_live_is_looked_at_again_when_its_broadcast_changes(
    room: Any,
) -> None:
    room.set_special(ROOM, guard_only=True)
    streamer = make_room_streamer(split_time=0)
    watch.check_all()
    streamer.refresh_from_db()
    first = streamer.restricted_live_time
    assert streamer.state == "restricted" and first > 0

    # The next broadcast, guard-only again: found once more (one more job, one more play info).
    room.set_live(ROOM, 0)
    room.set_live(ROOM, 1)
    watch.check_all()
    watch.check_all()
    streamer.refresh_from_db()
    assert streamer.state == "restricted" and streamer.restricted_live_time > first
    assert room.hits(PLAY_INFO) == 2

    # The next one is a plain live: recorded.
    room.set_live(ROOM, 0)
    room.set_special(ROOM, guard_only=False)
    room.set_live(ROOM, 1)
    room.set_stream(ROOM, offline_after_seconds=3)
    assert watch.check_all() == 1
    streamer.refresh_from_db()
    assert (streamer.state, streamer.restriction) == ("idle", "")
    assert StreamerInfo.objects.get().files.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("act", ["edit", "resume"])
def test_the_user_acting_lifts_the_restriction(
    room: Any, api: Any, run: Any, act: str
) -> None:
    room.set_special(ROOM, paid=True)
    streamer = make_room_streamer(split_time=0)
    watch.check_all()
    streamer.refresh_from_db()
    assert streamer.state == "restricted"

    # The user bought a ticket, say: the room plays for them now.
    room.set_special(ROOM, paid=False)
    room.set_stream(ROOM, offline_after_seconds=3)
    if act == "edit":
        response = run(
            api.put,
            "/api/v1/streamers",
            {"id": streamer.pk, "url": streamer.url, "remark": "主播B"},
        )
        assert response.status_code == 200, response.json()
    else:
        run(api.post, f"/api/v1/streamers/{streamer.pk}/pause")
        run(api.post, f"/api/v1/streamers/{streamer.pk}/pause")
    streamer.refresh_from_db()
    assert (streamer.state, streamer.restriction, streamer.paused) == (
        "idle",
        "",
        False,
    )
    # Checked at once when the user acted: recorded without waiting for the next round.
    assert StreamerInfo.objects.get().files.exists()
