"""Live detection: every room checked once per interval, all at once on a bounded pool.

biliup checks a platform's rooms one after another (N rooms × 30 s); here every room is checked
within one interval, each at a random offset inside it so requests don't arrive in a burst.
"""

from __future__ import annotations

import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections
from django.utils import timezone

from biliup_site.bilibili import BilibiliError, BilibiliUnavailable
from recorder import live, platforms
from recorder.models import Streamer
from recorder.recording import is_being_recorded

logger = logging.getLogger(__name__)

POOL = 16


def due() -> list[Streamer]:
    """Streamers to check: not paused, recordable here, and not being recorded right now."""
    now = timezone.now()
    streamers = Streamer.objects.filter(paused=False, platform="bilibili")
    return [s for s in streamers if not is_being_recorded(s, now)]


def check(streamer: Streamer, spread: float = 0.0) -> bool:
    """Check one room (after a random delay up to `spread` s); enqueue a recording if it is live."""
    if spread:
        time.sleep(random.uniform(0, spread))
    room_ref = platforms.bilibili_room(streamer.url)
    if room_ref is None:
        return False
    try:
        room = live.room_init(room_ref)
    except (BilibiliError, BilibiliUnavailable) as exc:
        logger.warning("Checking %s failed: %s", streamer, exc)
        Streamer.objects.filter(pk=streamer.pk).update(
            state_detail=f"Check failed: {exc}"
        )
        return False
    crashed = streamer.state == Streamer.State.RECORDING  # due() left out the live ones
    if room.is_live or crashed:
        # A crashed recording is claimed even when the room is offline: the claim repairs its
        # half-written segments.
        streamer.enqueue_recording()
    elif streamer.state == Streamer.State.WAITING:
        Streamer.objects.filter(pk=streamer.pk).update(
            state=Streamer.State.IDLE, state_detail=""
        )
    return room.is_live


def check_all(spread: float = 0.0) -> int:
    """Check every due room; the number found live."""
    streamers = due()
    if not streamers:
        return 0
    with ThreadPoolExecutor(max_workers=min(POOL, len(streamers))) as pool:
        return sum(pool.map(lambda s: _check_on_pool(s, spread), streamers))


def _check_on_pool(streamer: Streamer, spread: float) -> bool:
    try:
        return check(streamer, spread)
    finally:
        close_old_connections()  # each pool thread has its own connection: don't leak it
