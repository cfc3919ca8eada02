"""django-q2 entry points of the recorder: record jobs run in the recorder service
(recorder/pool.py), checks in the jobs cluster."""

from __future__ import annotations

import logging

from biliup_site.bilibili import BilibiliError, BilibiliUnavailable
from recorder import lease, notices, reach, recording, watch
from recorder.models import Streamer
from recorder.platforms import UnsupportedUrl
from recorder.streamlink_sources import StreamlinkUnavailable

logger = logging.getLogger(__name__)


def record(streamer_id: int) -> str:
    """Record the streamer while it is live, in this thread; what happened, in a few words.

    Run by the recorder service (recorder/pool.py), which takes these jobs from the recorder
    queue and gives each a thread; its result goes on record as any django-q2 task's does.
    """
    streamer = lease.claim(streamer_id)
    if streamer is None:
        waiting = Streamer.objects.filter(
            pk=streamer_id, state=Streamer.State.WAITING
        ).first()
        return waiting.state_detail if waiting else "Nothing to record"
    try:
        return recording.Recorder(streamer).run()
    except (BilibiliError, BilibiliUnavailable) as exc:
        return _failed(streamer, f"Bilibili: {exc}")
    except (UnsupportedUrl, StreamlinkUnavailable, reach.Refused) as exc:
        return _failed(streamer, str(exc))


def _failed(streamer: Streamer, detail: str) -> str:
    logger.warning("Recording of streamer %s stopped: %s", streamer.pk, detail)
    lease.release(streamer, Streamer.State.ERROR, detail)
    notices.recording_failed(streamer, detail)
    return detail


def check(streamer_id: int) -> None:
    """Check one room now; record it if it is live."""
    streamer = Streamer.objects.filter(pk=streamer_id, paused=False).first()
    if streamer is not None:
        watch.check(streamer)
