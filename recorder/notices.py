"""What the recorder tells the user and the webhooks: a live starting and ending, each segment
opened and closed, a recording that failed or is stuck, a disk running out of room.

EventData carries BililiveRecorder's webhook v2 keys (SessionId, RoomId, ShortId, Name, Title,
AreaNameParent, AreaNameChild, Recording, Streaming, DanmakuConnected; for files RelativePath,
FileSize, Duration, FileOpenTime, FileCloseTime), so its consumers work unchanged, and a few of
ours (StreamerId, Url, Platform). Everything comes from what the recorder already holds: no
Bilibili call is made to tell something. Each event's key names its occurrence (a session, a
file, a day), so a room that flaps, a session resumed after a restart, or a disk that stays low
is told once.

Reference: BililiveRecorder's documentation, "Webhook v2".
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext

from biliup_site.bilibili import live
from biliup_site.models import Configuration, Event
from biliup_site.notices import digest, say, site_language
from recorder.models import RecordingFile, Streamer, StreamerInfo

# SessionId: a UUID as BililiveRecorder's, the same for the whole session wherever it is said.
SESSION_NAMESPACE = uuid.UUID("6d1f3b52-8a3c-4e0e-9a51-2f1c0c6b7e21")
MB = 1024 * 1024


@dataclass(frozen=True)
class Room:
    """What the recorder knows of a Bilibili room when it says something (none for other
    platforms): room_init's ids and room_info's areas, read when the session opened."""

    room_id: int = 0
    short_id: int = 0
    area_parent: str = ""
    area_child: str = ""
    danmaku_connected: bool = False

    @classmethod
    def of(
        cls,
        room: live.Room | None,
        info: live.RoomInfo | None,
        danmaku_connected: bool = False,
    ) -> Room | None:
        if room is None:
            return None
        return cls(
            room_id=room.room_id,
            short_id=room.short_id,
            area_parent=info.parent_area_name if info else "",
            area_child=info.area_name if info else "",
            danmaku_connected=danmaku_connected,
        )


def session_id(session: StreamerInfo) -> str:
    return str(uuid.uuid5(SESSION_NAMESPACE, str(session.pk)))


def session_data(
    session: StreamerInfo,
    room: Room | None = None,
    recording: bool = True,
    streaming: bool = True,
) -> dict[str, Any]:
    """The EventData every recording event carries."""
    streamer = session.streamer
    data: dict[str, Any] = {"SessionId": session_id(session)}
    if room is not None:
        data |= {"RoomId": room.room_id, "ShortId": room.short_id}
    data |= {"Name": session.name, "Title": session.title}
    if room is not None:
        data |= {"AreaNameParent": room.area_parent, "AreaNameChild": room.area_child}
    data |= {
        "Recording": recording,
        "Streaming": streaming,
        "DanmakuConnected": room.danmaku_connected if room else False,
        "StreamerId": session.streamer_id,
        "StreamerInfoId": session.pk,
        "Url": session.url,
        "Platform": streamer.platform if streamer else "",
    }
    return data


def relative_path(path: str | Path) -> str:
    """The file's path under the recordings folder, with forward slashes (as BililiveRecorder
    gives it); its name alone if it lies elsewhere."""
    path = Path(path)
    try:
        return path.relative_to(Configuration.load().recordings_path()).as_posix()
    except ValueError:
        return path.name


def _time(when: datetime) -> str:
    return timezone.localtime(when).isoformat()


def _hms(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02}:{seconds % 60:02}"


def session_started(session: StreamerInfo, room: Room | None = None) -> None:
    """The session's recording begins (its first segment opens): the live started, for us."""
    data = session_data(session, room)
    with site_language():
        started = gettext("%(name)s went live: %(title)s")
        recording = gettext("Recording %(name)s: %(title)s")
    names = {"name": session.name, "title": session.title}
    say("stream_started", f"stream_started:{session.pk}", data, started % names)
    say("session_started", f"session_started:{session.pk}", data, recording % names)


def file_opening(
    session: StreamerInfo, path: Path, opened: datetime, room: Room | None = None
) -> None:
    data = {
        "RelativePath": relative_path(path),
        "FileOpenTime": _time(opened),
        **session_data(session, room),
    }
    with site_language():
        summary = gettext("%(name)s: recording into %(file)s") % {
            "name": session.name,
            "file": path.name,
        }
    say("file_opening", f"file_opening:{session.pk}:{digest(str(path))}", data, summary)


