"""Heartbeats of the recordings in this process.

A recording beats every few seconds: its row gets a fresh `heartbeat` and `progress`, and the
pages hear of it. In the recorder service (recorder/pool.py) many recordings run as threads, so
their beats are collected here and written by the service's loop in one transaction a second,
with one database connection, however many rooms record. A recording run on its own (a test, a
one-off task) writes its beat at once.

A beat is written only while the row is still this recorder's (`worker`), not paused and not
deleted: otherwise the recording is told to stop (stop_reason), so a room taken over by another
machine's recorder, after this one looked dead, is never recorded twice for long.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from biliup_site import live as progress
from recorder.models import RecordingProgress, Streamer

_lock = threading.Lock()
_pending: dict[int, Beat] = {}
_stopped: dict[int, Lost] = {}
# Set by the recorder service, which calls flush() every second.
batched = False


@dataclass(frozen=True)
class Beat:
    worker: str  # the recorder the row must still belong to
    progress: RecordingProgress


@dataclass(frozen=True)
class Lost:
    """Why a recording's row is no longer its own."""

    reason: str  # "Paused", "Deleted", "Taken over by host:pid"
    taken_over: bool = (
        False  # another recorder holds it: its row and session are not ours
    )


def beat(streamer_id: int, worker: str, progress: RecordingProgress) -> None:
    """Put the recording's beat on record: now, or at the service's next flush."""
    if batched:
        with _lock:
            _pending[streamer_id] = Beat(worker, progress)
        return
    _write({streamer_id: Beat(worker, progress)})


def lost(streamer_id: int) -> Lost | None:
    """Why the recording must stop, if its last beat found out."""
    return _stopped.get(streamer_id)


def forget(streamer_id: int) -> None:
    """The recording ended: its beats and stop reason go."""
    with _lock:
        _pending.pop(streamer_id, None)
        _stopped.pop(streamer_id, None)


def flush() -> int:
    """Write the beats collected since the last flush; the number written."""
    with _lock:
        beats = dict(_pending)
        _pending.clear()
    if beats:
        _write(beats)
    return len(beats)


def _write(beats: dict[int, Beat]) -> None:
    now = timezone.now()
    lost = []
    with transaction.atomic():
        for pk, beat_ in beats.items():
            updated = Streamer.objects.filter(
                pk=pk,
                paused=False,
                state=Streamer.State.RECORDING,
                worker=beat_.worker,
            ).update(heartbeat=now, progress=beat_.progress)
            if updated != 1:
                lost.append(pk)
    if lost:
        rows = {s.pk: s for s in Streamer.objects.filter(pk__in=lost)}
        with _lock:
            for pk in lost:
                _stopped[pk] = _why_lost(rows.get(pk))
    progress.notify_many(
        progress.PROGRESS_GROUP,
        "job.changed",
        kind="streamer",
        pks=[pk for pk in beats if pk not in lost],
    )


def _why_lost(streamer: Streamer | None) -> Lost:
    if streamer is None:
        return Lost("Deleted")
    if streamer.paused:
        return Lost("Paused")
    return Lost(
        f"Taken over by {streamer.worker or 'another recorder'}", taken_over=True
    )
