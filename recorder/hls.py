"""Recording HLS live streams, for rooms that offer no HTTP-FLV: MPEG-TS or fMP4 segments.

HlsReader follows a live media playlist and yields each new media segment once, in order;
HlsSegmenter writes them into files: `.ts` files (TS segments end to end) or `.mp4` files (the
init section, then fragments). Both forms are valid files at every segment boundary, so files
split there, and a new file starts at a discontinuity or when the init section changes (new codec
headers). Media bytes are copied as they come, except that an fMP4 file's fragment times are
rebased to start at 0 (fmp4.py); TS files keep the stream's timestamps, which players expect.

Playlists are parsed by streamlink's M3U8 parser (a dependency already, for other platforms).
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import requests
from streamlink.stream.hls.m3u8 import parse_m3u8

from recorder import files, fmp4
from recorder.files import Segment

logger = logging.getLogger(__name__)

TS_PACKET = 188
SUFFIX = {"ts": ".ts", "fmp4": ".mp4"}
SEGMENT_TRIES = 3
# Sequence numbers this far below the last one written mean a new stream, not an old window.
RESTART_BELOW = 1000


class HlsError(ValueError):
    """The playlist is not a usable HLS media playlist."""


@dataclass(frozen=True)
class Media:
    """One media segment as fetched: its bytes, and what a file needs to know about it."""

    sequence: int
    data: bytes
    duration: float  # seconds, from #EXTINF
    kind: str  # "ts" or "fmp4"
    init: bytes | None  # fMP4's init section (#EXT-X-MAP); None for TS
    discontinuity: bool


def _kind(uri: str, has_map: bool) -> str:
    if has_map or uri.split("?")[0].endswith((".m4s", ".mp4")):
        return "fmp4"
    return "ts"


class HlsReader:
    """A live playlist's new segments, in order, each once.

    Ends (without raising) when the playlist cannot be fetched, ends (#EXT-X-ENDLIST), or brings
    nothing new for `stall_seconds`: the caller reconnects as it would after a dropped FLV stream.
    `last_sequence` carries over to the next reader of the same stream, so a reconnect does not
    write the playlist's window twice.
    """

    def __init__(
        self,
        http: requests.Session,
        url: str,
        last_sequence: int | None = None,
        stall_seconds: float = 10,
        timeout: float = 10,
    ) -> None:
        self.http = http
        self.url = url
        self.last_sequence = last_sequence
        self.stall_seconds = stall_seconds
        self.timeout = timeout
        self.missed = 0  # segments that left the window before we could fetch them
        self._init_uri: str | None = None
        self._init: bytes | None = None

    def __iter__(self) -> Iterator[Media]:
        last_new = time.monotonic()
        while True:
            playlist = self._playlist()
            if playlist is None:
                return
            fresh = self._fresh(playlist.segments)
            for segment in fresh:
                media = self._media(segment)
                self.last_sequence = segment.num
                if media is not None:
                    yield media
            if fresh:
                last_new = time.monotonic()
            if playlist.is_endlist:
                return
            if time.monotonic() - last_new > self.stall_seconds:
                logger.info("%s: nothing new for %.0f s", self.url, self.stall_seconds)
                return
            time.sleep(min(max((playlist.targetduration or 2) / 2, 0.2), 5))

    def _playlist(self):  # noqa: ANN202 (streamlink's M3U8 is generic)
        try:
            response = self.http.get(self.url, timeout=(5, self.timeout))
        except requests.RequestException as exc:
            logger.info("Playlist %s: %s", self.url, exc.__class__.__name__)
            return None
        if response.status_code != 200:
            logger.info("Playlist %s answered HTTP %s", self.url, response.status_code)
            return None
        text = response.text
        if not text.startswith("#EXTM3U"):
            raise HlsError(f"not an M3U8 playlist: {text[:40]!r}")
        playlist = parse_m3u8(text, base_uri=response.url)
        if playlist.is_master:
            # A multivariant playlist: follow its best variant from now on.
            variants = sorted(
                playlist.playlists,
                key=lambda p: getattr(p.stream_info, "bandwidth", 0) or 0,
            )
            if not variants:
                raise HlsError("a multivariant playlist with no variant")
            self.url = variants[-1].uri
            return self._playlist()
        return playlist

    def _fresh(self, segments: list) -> list:  # noqa: ANN001
        last = self.last_sequence
        if last is not None and segments and segments[-1].num < last - RESTART_BELOW:
            last = None  # the stream's numbering started again
        fresh = [s for s in segments if last is None or s.num > last]
        if last is not None and fresh and fresh[0].num > last + 1:
            self.missed += fresh[0].num - last - 1
            logger.warning(
                "%s: %d segments left the playlist before they were fetched",
                self.url,
                fresh[0].num - last - 1,
            )
        return fresh

    def _get(self, uri: str) -> bytes | None:
        for attempt in range(SEGMENT_TRIES):
            try:
                response = self.http.get(uri, timeout=(5, self.timeout))
                if response.status_code == 200:
                    return response.content
                logger.info("Segment %s answered HTTP %s", uri, response.status_code)
                if response.status_code == 404:
                    return None  # gone from the CDN: retrying won't bring it back
            except requests.RequestException as exc:
                logger.info("Segment %s: %s", uri, exc.__class__.__name__)
            time.sleep(0.5 * (attempt + 1))
        return None

    def _media(self, segment) -> Media | None:  # noqa: ANN001
        if segment.map is not None and segment.map.uri != self._init_uri:
            init = self._get(segment.map.uri)
            if init is None:
                return None
            self._init_uri, self._init = segment.map.uri, init
        data = self._get(segment.uri)
        if data is None:
            self.missed += 1
            return None
        kind = _kind(segment.uri, segment.map is not None)
        return Media(
            sequence=segment.num,
            data=data,
            duration=float(segment.duration or 0),
            kind=kind,
            init=self._init if kind == "fmp4" else None,
            discontinuity=bool(segment.discontinuity),
        )


@dataclass
class _Output:
    path: Path
    part: Path
    file: BinaryIO
    kind: str
    init: bytes | None
    first: float  # seconds on the recording's timeline where it starts
    # TS only: where each whole segment ends, for finalize_part after a kill mid-write (an
    # fMP4 file tells by its boxes).
    index: BinaryIO | None = None
    size: int = 0
    duration: float = 0.0
    # fMP4 only: the tracks' timescales, and the decode time (s) its first fragment had.
    timescales: dict[int, int] = field(default_factory=dict)
    start: float | None = None


class HlsSegmenter:
    """Write HLS media segments as files, split at segment boundaries.

    A new file starts once split_time seconds or split_size bytes are reached, at a
    discontinuity, and when the init section or the kind (TS, fMP4) changes. `next_path(suffix)`
    is asked for a name at each file start and may raise to refuse one (the disk guard).
    """

    def __init__(
        self,
        next_path: Callable[[str], Path],
        split_time: float | None = None,
        split_size: int | None = None,
        on_closed: Callable[[Segment], None] | None = None,
    ) -> None:
        self._next_path = next_path
        self._split_time = split_time or 0
        self._split_size = split_size or 0
        self._on_closed = on_closed
        self._out: _Output | None = None
        self._elapsed = 0.0

    @property
    def open_duration(self) -> float:
        """Seconds in the file being written."""
        return self._out.duration if self._out else 0.0

    def __enter__(self) -> HlsSegmenter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def feed(self, media: Media) -> None:
        reason = self._split_reason(media)
        if reason:
            self._finish(reason)
        if self._out is None:
            self._open(media)
        out = self._out
        assert out is not None
        data = media.data
        if out.timescales:
            if out.start is None:
                out.start = fmp4.start_seconds(data, out.timescales)
            if out.start:
                data = fmp4.rebase(data, out.timescales, out.start)
        try:
            out.file.write(data)
        except OSError:
            # A full disk: keep the file ending on a whole segment.
            out.file.truncate(out.size)
            raise
        out.size += len(data)
        out.duration += media.duration
        if out.index is not None:
            out.file.flush()
            out.index.write(_OFFSET.pack(out.size))
            out.index.flush()
        self._elapsed += media.duration

    def close(self) -> None:
        if self._out is not None:
            self._finish("closed")

    def _split_reason(self, media: Media) -> str | None:
        out = self._out
        if out is None:
            return None
        if media.kind != out.kind or media.init != out.init:
            return "codec_change"
        if media.discontinuity:
            return "discontinuity"
        if self._split_time and out.duration >= self._split_time:
            return "split_time"
        if self._split_size and out.size >= self._split_size:
            return "split_size"
        return None

    def _open(self, media: Media) -> None:
        path, part, file = files.create_part(self._next_path(SUFFIX[media.kind]))
        out = _Output(path, part, file, media.kind, media.init, self._elapsed)
        self._out = out
        if media.init:
            file.write(media.init)
            out.size = len(media.init)
            out.timescales = fmp4.timescales(media.init)
        if media.kind == "ts":
            out.index = open(_index_of(part), "wb")  # noqa: SIM115 (closed by _finish)

    def _finish(self, reason: str) -> None:
        out, self._out = self._out, None
        assert out is not None
        out.file.close()
        if out.index is not None:
            out.index.close()
            _index_of(out.part).unlink()
        if out.duration == 0:
            out.part.unlink()  # only an init section: nothing to play
            return
        segment = Segment(
            path=files.claim(out.part, out.path),
            size=out.size,
            duration=round(out.duration, 3),
            first_timestamp=round(out.first * 1000),
            reason=reason,
        )
        logger.info(
            "closed %s (%s): %.1f s, %d bytes",
            segment.path,
            reason,
            segment.duration,
            segment.size,
        )
        if self._on_closed is not None:
            self._on_closed(segment)


# --- Leftovers of a killed recorder -------------------------------------------------------

_BOX = struct.Struct(">I4s")
_OFFSET = struct.Struct(">Q")


def _index_of(part: Path) -> Path:
    return part.with_name(part.name + ".idx")


def _ts_end(path: Path) -> int:
    """Where the last whole segment ends, by the index; without one, the last whole packet."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        if f.read(1) != b"\x47":
            return 0
    index = _index_of(path)
    if index.exists():
        data = index.read_bytes()
        ends = [_OFFSET.unpack_from(data, i)[0] for i in range(0, len(data) - 7, 8)]
        index.unlink()
        return max((end for end in ends if end <= size), default=0)
    return size - size % TS_PACKET


def _mp4_end(path: Path) -> int:
    """Where the last complete media fragment (moof + mdat) ends; 0 if there is none."""
    size = path.stat().st_size
    end, pos, fragment_open = 0, 0, False
    with open(path, "rb") as f:
        while pos + 8 <= size:
            f.seek(pos)
            length, kind = _BOX.unpack(f.read(8))
            if length == 1:
                length = struct.unpack(">Q", f.read(8))[0]
            if length < 8 or pos + length > size:
                break  # cut off mid-box
            pos += length
            if kind == b"moof":
                fragment_open = True
            elif kind == b"mdat" and fragment_open:
                end, fragment_open = pos, False
    return end


def finalize_part(path: Path) -> Path | None:
    """Make a killed recorder's `<name>.ts.part` or `<name>.mp4.part` a playable `<name>`.

    Cuts a TS file after its last whole packet and an fMP4 file after its last whole fragment.
    Returns the final path, or None (leaving the file alone) when nothing decodable is in it.
    """
    if path.suffix != files.PART:
        raise ValueError(f"{path}: not a {files.PART} file")
    target = path.with_suffix("")
    if target.suffix == ".ts":
        end = _ts_end(path)
    elif target.suffix == ".mp4":
        end = _mp4_end(path)
    else:
        raise ValueError(f"{path}: not a TS or MP4 part")
    if end == 0:
        return None
    with open(path, "r+b") as f:
        f.truncate(end)
    return files.claim(path, target)
