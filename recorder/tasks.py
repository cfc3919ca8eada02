"""django-q2 entry points of the recorder. They run in the recorder cluster (see settings)."""

from __future__ import annotations

import logging

from biliup_site.bilibili import BilibiliError, BilibiliUnavailable
from recorder import recording, watch
from recorder.models import Streamer
from recorder.platforms import UnsupportedUrl
from recorder.streamlink_sources import StreamlinkUnavailable

logger = logging.getLogger(__name__)


def record(streamer_id: int) -> None:
    streamer = recording.claim(streamer_id)
    if streamer is None:
        return
    try:
        recording.Recorder(streamer).run()
    except (BilibiliError, BilibiliUnavailable) as exc:
        _failed(streamer, f"Bilibili: {exc}")
    except (UnsupportedUrl, StreamlinkUnavailable) as exc:
        _failed(streamer, str(exc))


def _failed(streamer: Streamer, detail: str) -> None:
    logger.warning("Recording of streamer %s stopped: %s", streamer.pk, detail)
    if Streamer.objects.filter(pk=streamer.pk).exists():
        recording.release(streamer, Streamer.State.ERROR, detail)


def check(streamer_id: int) -> None:
    """Check one room now; record it if it is live."""
    streamer = Streamer.objects.filter(pk=streamer_id, paused=False).first()
    if streamer is not None:
        watch.check(streamer)
