"""Recording from a CDN as strict as Bilibili's (tests/fakebili/cdn.py): a close-delimited FLV
host reaches the disk while the room is live, a long stream keeps the recorder's memory flat,
every reconnect asks for a fresh (short-lived) play URL, the GOP the CDN resends after a
reconnect is recorded once, and each gap is listed on the file that holds it.

Reference: /work/shared/reference/bilibili-2026.md "Live rooms and the stream CDN".
"""

from __future__ import annotations

import os
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from recorder import flv, segments, tasks
from recorder.models import RecordingFile, Streamer, StreamerInfo
from tests import media
from tests.livesite import part_bytes
from tests.polling import wait_for
from tests.recorder.rooms import (
    PLAY_INFO,
    ROOM,
    decoded_seconds,
    make_room_streamer,
    no_waits,
    record_in_background,
)


@pytest.fixture
def room(fakebili: Any, recordings: Path) -> Any:
    """The fake's room, not live yet; no grace after a broadcast ends."""
    no_waits()
    fakebili.add_room(ROOM, speed=0)
    return fakebili


def part_size(streamer: Streamer) -> int:
    return part_bytes(segments.folder(streamer))


@pytest.mark.django_db(transaction=True)
def test_a_close_delimited_cdn_reaches_the_disk_while_the_room_is_live(
    room: Any,
) -> None:
    room.set_cdn(hosts=["cn-gotcha04"])  # the host that sends FLV close-delimited
    room.add_room(ROOM, speed=1)
    streamer = make_room_streamer(split_time=0)
    went_live = time.monotonic()
    room.set_live(ROOM, 1)
    thread = record_in_background(streamer)
    wait_for(
        lambda: segments.folder(streamer).is_dir() and part_size(streamer) > 0,
        2 - (time.monotonic() - went_live),
        "no bytes on disk 2 s after the room went live",
    )
    # And it goes on growing while the broadcast runs.
    for _ in range(3):
        size = part_size(streamer)
        wait_for(
            lambda size=size: part_size(streamer) > size, 2, "the file stopped growing"
        )
    [part] = segments.folder(streamer).glob("*.part")
    live_probe = media.probe(part)
    assert live_probe.streams == ["h264", "aac"]
    assert live_probe.duration > 1
    room.set_live(ROOM, 0)
    thread.join(timeout=30)
    assert not thread.is_alive()

    [file] = StreamerInfo.objects.get().files.all()
    assert decoded_seconds([file]) > live_probe.duration
    assert room.cdn_log()["pulls"] == 1


def rss() -> int:
    """This process's resident memory, in bytes (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


class PeakRss(threading.Thread):
    """The most memory the process holds while it runs, sampled every 20 ms."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.before = self.peak = rss()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, rss())

    def stop(self) -> int:
        """How much more than at the start it held at its peak."""
        self.done.set()
        self.join()
        return self.peak - self.before


@pytest.mark.django_db
def test_a_30_minute_stream_keeps_the_recorders_memory_flat(room: Any) -> None:
    """Half an hour of stream as fast as the recorder reads it, from the close-delimited host:
    read whole (requests' iter_content(chunk_size=None)) it would all sit in memory."""
    room.set_cdn(hosts=["cn-gotcha04"])
    room.set_live(ROOM, 1)
    room.set_stream(ROOM, offline_after_seconds=1800)
    streamer = make_room_streamer(split_time=600)
    sampler = PeakRss()
    sampler.start()
    try:
        tasks.record(streamer.pk)
    finally:
        growth = sampler.stop()

    files = list(StreamerInfo.objects.get().files.order_by("id"))
    recorded = sum(f.size for f in files)
    assert [f.duration for f in files] == pytest.approx([600, 600, 600], abs=2)
    assert recorded > 80 * 1024 * 1024
    # The whole process (the fake's threads included) against what went through it.
    assert growth < 16 * 1024 * 1024, (
        f"grew {growth / 1e6:.1f} MB for {recorded / 1e6:.0f} MB"
    )


@pytest.mark.django_db
def test_every_reconnect_gets_a_fresh_play_url(room: Any) -> None:
    # Play URLs live 2 s; the drop comes 3 s into the broadcast, when the first has expired.
    room.set_cdn(stream_ttl=2)
    room.add_room(ROOM, speed=1)
    room.set_live(ROOM, 1)
    room.set_stream(ROOM, drop_after_seconds=3, offline_after_seconds=5)
    streamer = make_room_streamer(split_time=0)
    tasks.record(streamer.pk)

    log = room.cdn_log()
    assert log["pulls"] == 2
    assert "refused_expired" not in log
    assert room.hits(PLAY_INFO) >= 2
    session = StreamerInfo.objects.get()
    assert len(session.gaps) == 1
    [file] = session.files.all()
    assert decoded_seconds([file]) == pytest.approx(5, abs=0.5)


def video_crcs(files: list[RecordingFile]) -> list[int]:
    crcs = []
    for file in files:
        with open(file.path, "rb") as f:
            crcs += [zlib.crc32(t.data) for t in flv.FlvReader(f) if t.is_video]
    return crcs


def repeats(crcs: list[int], window: int) -> int:
    """Frames equal to one of the `window` frames before them. The clip loops every 250
    frames, so only a frame recorded twice repeats within fewer."""
    return sum(crc in crcs[max(0, i - window) : i] for i, crc in enumerate(crcs))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("resend", [True, False])
def test_the_gop_a_cdn_resends_after_a_reconnect_is_recorded_once(
    room: Any, resend: bool
) -> None:
    room.set_rules(cdn_gop_resend=resend)
    room.add_room(ROOM, speed=5)
    room.set_live(ROOM, 1)
    streamer = make_room_streamer(split_time=0)
    thread = record_in_background(streamer)
    for second in (3, 6, 9, 12):
        room.set_stream(ROOM, drop_after_seconds=second)
        wait_for(lambda: room.rooms()[0]["drop_after_seconds"] is None, 20, "no drop")
    room.set_stream(ROOM, offline_after_seconds=15)
    thread.join(timeout=60)
    assert not thread.is_alive()

    session = StreamerInfo.objects.get()
    assert len(session.gaps) == 4
    files = list(session.files.all())
    assert room.cdn_log().get("resent", 0) == (4 if resend else 0)
    crcs = video_crcs(files)
    assert len(crcs) == pytest.approx(15 * 25, abs=5)
    assert repeats(crcs, 100) / len(crcs) < 0.002
    assert decoded_seconds(files) == pytest.approx(15, abs=0.3)


@pytest.mark.django_db
def test_each_gap_is_listed_on_the_file_that_holds_it(room: Any) -> None:
    room.set_live(ROOM, 1)
    # Files of 10 s; the drop 4 s in, inside the first; the reconnected stream fills the others.
    room.set_stream(ROOM, drop_after_seconds=4, offline_after_seconds=25)
    streamer = make_room_streamer(split_time=10)
    tasks.record(streamer.pk)

    session = StreamerInfo.objects.get()
    [gap] = session.gaps
    files = list(session.files.order_by("id"))
    assert [round(f.duration) for f in files] == [10, 10, 5]
    assert [f.gaps for f in files] == [[gap], [], []]
