"""What the recorder tests share: the fake's seed room, a streamer that follows it, settings
without waits, a recording run in a thread (as a worker would) with its own DB connection, and
the length of what was recorded as ffmpeg decodes it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection

from biliup_site.models import Configuration
from recorder import tasks
from recorder.models import RecordingFile, Streamer
from tests import media
from tests.factories import make_streamer

ROOM = 23058
PLAY_INFO = "/xlive/web-room/v2/index/getRoomPlayInfo"
ROOM_INIT = "/room/v1/Room/room_init"


def no_waits() -> None:
    """No grace after a broadcast ends, no disk reserve: a test's room ends when it says."""
    config = Configuration.load()
    config.delay = 0
    config.disk_reserve = 0
    config.save()


def make_room_streamer(**fields: Any) -> Streamer:
    return make_streamer(
        url=f"https://live.bilibili.com/{ROOM}",
        platform="bilibili",
        remark="主播A",
        **fields,
    )


def in_background(work: Callable[[], object]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def record_in_background(streamer: Streamer) -> threading.Thread:
    return in_background(lambda: tasks.record(streamer.pk))


def decoded_seconds(files: list[RecordingFile]) -> float:
    """The recorded media's length as ffmpeg decodes it; every file must decode cleanly, as
    H.264 + AAC."""
    total = 0.0
    for f in files:
        probe = media.probe(Path(f.path))
        assert probe.decode_errors == "", f.path
        assert probe.streams == ["h264", "aac"]
        total += probe.duration
    return total
