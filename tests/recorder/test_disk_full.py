"""A disk that fills up mid-recording: the recording stops cleanly, what reached the disk is
kept as a closed, playable segment of the session, and the streamer tells the user why."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from biliup_site.models import Configuration
from recorder import tasks
from recorder.models import StreamerInfo
from tests.recorder.rooms import ROOM, decoded_seconds, make_room_streamer, no_waits

DISK_BYTES = 1_500_000  # the fake's clip is ~40 kB/s: a few dozen seconds of stream


@pytest.fixture
def small_disk(tmp_path: Path, db: None) -> Iterator[Path]:
    """A 1.5 MB tmpfs as the recordings folder (mounting needs root, as CI has)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        config = Configuration.load()
        config.recordings_dir = str(mount)
        config.save()
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "stream",
    [
        {},
        {"hls_only": True, "hls_formats": "ts"},
        {"hls_only": True, "hls_formats": "fmp4"},
    ],
    ids=["flv", "ts", "fmp4"],
)
def test_a_full_disk_stops_the_recording_and_keeps_what_was_written(
    fakebili: Any, small_disk: Path, stream: dict[str, Any]
) -> None:
    no_waits()
    fakebili.add_room(ROOM, speed=0, uname="主播A", **stream)
    fakebili.set_live(ROOM, 1)
    streamer = make_room_streamer(split_time=0, split_size=0)

    result = tasks.record(streamer.pk)

    streamer.refresh_from_db()
    assert streamer.state == "error"
    assert streamer.state_detail.startswith("The disk is full"), streamer.state_detail
    assert "Free some space" in streamer.state_detail
    assert result.startswith("The disk is full")
    session = StreamerInfo.objects.get()
    assert session.end_time is not None
    [file] = session.files.all()
    assert not list(small_disk.rglob("*.part"))
    assert Path(file.path).stat().st_size > DISK_BYTES // 2
    assert decoded_seconds([file]) > 5
