"""Recording HLS live streams, for rooms that offer no HTTP-FLV: MPEG-TS or fMP4 segments.

`biliup_site.bilibili.cdn.HlsReader` follows a live media playlist and yields each new media
segment once, in order; HlsSegmenter writes them into files: `.ts` files (TS segments end to
end) or `.mp4` files (the init section, then fragments). Both forms are valid files at every
segment boundary, so files split there, and a new file starts at a discontinuity or when the
init section changes (new codec headers). Media bytes are copied as they come, except that an
fMP4 file's fragment times are rebased to start at 0 (fmp4.py); TS files keep the stream's
timestamps, which players expect.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from biliup_site.bilibili.cdn import Media
from recorder import files, fmp4
from recorder.files import Segment

logger = logging.getLogger(__name__)

TS_PACKET = 188
SUFFIX = {"ts": ".ts", "fmp4": ".mp4"}


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
    written_at: float = 0.0  # monotonic time of the last media segment's write


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

    def position(self) -> tuple[float, float] | None:
        """(open_duration, time.monotonic() of that write), for the chat recorded beside the
        file being written (another thread); None when none is open."""
        out = self._out
        if out is None or not out.duration:
            return None
        return out.duration, out.written_at

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
        parts: list[bytes | bytearray | memoryview] = [data]
        if out.timescales:
            if out.start is None:
                out.start = fmp4.start_seconds(data, out.timescales)
            if out.start:
                parts = fmp4.rebase(data, out.timescales, out.start)
        try:
            for part in parts:
                out.file.write(part)
        except OSError:
            # A full disk: keep the file ending on a whole segment.
            out.file.truncate(out.size)
            raise
        out.size += len(data)  # rebasing keeps every size
        out.duration += media.duration
        out.written_at = time.monotonic()
        # Each segment reaches the disk as it comes, before the index says where it ends (TS).
        out.file.flush()
        if out.index is not None:
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
