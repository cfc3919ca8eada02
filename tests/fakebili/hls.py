"""HLS for the fake live rooms: the room's clip cut into segments by ffmpeg, served as a live
sliding-window playlist, in MPEG-TS or in fMP4 (cdn.py routes the requests here).

    ts    /live-bvc/<n>/<name>.m3u8?<extra>          segments <name>-<seq>.ts beside it
    fmp4  /live-bvc/<n>/<name>/index.m3u8?<extra>    init h<live_start>.m4s, segments <seq>.m4s

<name> is the stream name (live_<uid>_<stream id>[_<qn suffix>]). The playlist's URIs are
relative and carry no query, as Bilibili's do; a segment request that brings the playlist's
query along is sign-checked like the playlist (cdn.stream).

The media: ffmpeg copies the clip (no re-encoding), looped to MEDIA_SECONDS, into ~1 s segments
(one per keyframe; the default clip has one a second), once per clip and kind, cached on disk.
Broadcast segment i is media segment i mod n; past the end the media starts over, after an
#EXT-X-DISCONTINUITY, since its timestamps go back to the start. Sequence numbers are
live_start + i (with 1 s segments at real time, about the unix second the segment began).

Pacing: the packager has made the broadcast's media up to `edge_seconds(room, now)`: the wall
time since the broadcast began times the room's `speed` (a speed change takes effect from then
on). At speed 0 ("as fast as the client reads") it is UNPACED_AHEAD_S past the end of the newest
segment fetched. A segment is listed and served once wholly made; the playlist lists the newest
WINDOW, and segments stay fetchable for KEEP segments behind the newest (then 404).

The FLV controls (drop/stall after bytes, jumps, swaps, offline/drop after seconds) do not touch
HLS; a room's `hls_fail_*` fields spoil its next playlist or segment requests instead.

Reference: /work/shared/reference/bilibili-protocol.md §6.4 (the URLs). The playlist's shape
(version 7, TIME-OFFSET=0, 1 s target, h<time>.m4s init, #EXT-BILI-AUX and the EXTINF title of
hex size | crc32) copies public captures of Bilibili's fMP4 playlists, not the reference; clients
should treat the titles and the AUX tag as opaque. The .ts names are a guess.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import math
import os
import shutil
import subprocess
import tempfile
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tests import media as test_media
from tests.fakebili import flvloop
from tests.fakebili.wire import Response

if TYPE_CHECKING:
    from tests.fakebili.live import Room
    from tests.fakebili.server import State

KINDS = ("ts", "fmp4")
MEDIA_SECONDS = 300
SEGMENT_SECONDS = 1
WINDOW = 6
KEEP = 20
UNPACED_AHEAD_S = 6.0
# Float sums of segment durations: a segment ending at 6.000000001 is made by second 6.
EPSILON = 1e-6
_CACHE = Path(tempfile.gettempdir()) / "biliup-test-media" / "hls"
_HEADERS = [("Access-Control-Allow-Origin", "*"), ("Cache-Control", "no-cache")]


@dataclass(frozen=True)
class Segment:
    path: Path
    start: float  # seconds into the media
    duration: float
    size: int
    crc: int

    @property
    def end(self) -> float:
        return self.start + self.duration

    @property
    def title(self) -> str:
        """The EXTINF title, Bilibili style: "<size hex>|<crc32 hex>"."""
        return f"{self.size:x}|{self.crc:08x}"


@dataclass(frozen=True)
class Media:
    """One clip as HLS of one kind: its init segment (fMP4) and its segments."""

    kind: str
    init: Path | None
    segments: tuple[Segment, ...]

    @functools.cached_property
    def ends(self) -> list[float]:
        return [s.end for s in self.segments]

    @property
    def length(self) -> float:
        return self.segments[-1].end

    @property
    def target_duration(self) -> int:
        # RFC 8216 §4.3.3.1: each EXTINF, rounded, is at most this.
        return max(1, max(round(s.duration) for s in self.segments))

    def newest(self, edge_s: float) -> int:
        """The index of the newest broadcast segment wholly made by media second `edge_s`, or -1."""
        lap, rest = divmod(edge_s + EPSILON, self.length)
        return int(lap) * len(self.segments) + bisect.bisect_right(self.ends, rest) - 1

    def segment(self, index: int) -> tuple[Segment, float]:
        """Broadcast segment `index`: its media segment, and where it starts in the broadcast."""
        lap, at = divmod(index, len(self.segments))
        segment = self.segments[at]
        return segment, lap * self.length + segment.start


_media_lock = threading.Lock()


def load(clip: Path, kind: str, codec: str = "avc") -> Media:
    """The clip as HLS of `kind` ("ts" or "fmp4"): made by ffmpeg once (kept under tempfile,
    shared by processes), read once per process. Safe from several threads. codec "hevc": the
    video made HEVC by libx265 first (an HEVC-only room, live.py's set_origin)."""
    with _media_lock:
        return _load(clip, clip.stat().st_mtime_ns, kind, codec)


def room_clip(room: Room) -> Path:
    return Path(room.clip) if room.clip else flvloop.make_clip()


def prepare(room: Room, kinds: Iterable[str]) -> None:
    """Make the room's media now, rather than in a request (which holds the fake's lock)."""
    for kind in kinds:
        load(room_clip(room), kind, room.codec)


@functools.cache
def _load(clip: Path, mtime_ns: int, kind: str, codec: str) -> Media:
    key = hashlib.md5(
        f"{clip.resolve()}:{mtime_ns}:{MEDIA_SECONDS}:{SEGMENT_SECONDS}".encode()
    ).hexdigest()[:12]
    folder = _CACHE / f"{clip.stem}-{key}-{kind}{'' if codec == 'avc' else '-' + codec}"
    if not (folder / "index.m3u8").exists():
        _make(clip, kind, folder, codec)
    return _read(folder, kind)


def _make(clip: Path, kind: str, folder: Path, codec: str = "avc") -> None:
    """ffmpeg writes the segments into a fresh folder, renamed into place when done: another
    process making the same folder at once wins or loses whole."""
    test_media.require_ffmpeg()
    _CACHE.mkdir(parents=True, exist_ok=True)
    part = Path(tempfile.mkdtemp(prefix=f"{folder.name}.", dir=_CACHE))
    loops = math.ceil(MEDIA_SECONDS * 1000 / flvloop.load(clip).loop_ms) - 1
    ext = "ts" if kind == "ts" else "m4s"
    fmp4 = ["-hls_fmp4_init_filename", "init.mp4"] if kind == "fmp4" else []
    source = clip
    try:
        if codec == "hevc":
            # One pass of the clip encoded (keyframes each second, no B-frames), then looped
            # as the AVC clip is: much faster than encoding the whole looped media.
            source = part / "hevc-source.mp4"
            subprocess.run(
                [
                    "ffmpeg", "-v", "error", "-y", "-i", str(clip),
                    "-c:v", "libx265", "-preset", "ultrafast",
                    "-x265-params", "log-level=error:bframes=0:scenecut=0",
                    "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})",
                    "-forced-idr", "1", "-tag:v", "hvc1", "-c:a", "copy", str(source),
                ],
                check=True,
                timeout=120,
            )  # fmt: skip
        subprocess.run(
            [
                "ffmpeg", "-v", "error", "-y", "-stream_loop", str(loops), "-i", str(source),
                "-c", "copy", "-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_list_size", "0",
                "-hls_segment_type", "mpegts" if kind == "ts" else "fmp4", *fmp4,
                "-hls_segment_filename", str(part / f"%d.{ext}"), str(part / "index.m3u8"),
            ],
            check=True,
            timeout=120,
        )  # fmt: skip
        if source != clip:
            source.unlink()
        os.rename(part, folder)
    except OSError:
        if not (folder / "index.m3u8").exists():
            raise
    finally:
        shutil.rmtree(part, ignore_errors=True)


def _read(folder: Path, kind: str) -> Media:
    """The segments ffmpeg listed in its (VOD) playlist."""
    segments: list[Segment] = []
    init = None
    duration = None
    start = 0.0
    for line in (folder / "index.m3u8").read_text().splitlines():
        if line.startswith("#EXT-X-MAP:URI="):
            init = folder / line.split('"')[1]
        elif line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",")[0])
        elif line and not line.startswith("#") and duration is not None:
            data = (folder / line).read_bytes()
            segments.append(
                Segment(folder / line, start, duration, len(data), zlib.crc32(data))
            )
            start += duration
            duration = None
    if not segments or (kind == "fmp4") != (init is not None):
        raise ValueError(f"ffmpeg made no usable {kind} HLS in {folder}")
    return Media(kind=kind, init=init, segments=tuple(segments))


