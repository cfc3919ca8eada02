from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from biliup_site.models import Configuration
from recorder import lease, recording, segments, tasks, watch
from recorder.models import RecordingFile, Streamer, StreamerInfo
from tests import media
from tests.factories import make_streamer
from tests.polling import wait_for
from tests.recorder.rooms import (
    ROOM,
    decoded_seconds,
    in_background,
    make_room_streamer,
    no_waits,
    record_in_background,
)


@pytest.fixture
def room(fakebili: Any, recordings: Path) -> Any:
    """The fake's room, live and streaming as fast as the socket goes; no grace after it ends."""
    no_waits()
    fakebili.add_room(ROOM, speed=0, title="今晚打游戏", uname="主播A")
    fakebili.set_live(ROOM, 1)
    return fakebili


@pytest.mark.django_db
def test_a_live_room_is_recorded_split_and_on_record(room: Any, api: Any) -> None:
    streamer = make_room_streamer(split_time=10)
    room.set_stream(ROOM, offline_after_seconds=30)
    tasks.record(streamer.pk)

    session = StreamerInfo.objects.get()
    files = list(session.files.all())
    assert len(files) == 3
    assert decoded_seconds(files) == pytest.approx(30, abs=1)
    assert [f.duration for f in files] == pytest.approx([10, 10, 10], abs=1.1)
    assert session.end_time is not None
    assert (session.name, session.title) == ("主播A", "今晚打游戏")
    assert not list(Path(files[0].path).parent.glob("*.part"))
    streamer.refresh_from_db()
    assert (streamer.state, streamer.heartbeat) == ("idle", None)
    # The API shows it all.
    [row] = api.get("/api/v1/streamer_info").json()
    assert len(api.get(f"/api/v1/streamer_info/{row['id']}/files").json()) == 3
    assert {v["name"].split("/")[0] for v in api.get("/api/v1/videos").json()} == {
        "主播A"
    }


@pytest.mark.django_db
def test_a_drop_keeps_one_session_and_records_the_gap(room: Any) -> None:
    streamer = make_room_streamer(split_time=0)
    # Stream seconds count from the broadcast's start, across pulls: 12 s in all.
    room.set_stream(ROOM, drop_after_seconds=5, offline_after_seconds=12)
    tasks.record(streamer.pk)

    session = StreamerInfo.objects.get()
    assert len(session.gaps) == 1
    assert session.gaps[0]["seconds"] >= 0
    files = list(session.files.all())
    assert len(files) == 1  # the reconnect continued the same segment
    assert files[0].gaps == session.gaps
    # Unpaced, the broadcast waits for the reconnect: nothing lost, nothing twice.
    assert decoded_seconds(files) == pytest.approx(12, abs=0.3)


@pytest.mark.django_db
def test_download_limit_leaves_a_live_room_waiting(room: Any) -> None:
    config = Configuration.load()
    config.download_limit = 1
    config.save()
    make_streamer(
        url="https://live.bilibili.com/1", state="recording", heartbeat=timezone.now()
    )
    streamer = make_room_streamer()
    assert lease.claim(streamer.pk) is None
    streamer.refresh_from_db()
    assert streamer.state == "waiting"
    assert "waiting for one of 1 download slots" in streamer.state_detail


@pytest.mark.django_db
def test_a_recording_whose_worker_is_alive_is_not_taken(room: Any) -> None:
    streamer = make_room_streamer(state="recording", heartbeat=timezone.now())
    assert lease.claim(streamer.pk) is None


@pytest.mark.django_db
def test_a_paused_streamer_is_not_recorded(room: Any) -> None:
    streamer = make_room_streamer(paused=True)
    tasks.record(streamer.pk)
    assert not StreamerInfo.objects.exists()


