"""What the recorder tests share: the fake's seed room, a streamer that follows it, settings
without waits, and a recording run in a thread (as a worker would) with its own DB connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

from biliup_site.models import Configuration
from recorder import tasks
from recorder.models import Streamer
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
