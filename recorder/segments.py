"""Where a streamer's segments go (its folder, each file's name) and what a recorder that died
left of them: half-written segments made whole and put on record (recover), and the word that a
segment is closed (announce)."""

from __future__ import annotations

import logging
import os
import re
from datetime import datetime
from pathlib import Path

from django.utils import timezone

from biliup_site.models import Configuration
from recorder import danmaku, flv, hls, notices, signals
from recorder.models import RecordingFile, Streamer, StreamerInfo

logger = logging.getLogger(__name__)

UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def folder(streamer: Streamer) -> Path:
    return Configuration.load().recordings_path() / _safe(
        streamer.remark or f"room-{streamer.pk}"
    )


def _safe(text: str) -> str:
    return UNSAFE.sub("_", text).strip(" .") or "_"


def file_stem(streamer: Streamer, session: StreamerInfo, start: datetime) -> str:
    """The file name from the streamer's template: {streamer}, {title}, {url} and strftime fields."""
    template = streamer.filename_prefix or "{streamer}%Y-%m-%dT%H_%M_%S"
    filled = (
        template.replace("{streamer}", session.name)
        .replace("{title}", session.title)
        .replace("{url}", streamer.url)
    )
    try:
        name = timezone.localtime(start).strftime(filled)
    except ValueError:
        name = filled
    return _safe(name)[:200]


def recover(streamer: Streamer) -> None:
    """After a worker died mid-recording: make its half-written segments decodable and keep them."""
    session = streamer.sessions.filter(end_time=None).order_by("-start_time").first()
    for part in sorted(folder(streamer).glob("*.part")):
        finalize = (
            flv.finalize_part if part.stem.endswith(".flv") else hls.finalize_part
        )
        written = part.stat().st_mtime
        try:
            path = finalize(part)
        except ValueError:
            logger.warning("%s is not a segment of ours; left as it is", part)
            continue
        if path is None:
            logger.warning("Nothing decodable in %s; left as it is", part)
            continue
        logger.info("Recovered %s after a crash", path)
        # Its time of last write is when the recording stopped: the resumed session's gap
        # starts there (Recorder.run).
        os.utime(path, (written, written))
        if session is not None:
            announce(
                RecordingFile.objects.create(
                    streamer_info=session,
                    path=str(path),
                    size=path.stat().st_size,
                    duration=_recovered_duration(path),
                    **danmaku.recovered(part, path, streamer.danmaku_ass),
                )
            )


def announce(file: RecordingFile, tell: bool = True) -> None:
    """Tell the site a segment is closed and on record (the upload pipeline queues it), and
    the user and webhooks unless the caller did (Recorder._closed, with what it knows)."""
    if tell:
        notices.file_closed(file)
    for receiver, result in signals.segment_closed.send_robust(
        RecordingFile, file=file
    ):
        if isinstance(result, Exception):
            logger.error("%s failed on %s", receiver, file.path, exc_info=result)


def _recovered_duration(path: Path) -> float:
    """An FLV's duration from the onMetaData finalize_part filled in; 0 where unknown."""
    if path.suffix != ".flv":
        return 0.0
    duration = flv.read_metadata(path).get("duration", 0.0)
    return float(duration) if isinstance(duration, int | float) else 0.0