# Pacing


def edge_seconds(room: Room, now: float) -> float:
    """How far into the broadcast (media seconds) the packager has got by `now`."""
    if room.speed == 0:
        return max(room.hls_edge_s, UNPACED_AHEAD_S)
    return room.hls_edge_s + max(0.0, now - room.hls_edge_at) * room.speed


def start_broadcast(room: Room) -> None:
    """The packager starts from nothing at live_start. Lock held."""
    room.hls_edge_s, room.hls_edge_at = 0.0, float(room.live_start)


def set_speed(room: Room, speed: float, now: float) -> None:
    """Change the room's speed from `now` on, the media made so far kept. Lock held."""
    room.hls_edge_s, room.hls_edge_at = edge_seconds(room, now), now
    room.speed = speed


# Serving


def formats(value: str | Iterable[str]) -> str:
    """A room's hls_formats, checked: "ts", "fmp4" or "ts,fmp4" (a list is fine too)."""
    names = value.split(",") if isinstance(value, str) else list(value)
    names = [str(n).strip() for n in names if str(n).strip()]
    if not names or set(names) - set(KINDS):
        raise ValueError(
            f"hls formats must be some of {', '.join(KINDS)}, not {value!r}"
        )
    return ",".join(k for k in KINDS if k in names)


def serve(state: State, room: Room, name: str, ext: str) -> Response | None:
    """A playlist or segment of an on-air room (`ext`: what follows the stream name in the
    path, as cdn.STREAM_PATH matched it). None: 404. Lock held."""
    kind = "ts" if ext.endswith(".ts") or ext == ".m3u8" else "fmp4"
    if kind not in room.hls_formats.split(","):
        return None
    playlist = ext.endswith(".m3u8")
    is_init = ext.startswith("/h")
    fault = _take_fault(room, playlist, is_init)
    if fault is not None:
        return fault
    media = load(room_clip(room), kind, room.codec)
    newest = media.newest(edge_seconds(room, state.now()))
    if playlist:
        return Response(
            body=render(room, name, media, newest).encode(),
            content_type="application/vnd.apple.mpegurl",
            headers=list(_HEADERS),
        )
    # ext: "-<seq>.ts", "/<seq>.m4s" or "/h<live_start>.m4s".
    number = int(ext.lstrip("/h-").partition(".")[0])
    if is_init:
        if number != room.live_start or media.init is None:
            return None
        body = media.init.read_bytes()
        state.cdn.sent[room.room_id] += len(body)
        return Response(body=body, content_type="video/mp4", headers=list(_HEADERS))
    index = number - room.live_start
    if not (max(0, newest - KEEP + 1) <= index <= newest):
        return None
    segment, start = media.segment(index)
    if room.speed == 0:
        # Unpaced: reading a segment lets the packager run UNPACED_AHEAD_S past it.
        room.hls_edge_s = max(
            room.hls_edge_s, start + segment.duration + UNPACED_AHEAD_S
        )
    body = segment.path.read_bytes()
    state.cdn.sent[room.room_id] += len(body)
    return Response(
        body=body,
        content_type="video/mp2t" if kind == "ts" else "video/mp4",
        headers=list(_HEADERS),
    )


