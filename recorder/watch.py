"""Live detection: every room checked once per interval, all at once on a bounded pool.

biliup checks a platform's rooms one after another (N rooms × 30 s); here every room is checked
within one interval, each at a random offset inside it so requests don't arrive in a burst.

A live room's card (title, cover, area, online count: recorder/cards.py) is read once a round:
by the recorder when it opens a session, and here for a room being recorded, waiting for a
download slot, or that cannot be recorded. An offline room costs no read.

A live that cannot be recorded (paid, password: room_init tells; guard-only: the recording job
finds it in play info) is said once (lease.restrict) and then left alone: no job, no play
info, no log line, until its broadcast changes (a new live_time) or ends, or the user edits,
pauses or resumes the streamer. Reference: bilibili-2026.md "Special lives".
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.db import close_old_connections
from django.utils import timezone

from biliup_site.bilibili import BilibiliError, BilibiliUnavailable, live
from recorder import cards, platforms, reach, streamlink_sources
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
    found: streamlink_sources.Broadcast | None = None
    try:
        room = _room(streamer)
        if room is None:
            found = streamlink_sources.broadcast(streamer.url)
            is_live = bool(found.sources)
        else:
            is_live = room.is_live
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
            cards.refresh(streamer, room.room_id)
            return False  # the same broadcast: said once already
        streamer.lift_restriction()  # a new broadcast, or none: check it as any other
    if room is not None and room.is_live and room.restriction and not crashed:
        # (A crashed recording is claimed first: the claim repairs its segments, then the
        # recorder finds the same restriction.)
        restrict(streamer, room.restriction, room.live_time)
        cards.refresh(streamer, room.room_id)
        return False
    if not is_live:
        cards.offline(streamer)
    elif streamer.state == Streamer.State.WAITING:
        # The card of a room handed to a recorder is the recorder's: it reads the room's info
        # when its session opens. One still waiting for a download slot has not yet.
        _seen_live(streamer, room, found)
    if is_live or crashed:
        # A crashed recording is claimed even when the room is offline: the claim repairs its
        # half-written segments.
        streamer.enqueue_recording()
    elif streamer.state == Streamer.State.WAITING:
        Streamer.objects.filter(pk=streamer.pk).update(
            state=Streamer.State.IDLE, state_detail=""
        )
    return is_live


def _seen_live(
    streamer: Streamer,
    room: live.Room | None,
    found: streamlink_sources.Broadcast | None,
) -> None:
    if room is not None:
        cards.refresh(streamer, room.room_id)
    elif found is not None:
        cards.heard_from_streamlink(streamer, found.title)


def _room(streamer: Streamer) -> live.Room | None:
    """The Bilibili room (room_init: no WBI needed); None for other platforms."""
    if streamer.platform != "bilibili":
        return None
    return live.room_init(platforms.recordable_room(streamer.url))


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


def recorded() -> list[Streamer]:
    """Bilibili rooms being recorded right now: the round refreshes their cards (title, online
    count) without checking them."""
    now = timezone.now()
    streamers = Streamer.objects.filter(
        paused=False, platform="bilibili", state=Streamer.State.RECORDING
    )
    return [s for s in streamers if is_being_recorded(s, now)]


def refresh_card(streamer: Streamer, spread: float = 0.0) -> bool:
    """The card of a room being recorded: one get_info (after a random delay up to `spread` s).
    A room that is no longer a Bilibili room (a bad URL) is left as it is."""
    if spread:
        time.sleep(random.uniform(0, spread))
    try:
        room_id = int(platforms.recordable_room(streamer.url))
    except (UnsupportedUrl, ValueError):
        return False
    return cards.refresh(streamer, room_id)


def check_all(spread: float = 0.0) -> int:
    """Check every due room, and refresh the cards of the rooms being recorded; the number
    found live."""
    streamers, recording = due(), recorded()
    if not streamers and not recording:
        return 0
    workers = min(POOL, len(streamers) + len(recording))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        refreshed = pool.map(lambda s: _on_pool(refresh_card, s, spread), recording)
        found = sum(pool.map(lambda s: _on_pool(check, s, spread), streamers))
        list(refreshed)  # (what went wrong there is raised here)
    return found


def _on_pool(
    work: Callable[[Streamer, float], bool], streamer: Streamer, spread: float
) -> bool:
    try:
        return work(streamer, spread)
    finally:
        close_old_connections()  # each pool thread has its own connection: don't leak it