@pytest.mark.django_db
def test_the_disk_reserve_stops_the_recording_cleanly(room: Any) -> None:
    config = Configuration.load()
    config.disk_reserve = 10**9  # MB: more than any disk has free
    config.save()
    streamer = make_room_streamer()
    room.set_stream(ROOM, offline_after_seconds=30)
    tasks.record(streamer.pk)
    streamer.refresh_from_db()
    assert streamer.state == "error"
    assert streamer.state_detail.startswith("Disk reserve reached")
    session = StreamerInfo.objects.get()
    assert session.end_time is not None
    assert not session.files.exists()


@pytest.mark.django_db
def test_a_crashed_recording_is_recovered_and_kept(room: Any) -> None:
    room.set_live(ROOM, 0)
    streamer = make_room_streamer(
        state="recording", heartbeat=timezone.now() - timedelta(minutes=5)
    )
    session = StreamerInfo.objects.create(
        streamer=streamer, name="主播A", url=streamer.url
    )
    directory = segments.folder(streamer)
    directory.mkdir(parents=True)
    clip = media.clip(6).read_bytes()
    part = directory / "主播A-crashed.flv.part"
    part.write_bytes(clip[: len(clip) * 2 // 3])  # killed mid-tag

    tasks.record(streamer.pk)

    [file] = session.files.all()
    assert file.path == str(directory / "主播A-crashed.flv")
    assert decoded_seconds([file]) > 2
    assert file.duration == pytest.approx(
        media.probe(Path(file.path)).duration, abs=0.2
    )
    assert not part.exists()
    streamer.refresh_from_db()
    assert streamer.state == "idle"  # the room is offline now


@pytest.mark.django_db(transaction=True)
def test_the_watcher_starts_recordings_of_live_rooms_only(room: Any) -> None:
    live_one = make_room_streamer()
    make_streamer(
        url="https://live.bilibili.com/99999999", platform="bilibili"
    )  # no such room
    unreachable = make_streamer(
        url="hls://http://127.0.0.1:9/live.m3u8", platform="hls"
    )  # streamlink's plugin fails: nothing listens there
    room.set_stream(ROOM, offline_after_seconds=3)
    assert watch.check_all() == 1
    assert StreamerInfo.objects.get().streamer == live_one
    unreachable.refresh_from_db()
    assert unreachable.state_detail.startswith("Check failed: hls:")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["pause", "delete"])
def test_pausing_or_deleting_stops_a_recording_with_its_segment_valid(
    room: Any, api: Any, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Progress and the stop are both told by heartbeats: one a second, not one in five, so the
    # test waits 1-2 s for each rather than 5-10.
    monkeypatch.setattr(recording, "HEARTBEAT_SECONDS", 1)
    room.add_room(ROOM, speed=1)  # real time: the recording is still going when we act
    streamer = make_room_streamer(split_time=0)
    thread = record_in_background(streamer)
    wait_for(
        lambda: Streamer.objects.get(pk=streamer.pk).state == "recording",
        20,
        "no recording started",
    )
    wait_for(
        lambda: any(segments.folder(streamer).glob("*.part")),
        20,
        "no segment was started",
    )
    # The heartbeat carries the recording's progress to the API (and the progress socket).
    # The first may go out before any media is in a file (the stream's quality is news):
    # wait for one that counts the open segment's media.
    wait_for(
        lambda: (
            api.get("/api/v1/streamers").json()[0]["progress"].get("duration", 0) > 0
        ),
        2 * recording.HEARTBEAT_SECONDS + 10,
        "no progress was reported",
    )
    [row] = api.get("/api/v1/streamers").json()
    assert row["progress"]["bytes"] > 0
    assert row["progress"]["file"].endswith(".flv")
    assert row["progress"]["bitrate"] > 0
    assert row["progress"]["duration"] > 0  # the open segment's media counts
    if how == "pause":
        assert (
            api.post(f"/api/v1/streamers/{streamer.pk}/pause").json()["status"]
            == "Pause"
        )
    else:
        assert api.delete(f"/api/v1/streamers/{streamer.pk}").status_code == 200
    thread.join(timeout=recording.HEARTBEAT_SECONDS + 15)
    assert not thread.is_alive()

    session = StreamerInfo.objects.get()
    assert session.end_time is not None
    [file] = session.files.all()
    assert decoded_seconds([file]) > 0.5
    assert not list(segments.folder(streamer).glob("*.part"))
    if how == "pause":
        assert Streamer.objects.get(pk=streamer.pk).status == "Pause"


@pytest.mark.django_db
def test_a_new_streamer_is_checked_at_once(
    room: Any, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    room.set_stream(ROOM, offline_after_seconds=3)
    with django_capture_on_commit_callbacks(execute=True):
        api.post(
            "/api/v1/streamers",
            {"url": f"https://live.bilibili.com/{ROOM}", "remark": "主播A"},
        )
    assert StreamerInfo.objects.get().files.exists()


def _timestamps(path: Path) -> dict[str, list[int]]:
    from recorder import flv

    stamps: dict[str, list[int]] = {"audio": [], "video": []}
    with path.open("rb") as f:
        for tag in flv.FlvReader(f):
            if tag.is_video:
                stamps["video"].append(tag.timestamp)
            elif tag.is_audio:
                stamps["audio"].append(tag.timestamp)
    return stamps


@pytest.mark.django_db
def test_a_timestamp_jump_in_the_live_stream_is_repaired(room: Any) -> None:
    streamer = make_room_streamer(split_time=0)
    # 30 s forward on the wire at stream second 4; the stream itself goes on seamlessly.
    room.set_stream(ROOM, jump_ms=30_000, at_seconds=4, offline_after_seconds=10)
    tasks.record(streamer.pk)

    [file] = StreamerInfo.objects.get().files.all()
    stamps = _timestamps(Path(file.path))
    for kind, values in stamps.items():
        assert values == sorted(values), kind
        assert max(b - a for a, b in itertools.pairwise(values)) < 100, kind
    assert decoded_seconds([file]) == pytest.approx(10, abs=1)  # not 40
    assert file.duration == pytest.approx(10, abs=1)


@pytest.mark.django_db
def test_new_codec_headers_mid_stream_start_a_new_segment(room: Any) -> None:
    streamer = make_room_streamer(split_time=0)
    room.set_stream(ROOM, size="640x360", at_seconds=4, offline_after_seconds=10)
    tasks.record(streamer.pk)

    files = list(StreamerInfo.objects.get().files.order_by("id"))
    assert len(files) == 2
    assert decoded_seconds(files) == pytest.approx(10, abs=1)
    assert [_video_size(Path(f.path)) for f in files] == ["320x240", "640x360"]


def _video_size(path: Path) -> str:
    import subprocess

    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0:s=x", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return out.stdout.strip()


@pytest.mark.django_db
def test_a_worker_killed_on_this_host_is_known_dead_at_once(room: Any) -> None:
    import socket
    import subprocess

    room.set_live(ROOM, 0)
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no longer runs
    streamer = make_room_streamer(
        state="recording",
        heartbeat=timezone.now(),  # fresh: only the dead pid tells
        worker=f"{socket.gethostname()}:{gone.pid}",
    )
    assert not lease.is_being_recorded(streamer)
    assert [s.pk for s in watch.due()] == [streamer.pk]
    tasks.record(streamer.pk)
    streamer.refresh_from_db()
    assert (streamer.state, streamer.worker) == ("idle", "")

    other_host = make_streamer(
        url="https://live.bilibili.com/1",
        state="recording",
        heartbeat=timezone.now(),
        worker="elsewhere:1",
    )
    assert lease.is_being_recorded(other_host)  # its heartbeat is all we know


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind, suffix", [("ts", ".ts"), ("fmp4", ".mp4")])
def test_a_room_that_offers_only_hls_is_recorded_from_it(
    room: Any, kind: str, suffix: str
) -> None:
    room.set_hls(ROOM, formats=kind)
    room.set_hls_only(ROOM)
    streamer = make_room_streamer(split_time=4)
    thread = record_in_background(streamer)
    wait_for(lambda: RecordingFile.objects.exists(), 60, "no segment was closed")
    # The CDN fails the playlist for both CDN hosts: the recorder asks for new URLs and goes on
    # from the segment after the last one it wrote, still in the window: nothing is lost.
    room.set_hls(ROOM, fail_playlists=2, status=502)
    wait_for(
        lambda: RecordingFile.objects.count() >= 3, 60, "3 segments were not closed"
    )
    room.set_live(ROOM, 0)
    thread.join(timeout=30)
    assert not thread.is_alive()

    session = StreamerInfo.objects.get()
    assert session.end_time is not None
    assert session.gaps == []
    files = list(session.files.order_by("id"))
    assert all(f.path.endswith(suffix) for f in files)
    for f in files[:-1]:
        assert f.duration == pytest.approx(4, abs=1.1)
    for f in files:
        probe = media.probe(Path(f.path))
        assert probe.decode_errors == "", f.path
        assert probe.streams == ["h264", "aac"]
    assert not list(segments.folder(streamer).glob("*.part"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "scheme, kind, suffix",
    [("httpstream://", "flv", ".flv"), ("hls://", "ts", ".ts")],
)
def test_other_platforms_are_recorded_through_streamlink(
    room: Any, api: Any, scheme: str, kind: str, suffix: str
) -> None:
    """streamlink's generic plugins stand for its site plugins: the URL is recognised by
    streamlink, which finds the stream; our readers and segmenters record it."""
    from biliup_site.bilibili import live

    # The fake's CDN stands for another site's, which wants no Bilibili headers: the stream is
    # pulled with the session streamlink's plugin set up.
    room.set_rules(cdn_headers=False)
    if kind != "flv":
        room.set_hls(ROOM, formats=kind)
    url = next(u.url for u in live.play_info(ROOM).urls if u.format == kind)
    responses = []
    # Tasks run inline in tests: the new streamer's check finds it live (by streamlink) and
    # records it inside this POST, until the broadcast ends.
    thread = in_background(
        lambda: responses.append(
            api.post(
                "/api/v1/streamers",
                {"url": scheme + url, "remark": "elsewhere", "split_time": 10},
            )
        )
    )
    wait_for(
        lambda: RecordingFile.objects.count() >= 2, 60, "2 segments were not closed"
    )
    room.set_live(ROOM, 0)
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert responses[0].status_code == 200, responses[0].json()

    streamer = Streamer.objects.get(remark="elsewhere")
    assert streamer.platform == {"flv": "http", "ts": "hls"}[kind]
    session = StreamerInfo.objects.get()
    assert session.end_time is not None
    files = list(session.files.all())
    assert all(f.path.endswith(suffix) for f in files)
    for f in files:
        probe = media.probe(Path(f.path))
        assert probe.decode_errors == "", f.path
        assert probe.streams == ["h264", "aac"]
    streamer.refresh_from_db()
    assert streamer.state == "idle"
    assert not watch.check(streamer)  # offline now


@pytest.mark.django_db(transaction=True)
def test_hls_segments_the_cdn_lost_are_recorded_as_a_gap(room: Any) -> None:
    room.set_hls(ROOM, formats="ts")
    room.set_hls_only(ROOM)
    streamer = make_room_streamer(split_time=0)
    thread = record_in_background(streamer)
    wait_for(
        lambda: any(segments.folder(streamer).glob("*.part")), 60, "nothing recorded"
    )
    room.set_hls(
        ROOM, fail_segments=2, status=404
    )  # gone, as segments the CDN lost are
    wait_for(
        lambda: StreamerInfo.objects.get().gaps, 60, "the lost segments left no gap"
    )
    room.set_live(ROOM, 0)
    thread.join(timeout=30)
    assert not thread.is_alive()

    session = StreamerInfo.objects.get()
    assert [g["seconds"] for g in session.gaps] == pytest.approx([2.0], abs=0.1)
    [file] = session.files.all()
    assert file.gaps == session.gaps
    assert media.probe(Path(file.path)).streams == ["h264", "aac"]