def _take_fault(room: Room, playlist: bool, is_init: bool) -> Response | None:
    """The answer of a pending hls_fail_* control, counted down. Init segments are spared."""
    if playlist and room.hls_fail_playlists > 0:
        room.hls_fail_playlists -= 1
    elif not (playlist or is_init) and room.hls_fail_segments > 0:
        room.hls_fail_segments -= 1
    else:
        return None
    status = room.hls_fail_status
    return Response(
        status=status, body=f"{status} fakebili".encode(), content_type="text/html"
    )


def render(room: Room, name: str, media: Media, newest: int) -> str:
    """The live playlist whose newest segment is `newest` (-1: none yet): no #EXT-X-ENDLIST."""
    first = max(0, newest - WINDOW + 1)
    n = len(media.segments)
    head = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{7 if media.kind == 'fmp4' else 3}",
        *(["#EXT-X-START:TIME-OFFSET=0"] if media.kind == "fmp4" else []),
        f"#EXT-X-MEDIA-SEQUENCE:{room.live_start + first}",
        # Each pass of the media before the first listed segment began after a discontinuity.
        *([f"#EXT-X-DISCONTINUITY-SEQUENCE:{first // n}"] if first >= n else []),
        f"#EXT-X-TARGETDURATION:{media.target_duration}",
        *([f'#EXT-X-MAP:URI="h{room.live_start}.m4s"'] if media.kind == "fmp4" else []),
    ]
    lines = []
    for index in range(first, newest + 1):
        segment, start = media.segment(index)
        seq = room.live_start + index
        if index > 0 and index % n == 0:
            lines.append("#EXT-X-DISCONTINUITY")
        if media.kind == "fmp4":
            ms = round(start * 1000)
            lines.append(f"#EXT-BILI-AUX:{ms:x}|K|{segment.title}")
            lines += [f"#EXTINF:{segment.duration:.2f},{segment.title}", f"{seq}.m4s"]
        else:
            lines += [f"#EXTINF:{segment.duration:.2f},", f"{name}-{seq}.ts"]
    return "\n".join(head + lines) + "\n"
