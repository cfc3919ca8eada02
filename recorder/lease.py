"""Who records a streamer: the lease a recorder holds on its row.

A recorder claims a streamer (state RECORDING, `worker` its "host:pid", a fresh `heartbeat`)
within download_limit, beats while it records (recorder/heartbeats.py) and releases it at the
end. A recording whose heartbeat went stale, or whose recorder's pid is gone on this host, lost
its recorder: the next claim takes it over (and the recording repairs the segments it left
half-written: segments.recover).
Every write to the row after the claim is guarded by `worker`, so a recorder that was taken
over (it froze, and woke up) cannot undo what the new holder did.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from biliup_site import live as progress
from biliup_site.models import Configuration
from biliup_site.workers import this_worker, worker_alive
from recorder.models import Streamer

logger = logging.getLogger(__name__)


def stale_after() -> timedelta:
    """A recording whose heartbeat is older than this lost its recorder."""
    return timedelta(seconds=settings.RECORDER_STALE_SECONDS)


def is_being_recorded(streamer: Streamer, now: datetime | None = None) -> bool:
    """A worker records the streamer right now: its heartbeat is fresh and, on this host, its
    process is alive. A worker killed with -9 is known dead at once here, after stale_after() on
    other hosts."""
    now = now or timezone.now()
    return (
        streamer.state == Streamer.State.RECORDING
        and streamer.heartbeat is not None
        and streamer.heartbeat > now - stale_after()
        and worker_alive(streamer.worker)
    )


def claim(streamer_id: int) -> Streamer | None:
    """Take the streamer for this worker, within download_limit. None if not to be recorded now."""
    now = timezone.now()
    with transaction.atomic():
        # One claim at a time across workers: the configuration row serializes them, so the
        # count below cannot be raced past download_limit.
        config = Configuration.objects.select_for_update().get(
            pk=Configuration.load().pk
        )
        streamer = Streamer.objects.select_for_update().filter(pk=streamer_id).first()
        if streamer is None or streamer.paused:
            return None
        if is_being_recorded(streamer, now):
            return None  # another worker records it
        busy = sum(
            is_being_recorded(other, now)
            for other in Streamer.objects.filter(
                state=Streamer.State.RECORDING, heartbeat__gt=now - stale_after()
            ).exclude(pk=streamer.pk)
        )
        if busy >= config.download_limit:
            _set_state(
                streamer,
                Streamer.State.WAITING,
                f"Live, waiting for one of {config.download_limit} download slots",
            )
            return None
        streamer.heartbeat, streamer.worker, streamer.progress = now, this_worker(), {}
        _set_state(
            streamer,
            Streamer.State.RECORDING,
            "",
            extra=("heartbeat", "worker", "progress"),
        )
    return streamer


def _set_state(
    streamer: Streamer, state: str, detail: str, extra: tuple[str, ...] = ()
) -> None:
    streamer.state, streamer.state_detail, streamer.state_changed = (
        state,
        detail,
        timezone.now(),
    )
    streamer.save(
        update_fields=("state", "state_detail", "state_changed", "updated", *extra)
    )
    progress.notify(
        progress.PROGRESS_GROUP, "job.changed", kind="streamer", pk=streamer.pk
    )


def release(
    streamer: Streamer, state: str = Streamer.State.IDLE, detail: str = ""
) -> bool:
    """Free the streamer this recorder holds. False, and nothing changed, if it is not this
    recorder's any more (another took it over) or was deleted."""
    now = timezone.now()
    released = Streamer.objects.filter(pk=streamer.pk, worker=streamer.worker).update(
        heartbeat=None,
        worker="",
        progress={},
        state=state,
        state_detail=detail,
        state_changed=now,
        updated=now,
    )
    if released:
        streamer.heartbeat, streamer.worker, streamer.progress = None, "", {}
        streamer.state, streamer.state_detail, streamer.state_changed = (
            state,
            detail,
            now,
        )
        progress.notify(
            progress.PROGRESS_GROUP, "job.changed", kind="streamer", pk=streamer.pk
        )
    return bool(released)


def holds(streamer: Streamer) -> bool:
    """The streamer is still this recorder's: not taken over by another, nor deleted."""
    return Streamer.objects.filter(pk=streamer.pk, worker=streamer.worker).exists()


def restrict(streamer: Streamer, restriction: str, live_time: int) -> None:
    """This broadcast cannot be recorded: say why, once (the log, and the streamer's state and
    detail that the pages and the API show), and let the watcher leave the room alone until the
    broadcast changes or the user edits, pauses or resumes the streamer (no job, no retry)."""
    streamer.restriction, streamer.restricted_live_time = restriction, live_time
    detail = streamer.restriction_detail()
    logger.warning("Streamer %s (%s): %s", streamer.pk, streamer.url, detail)
    streamer.heartbeat, streamer.worker, streamer.progress = None, "", {}
    _set_state(
        streamer,
        Streamer.State.RESTRICTED,
        detail,
        extra=(
            "restriction",
            "restricted_live_time",
            "heartbeat",
            "worker",
            "progress",
        ),
    )
