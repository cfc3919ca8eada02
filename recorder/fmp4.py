"""Fragmented MP4 (HLS fMP4) boxes: moving a file's fragments so that it starts at time 0.

A live fMP4 stream's fragments carry decode times from the start of the broadcast; copied as
they are into a file that begins an hour in, players show an hour of nothing before the first
frame (an MP4's timeline starts at 0). Rebasing rewrites the numbers in copies of the small moof
and sidx boxes, leaving the media data as it came: each track's tfdt (baseMediaDecodeTime) and
each sidx's earliest_presentation_time, by the same number of seconds for every track, so audio
and video stay in sync. Sizes never change.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

_HEADER = struct.Struct(">I4s")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")


def _boxes(
    data: bytes | bytearray, start: int, end: int
) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, where it starts, where its payload starts, where it ends) of the boxes in
    data[start:end]."""
    pos = start
    while pos + 8 <= end:
        size, kind = _HEADER.unpack_from(data, pos)
        header = 8
        if size == 1 and pos + 16 <= end:
            size, header = _U64.unpack_from(data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos, pos + header, pos + size
        pos += size


def _children(
    data: bytes | bytearray, start: int, end: int, kind: bytes
) -> Iterator[tuple[int, int]]:
    for k, _, a, b in _boxes(data, start, end):
        if k == kind:
            yield a, b


def _full_box_field(
    data: bytes | bytearray, payload: int, v0_offset: int, v1_offset: int
) -> int:
    """Where a field of a full box (version, flags, ...) is: its offset depends on the version."""
    return payload + (v1_offset if data[payload] == 1 else v0_offset)


def timescales(init: bytes) -> dict[int, int]:
    """track_ID → its media timescale (ticks a second), from the init section's moov."""
    scales: dict[int, int] = {}
    for moov in _children(init, 0, len(init), b"moov"):
        for trak in _children(init, *moov, b"trak"):
            track = scale = 0
            for a, _ in _children(init, *trak, b"tkhd"):
                track = _U32.unpack_from(init, _full_box_field(init, a, 12, 20))[0]
            for mdia in _children(init, *trak, b"mdia"):
                for a, _ in _children(init, *mdia, b"mdhd"):
                    scale = _U32.unpack_from(init, _full_box_field(init, a, 12, 20))[0]
            if track and scale:
                scales[track] = scale
    return scales


def _tfdts(data: bytes | bytearray) -> Iterator[tuple[int, int]]:
    """(track_ID, where its tfdt's payload starts) for every track fragment."""
    for moof in _children(data, 0, len(data), b"moof"):
        for traf in _children(data, *moof, b"traf"):
            track = 0
            for a, _ in _children(data, *traf, b"tfhd"):
                track = _U32.unpack_from(data, a + 4)[0]
            for a, _ in _children(data, *traf, b"tfdt"):
                yield track, a


def _read_time(data: bytes | bytearray, payload: int, offset: int) -> int:
    fmt = _U64 if data[payload] == 1 else _U32
    return fmt.unpack_from(data, payload + offset)[0]


def _shift_time(buf: bytearray, payload: int, offset: int, ticks: int) -> None:
    fmt = _U64 if buf[payload] == 1 else _U32
    value = fmt.unpack_from(buf, payload + offset)[0]
    fmt.pack_into(buf, payload + offset, max(value - ticks, 0))


def start_seconds(data: bytes, scales: dict[int, int]) -> float | None:
    """When the fragment(s) in data begin: the earliest track's decode time, in seconds."""
    times = [
        _read_time(data, a, 4) / scales[track]
        for track, a in _tfdts(data)
        if scales.get(track)
    ]
    return min(times) if times else None


def rebase(
    data: bytes, scales: dict[int, int], seconds: float
) -> list[bytes | bytearray | memoryview]:
    """data with every fragment and segment index moved `seconds` earlier (never below 0), as
    pieces to write one after the other: the moof and sidx boxes copied and rewritten, views
    of the rest. The media data, nearly all of a segment, is never copied."""
    view = memoryview(data)
    parts: list[bytes | bytearray | memoryview] = []
    done = 0  # data[:done] is in parts
    for kind, start, payload, end in _boxes(data, 0, len(data)):
        if kind not in (b"moof", b"sidx"):
            continue
        if start > done:
            parts.append(view[done:start])
        box = bytearray(view[start:end])
        if kind == b"sidx":
            # version, flags, reference_ID, timescale, then earliest_presentation_time.
            at = payload - start
            timescale = _U32.unpack_from(box, at + 8)[0]
            _shift_time(box, at, 12, round(seconds * timescale))
        else:
            for track, a in _tfdts(box):
                if scales.get(track):
                    _shift_time(box, a, 4, round(seconds * scales[track]))
        parts.append(box)
        done = end
    if done < len(data):
        parts.append(view[done:])
    return parts
