"""Live detection: every room checked once per interval, all at once on a bounded pool.

biliup checks a platform's rooms one after another (N rooms × 30 s); here every room is checked
within one interval, each at a random offset inside it so requests don't arrive in a burst.

A live that cannot be recorded (paid, password: room_init tells; guard-only: the recording job
finds it in play info) is said once (lease.restrict) and then left alone: no job, no play
info, no log line, until its broadcast changes (a new live_time) or ends, or the user edits,
pauses or resumes the streamer. Reference: bilibili-2026.md "Special lives".
"""

from __future__ import annotations

import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.db import close_old_connections
from django.utils import timezone

from biliup_site.bilibili import BilibiliError, BilibiliUnavailable, live
from recorder import platforms, reach, streamlink_sources
from recorder.lease import is_being_recorded, restrict
from recorder.models import Streamer
from recorder.platforms import UnsupportedUrl
from recorder.streamlink_sources import StreamlinkUnavailable

logger = logging.getLogger(__name__)

POOL = 16

# A source that kept answering something other than a stream ended its recording in error. The
# rounds leave it alone this long rather than pulling it again every round: it is most often a
# page, not an offline room. Editing or resuming the streamer asks at once.
NOT_A_STREAM_HOLD = timedelta(minutes=30)


def due() -> list[Streamer]:
    """Streamers to check: not paused, recordable here, not being recorded right now, and not
    held back after answering something other than a stream."""
    now = timezone.now()
    streamers = Streamer.objects.filter(paused=False)
    return [s for s in streamers if not is_being_recorded(s, now) and not _held(s, now)]


def _held(streamer: Streamer, now: datetime) -> bool:
    return (
        streamer.state == Streamer.State.ERROR
        and streamer.state_detail.startswith(reach.NOT_A_STREAM)
        and streamer.state_changed is not None
        and now - streamer.state_changed < NOT_A_STREAM_HOLD
    )


def check(streamer: Streamer, spread: float = 0.0) -> bool:
    """Check one room (after a random delay up to `spread` s); enqueue a recording if it is live."""
    if spread:
        time.sleep(random.uniform(0, spread))
    try:
        room = _room(streamer)
        is_live = room.is_live if room else _streamlink_live(streamer)
    except (
        BilibiliError,
        BilibiliUnavailable,
        StreamlinkUnavailable,
        UnsupportedUrl,
    ) as exc:
        logger.warning("Checking %s failed: %s", streamer, exc)
        Streamer.objects.filter(pk=streamer.pk).update(
            state_detail=f"Check failed: {exc}"
        )
        return False
    except reach.Refused as exc:
        # Not a passing failure: the URL points where the recorder may not go.
        logger.warning("Checking %s refused: %s", streamer, exc)
        Streamer.objects.filter(pk=streamer.pk).update(
            state=Streamer.State.ERROR, state_detail=str(exc)
        )
        return False
    crashed = streamer.state == Streamer.State.RECORDING  # due() left out the live ones
    if streamer.restriction:
        if (
            room is not None
            and room.is_live
            and (room.live_time == streamer.restricted_live_time)
        ):
            return False  # the same broadcast: said once already
        streamer.lift_restriction()  # a new broadcast, or none: check it as any other
    if room is not None and room.is_live and room.restriction and not crashed:
        # (A crashed recording is claimed first: the claim repairs its segments, then the
        # recorder finds the same restriction.)
        restrict(streamer, room.restriction, room.live_time)
        return False
    if is_live or crashed:
        # A crashed recording is claimed even when the room is offline: the claim repairs its
        # half-written segments.
        streamer.enqueue_recording()
    elif streamer.state == Streamer.State.WAITING:
        Streamer.objects.filter(pk=streamer.pk).update(
            state=Streamer.State.IDLE, state_detail=""
        )
    return is_live


def _room(streamer: Streamer) -> live.Room | None:
    """The Bilibili room (room_init: no WBI needed); None for other platforms."""
    if streamer.platform != "bilibili":
        return None
    return live.room_init(platforms.recordable_room(streamer.url))


def _streamlink_live(streamer: Streamer) -> bool:
    return bool(streamlink_sources.broadcast(streamer.url).sources)


def check_orphans() -> int:
    """Check at once the rooms whose recorder died mid-recording (a recorder starting again
    after a crash): their half-written segments are repaired and the live ones record on without
    waiting for a round's spread. The number found live."""
    now = timezone.now()
    orphans = [
        streamer
        for streamer in Streamer.objects.filter(
            paused=False, state=Streamer.State.RECORDING
        )
        if not is_being_recorded(streamer, now)
    ]
    return sum(check(streamer) for streamer in orphans)


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