def file_closed(
    file: RecordingFile, opened: datetime | None = None, room: Room | None = None
) -> None:
    """A segment is closed and on record. `opened`: when it was opened, if known (a segment
    repaired after a crash was opened by the recorder that died)."""
    session = file.streamer_info
    closed = file.created or timezone.now()
    opened = opened or closed - timedelta(seconds=file.duration)
    data = {
        "RelativePath": relative_path(file.path),
        "FileSize": file.size,
        "Duration": round(file.duration, 3),
        "FileOpenTime": _time(opened),
        "FileCloseTime": _time(closed),
        **session_data(session, room),
    }
    with site_language():
        summary = gettext("%(name)s: %(file)s closed (%(duration)s, %(size)s)") % {
            "name": session.name,
            "file": Path(file.path).name,
            "duration": _hms(file.duration),
            "size": filesizeformat(file.size),
        }
    say("file_closed", f"file_closed:{file.pk}", data, summary)


def _started(session: StreamerInfo) -> bool:
    return Event.objects.filter(key=f"session_started:{session.pk}").exists()


def session_ended(
    session: StreamerInfo, room: Room | None = None, streaming: bool = False
) -> None:
    """The session is over (the broadcast ended, or the recording stopped: `streaming`).
    Said only for a session whose start was said: one stopped before its first segment (a
    full disk, a room with no stream) started nothing a user heard of."""
    if not _started(session):
        return
    files = list(session.files.all())
    data = session_data(session, room, recording=False, streaming=streaming)
    names = {
        "name": session.name,
        "title": session.title,
        "files": len(files),
        "duration": _hms(sum(f.duration for f in files)),
    }
    with site_language():
        ended = gettext("Recording of %(name)s ended: %(files)d segments, %(duration)s")
        over = gettext("%(name)s's live ended: %(title)s")
    say("session_ended", f"session_ended:{session.pk}", data, ended % names)
    say("stream_ended", f"stream_ended:{session.pk}", data, over % names)


def recording_failed(
    streamer: Streamer,
    reason: str,
    session: StreamerInfo | None = None,
    room: Room | None = None,
) -> None:
    """The recording stopped on an error. Said once per session that started; else (the room
    could not be looked at, the disk was full before the first segment) once a day per
    streamer and kind of error, not again at every live check that retries it."""
    if session is not None:
        data = session_data(session, room, recording=False)
        name = session.name
    else:
        data = {
            "Name": str(streamer),
            "StreamerId": streamer.pk,
            "Url": streamer.url,
            "Platform": streamer.platform,
        }
        name = str(streamer)
    if session is not None and _started(session):
        key = f"recording_failed:{session.pk}"
    else:
        day = timezone.localdate().isoformat()
        kind = reason.split(":")[0][:40]
        key = f"recording_failed:streamer-{streamer.pk}:{day}:{digest(kind)}"
    data["Reason"] = reason
    with site_language():
        summary = gettext("Recording %(name)s failed: %(reason)s") % {
            "name": name,
            "reason": reason,
        }
    say("recording_failed", key, data, summary[:500])


def recording_stalled(
    session: StreamerInfo, seconds: float, room: Room | None = None
) -> None:
    """The room is live but no stream has delivered media for `seconds`. Once per session:
    a room whose stream comes and goes is told once, not at every drop."""
    data = session_data(session, room) | {"StalledSeconds": round(seconds)}
    with site_language():
        summary = gettext(
            "Recording %(name)s is stuck: the room is live but no stream has come for"
            " %(seconds)d s"
        ) % {"name": session.name, "seconds": round(seconds)}
    say("recording_stalled", f"recording_stalled:{session.pk}", data, summary)


def disk_low(folder: Path, reserve_mb: int, free_bytes: int | None = None) -> None:
    """Free space where recordings go fell under twice the reserve, or the disk is full
    (`free_bytes` None: measured here). Once a day: every segment opened meanwhile would say
    it again."""
    if free_bytes is None:
        try:
            free_bytes = shutil.disk_usage(folder).free
        except OSError:
            free_bytes = 0
    data = {
        "Path": str(folder),
        "FreeBytes": free_bytes,
        "ReserveBytes": reserve_mb * MB,
    }
    with site_language():
        summary = gettext(
            "Disk space low: %(free)s free for recordings, %(reserve)s is kept free"
        ) % {
            "free": filesizeformat(free_bytes),
            "reserve": filesizeformat(reserve_mb * MB),
        }
    say("disk_low", f"disk_low:{timezone.localdate().isoformat()}", data, summary)
