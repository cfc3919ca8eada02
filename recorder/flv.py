"""Native HTTP-FLV recording: read FLV tags from a stream, write standalone FLV segments.

Everything streams. The reader holds one tag at a time and the segmenter writes it straight to
disk, so memory stays flat however long a stream runs (issue 4, item 3).

Reference: Adobe "Video File Format Specification" v10.1, annex E (header, tags, AMF0 script
data) and Enhanced RTMP v1 (the ExVideoTagHeader). Timestamp repair follows BililiveRecorder's
UpdateTimestampJumpRule (peers-notes §4), per stream instead of per GOP so nothing is buffered.
"""

from __future__ import annotations

import logging
import math
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol

from recorder import amf, files
from recorder.files import Segment

logger = logging.getLogger(__name__)

AUDIO = 8
VIDEO = 9
SCRIPT = 18

# The size field has 24 bits (16 MiB). No real audio or video frame comes near 8 MiB (that is
# a 64 Mbit frame), so a bigger size means a desynchronised or hostile stream.
MAX_TAG_SIZE = 8 * 1024 * 1024

# BililiveRecorder's rule: a step more than 500 ms beyond the expected next timestamp is a jump.
JUMP_THRESHOLD_MS = 500
VIDEO_FRAME_MS = (15, 50, 33)  # normal range and fallback (BREC's VIDEO_DURATION_*)
AUDIO_FRAME_MS = (20, 24, 22)  # normal range and fallback (BREC's AUDIO_DURATION_*)

# Legacy codec ids that have sequence headers (12: the Chinese CDNs' HEVC extension).
_AVC, _HEVC = 7, 12
_AAC = 10
_AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)  # fmt: skip

# Source onMetaData fields worth carrying into each segment. duration/filesize are ours.
_SOURCE_KEYS = ("width", "height", "framerate", "videodatarate", "audiodatarate", "audiosamplerate", "audiosamplesize")  # fmt: skip
_PICTURE_KEYS = ("width", "height", "framerate")

_U32 = struct.Struct(">I")
_DOUBLE = struct.Struct(">d")
# A tag header: type+size, timestamp+extension, then the stream id (3 bytes, always 0).
_HEAD = struct.Struct(">II")
_TAG_HEAD = struct.Struct(">II3x")
_KINDS = frozenset((AUDIO, VIDEO, SCRIPT))

# What FlvReader asks of its stream at a time: more than a keyframe at 6 Mbit/s, so that a
# ChunkStream hands over whole chunks rather than copies of their parts.
READ_SIZE = 256 * 1024
# Each segment file's write buffer: about ten writes a second at 6 Mbit/s instead of one per
# frame. A killed recorder loses at most this (finalize_part trims to the last whole tag).
WRITE_BUFFER = 64 * 1024
# ...and at most this much time: a low-bitrate stream (an audio room) fills 64 KiB in seconds,
# and the file on disk should grow while the room is live.
FLUSH_SECONDS = 0.5
# The frames of the last GOP remembered to recognise it when a CDN resends it after a reconnect;
# a stream without keyframes (audio only) starts over at this many.
MAX_GOP_FRAMES = 2048


class FlvError(ValueError):
    """The bytes are not FLV, or are damaged beyond what a reader may skip."""


class NotFlv(FlvError):
    """The stream's first bytes are no FLV header: an error page, JSON, anything but a stream.
    The bytes are not quoted (they are whatever the URL's host answered)."""


class Readable(Protocol):
    def read(self, n: int, /) -> bytes | None: ...


@dataclass(frozen=True, slots=True)
class Tag:
    kind: int  # AUDIO, VIDEO or SCRIPT
    timestamp: int  # ms: 24 bits plus the 8-bit extension, signed (SI32 in the spec)
    data: bytes

    @property
    def is_audio(self) -> bool:
        return self.kind == AUDIO

    @property
    def is_video(self) -> bool:
        return self.kind == VIDEO

    @property
    def is_script(self) -> bool:
        return self.kind == SCRIPT

    @property
    def is_keyframe(self) -> bool:
        # Frame type is bits 4-6; bit 7 flags an Enhanced RTMP header on new encoders.
        return (
            self.kind == VIDEO and bool(self.data) and (self.data[0] >> 4) & 0x07 == 1
        )

    @property
    def is_sequence_header(self) -> bool:
        """AVC/HEVC decoder configuration or AAC AudioSpecificConfig (packet type 0)."""
        return self.packet_type == 0

    @property
    def is_end_of_sequence(self) -> bool:
        return self.kind == VIDEO and self.packet_type == 2

    @property
    def packet_type(self) -> int | None:
        """AVC/HEVC/AAC packet type, or None for codecs that have no sequence header."""
        return _packet_type(self.kind, self.data)

    def encode(self, timestamp: int | None = None) -> bytes:
        """The tag as FLV bytes (header, data, PreviousTagSize), optionally re-timestamped."""
        ts = self.timestamp if timestamp is None else timestamp
        return (
            _tag_header(self.kind, len(self.data), ts)
            + self.data
            + _U32.pack(11 + len(self.data))
        )


def file_header(audio: bool = True, video: bool = True) -> bytes:
    """The 9-byte FLV header followed by PreviousTagSize0."""
    flags = (0x04 if audio else 0) | (0x01 if video else 0)
    return b"FLV\x01" + bytes([flags]) + _U32.pack(9) + _U32.pack(0)


def _tag_header(kind: int, size: int, timestamp: int) -> bytes:
    ts = timestamp & 0xFFFFFFFF
    # Type+size, timestamp (low 24 bits, then the high 8), stream id 0.
    return _TAG_HEAD.pack((kind << 24) | size, ((ts & 0xFFFFFF) << 8) | (ts >> 24))


def _packet_type(kind: int, data: bytes) -> int | None:
    if kind == VIDEO and data:
        if data[0] & 0x80:  # Enhanced RTMP: the packet type is the low nibble
            return data[0] & 0x0F
        if data[0] & 0x0F in (_AVC, _HEVC) and len(data) > 1:
            return data[1]
    elif kind == AUDIO and len(data) > 1 and data[0] >> 4 == _AAC:
        return data[1]
    return None


class FlvReader:
    """Iterate over the tags of an FLV byte stream, one at a time.

    A stream that ends, even mid-tag, ends the iteration quietly (the partial tag is dropped):
    for a live stream that is a disconnect, not an error. Bytes that cannot be FLV raise
    FlvError so the caller reconnects instead of recording garbage.
    """

    def __init__(self, stream: Readable, max_tag_size: int = MAX_TAG_SIZE) -> None:
        self._stream = stream
        self.max_tag_size = max_tag_size
        self.position = 0  # bytes consumed; after a tag is yielded, where its data ends
        self.has_audio = False  # the header's flags, known once iteration has started
        self.has_video = False

    def __iter__(self) -> Iterator[Tag]:
        # Tags are cut out of blocks of up to READ_SIZE (a chunk, for a ChunkStream): one read
        # per block, not two per tag. buf[pos] is the stream's byte base + pos.
        buf, pos = self._more(b"", 0, 9)
        if buf[:3] != b"FLV"[: len(buf)]:
            raise NotFlv("not an FLV stream")
        if len(buf) < 9:
            return
        offset: int = _U32.unpack_from(buf, 5)[0]
        if buf[3] != 1 or not 9 <= offset <= 1024:
            raise FlvError(
                f"unsupported FLV header (version {buf[3]}, data offset {offset})"
            )
        self.has_audio, self.has_video = bool(buf[4] & 0x04), bool(buf[4] & 0x01)
        # Every tag is followed by its PreviousTagSize, skipped unchecked (some CDNs get it
        # wrong, and the type and size checks catch desync). Skipping it along with the tag
        # leaves pos at the next tag, which on a stream sent a tag per chunk is the start of
        # the next chunk: then no bytes are copied but the tag's data.
        base, pos, max_size = 0, offset + 4, self.max_tag_size
        while True:
            if len(buf) - pos < 11:
                start = pos
                buf, pos = self._more(buf, pos, 11)
                base += start - pos
                if len(buf) - pos < 11:
                    return
            kind_size, ts = _HEAD.unpack_from(buf, pos)
            kind, size = (kind_size >> 24) & 0x1F, kind_size & 0xFFFFFF
            if kind not in _KINDS:
                raise FlvError(
                    f"unknown FLV tag type {kind} at byte {base + pos}: the stream is corrupt or out of sync"
                )
            if size > max_size:
                raise FlvError(
                    f"FLV tag of {size} bytes at byte {base + pos} exceeds {max_size}: the stream is corrupt"
                )
            end = pos + 11 + size
            if end > len(buf):
                start = pos
                buf, pos = self._more(buf, pos, 11 + size)
                base += start - pos
                end = pos + 11 + size
                if end > len(buf):
                    return
            timestamp = (ts >> 8) | ((ts & 0xFF) << 24)
            if timestamp >= 1 << 31:
                timestamp -= 1 << 32
            self.position = base + end
            yield Tag(kind, timestamp, buf[pos + 11 : end])
            pos = end + 4

    def _more(self, buf: bytes, pos: int, need: int) -> tuple[bytes, int]:
        """At least need bytes of the stream from buf[pos] on (fewer only where it ends), as a
        new buffer and the index they start at in it.

        pos may lie past the end of buf: the bytes up to it are dropped as they arrive.
        """
        rest = buf[pos:]
        parts, have, start = [rest] if rest else [], len(rest), 0
        skip = max(pos - len(buf), 0)
        while have < need:
            # Sockets and HTTP bodies may return less than asked; only b"" (or None) is the end.
            data = self._stream.read(max(need - have + skip, READ_SIZE))
            if not data:
                break
            if skip >= len(data):
                skip -= len(data)
                continue
            if not parts:
                start = skip
            parts.append(data)
            have += len(data) - skip
            skip = 0
        # A single bytes part is returned as it is, not copied.
        return b"".join(parts), start


def read_metadata(path: Path) -> dict[str, object]:
    """The onMetaData properties of an FLV file ({} if it has none before its first frame)."""
    with open(path, "rb") as f:
        for tag in FlvReader(f):
            if tag.is_script:
                name, props = amf.parse_script(tag.data)
                if name == "onMetaData":
                    return props
            elif not tag.is_sequence_header:
                break
    return {}


# --- Timestamp repair -------------------------------------------------------------------


@dataclass
class _Track:
    """Timestamp repair for one stream (audio or video), after BililiveRecorder.

    Output = input + offset. A backwards step (a rebound) or a step more than 500 ms past the
    expected next frame (a jump) resets the offset so the frame lands one normal frame after
    the previous output. Smaller gaps are kept: they are real (a dropped frame, a stutter).
    """

    low: int
    high: int
    fallback: int
    # From the source (onMetaData framerate, AAC sample rate), and a running average of the
    # normal steps seen, clamped to low..high.
    declared: float | None = None
    measured: float | None = None
    last_in: int | None = None
    last_out: int = 0
    offset: int = 0
    jumps: int = 0

    def frame_ms(self) -> int:
        value = self.measured or self.declared or self.fallback
        return round(min(max(value, self.low), self.high))

    def repair(self, timestamp: int) -> int:
        if self.last_in is not None:
            step = timestamp - self.last_in
            if step < 0 or step > self.frame_ms() + JUMP_THRESHOLD_MS:
                self.offset = self.last_out + self.frame_ms() - timestamp
                self.jumps += 1
                logger.debug(
                    "timestamp %s: %d ms after %d, repaired to %d",
                    "jump" if step > 0 else "rebound",
                    step,
                    self.last_in,
                    timestamp + self.offset,
                )
            elif step > 0:
                clamped = min(max(step, self.low), self.high)
                self.measured = (
                    clamped
                    if self.measured is None
                    else 0.9 * self.measured + 0.1 * clamped
                )
        # max(): outputs never go back, and the first frames never go below 0.
        out = max(timestamp + self.offset, self.last_out)
        self.last_in, self.last_out = timestamp, out
        return out


def _aac_frame_ms(header: bytes) -> float | None:
    """The duration of one AAC frame (1024 samples) from the AudioSpecificConfig."""
    if len(header) < 4 or header[2] >> 3 == 31:  # escaped object type: rare, skip it
        return None
    index = ((header[2] & 0x07) << 1) | (header[3] >> 7)
    return 1024_000 / _AAC_RATES[index] if index < len(_AAC_RATES) else None


def _new_tracks() -> dict[int, _Track]:
    return {VIDEO: _Track(*VIDEO_FRAME_MS), AUDIO: _Track(*AUDIO_FRAME_MS)}


# --- Segments ---------------------------------------------------------------------------


@dataclass
class _Output:
    """The segment being written."""

    path: Path  # the name it gets when closed (unless that is taken by then)
    part: Path
    file: BinaryIO
    base: int  # the repaired timestamp written as 0
    jumps_before: int
    size: int = 0
    meta_at: dict[str, int] = field(default_factory=dict)  # file offsets of the numbers
    # The last timestamp written, per kind.
    last: dict[int, int] = field(default_factory=dict)
    flushed: float = 0.0  # monotonic time of the last flush to disk
    written_at: float = 0.0  # monotonic time of the last frame written


class Segmenter:
    """Write a tag stream as standalone FLV segments.

    Each segment is `<path>.part` until it is closed, then renamed to a free `<path>`. It holds
    the FLV header, onMetaData (duration and filesize filled in at close), the current
    sequence headers, then tags from a keyframe, with timestamps repaired and rebased to 0.
    A new segment starts at the first keyframe after split_time seconds or split_size bytes,
    and whenever a sequence header changes. `next_path` is asked for a name at each segment
    start; it may raise to refuse one (a disk guard).

    Feeding the tags of a reconnected stream into the same Segmenter continues the segment:
    the timestamp repair joins the two. Call reconnected() before a new connection's tags: a
    CDN starts a new pull with the last GOP it sent the previous one (same frames, same
    timestamps), and those frames are dropped rather than recorded twice.
    """

    def __init__(
        self,
        next_path: Callable[[], Path],
        split_time: float | None = None,
        split_size: int | None = None,
        on_closed: Callable[[Segment], None] | None = None,
    ) -> None:
        self._next_path = next_path
        self._split_ms = round(split_time * 1000) if split_time else 0
        self._split_size = split_size or 0
        self._on_closed = on_closed
        self._tracks = _new_tracks()
        self._origin: int | None = None
        self._headers: dict[int, Tag] = {}
        self._metadata: dict[str, float] = {}
        # Whether onMetaData arrived after the current video header.
        self._metadata_fresh = False
        self._out: _Output | None = None
        self._closed = False
        # The frames since the last keyframe, as (kind, wire timestamp, size, CRC-32); after a
        # reconnect, the ones a resent GOP repeats, until the first frame that is new.
        self._gop: set[tuple[int, int, int, int]] = set()
        self._resent: set[tuple[int, int, int, int]] | None = None
        self.resent_frames = 0  # frames dropped as resent after a reconnect
        self.resent_bytes = 0

    def reconnected(self) -> None:
        """The next tags come from a new connection to the stream: those at its start that
        repeat the last GOP fed so far (kind, timestamp and bytes) are dropped, up to the first
        frame that does not."""
        self._resent = set(self._gop)

    def __enter__(self) -> Segmenter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def jumps(self) -> int:
        """Timestamp jumps and rebounds repaired so far."""
        return sum(track.jumps for track in self._tracks.values())

    @property
    def open_duration(self) -> float:
        """Seconds written to the segment being written (0 when none is open)."""
        out = self._out
        if out is None or not out.last:
            return 0.0
        return max(out.last.values()) / 1000

    def position(self) -> tuple[float, float] | None:
        """(open_duration, time.monotonic() of that frame's write): where the segment being
        written is, for the chat recorded beside it (another thread). None when none is open."""
        out = self._out
        if out is None or not out.last:
            return None
        return max(out.last.values()) / 1000, out.written_at

    def feed(self, tag: Tag) -> None:
        if self._closed:
            raise RuntimeError("Segmenter.feed() after close()")
        # Once per frame, so Tag's properties are spelt out here: each would redo this work.
        kind, data = tag.kind, tag.data
        if kind == SCRIPT:
            self._take_metadata(tag)
            return
        if not data:
            return  # empty tags carry nothing
        packet = _packet_type(kind, data)
        if packet == 0:
            self._take_header(tag)
            return
        if packet == 2 and kind == VIDEO:
            return  # an end-of-sequence marker mid-stream makes players stop
        keyframe = kind == VIDEO and (data[0] >> 4) & 0x07 == 1  # Tag.is_keyframe
        if not self._is_new(kind, tag.timestamp, data, keyframe):
            return
        # Repair every frame, written or not, so the timeline stays continuous across gaps.
        if self._origin is None:
            self._origin = tag.timestamp
        timestamp = self._tracks[kind].repair(tag.timestamp - self._origin)
        if packet is not None and kind not in self._headers:
            return  # AVC/HEVC/AAC frames cannot be decoded before their sequence header
        if keyframe:
            reason = "start" if self._out is None else self._split_reason(timestamp)
            if reason:
                if self._out is not None:
                    self._finish(reason)
                self._open(timestamp)
        if self._out is not None:
            self._write(kind, timestamp - self._out.base, data)

    def _is_new(self, kind: int, timestamp: int, data: bytes, keyframe: bool) -> bool:
        """False for a frame of a GOP resent after a reconnect; remembers the others."""
        key = (kind, timestamp, len(data), zlib.crc32(data))
        if self._resent is not None:
            if key in self._resent:
                self.resent_frames += 1
                self.resent_bytes += len(data)
                return False
            self._resent = None
        if keyframe or len(self._gop) >= MAX_GOP_FRAMES:
            self._gop = set()
        self._gop.add(key)
        return True

    def close(self) -> None:
        """Close and rename the current segment. Safe to call again, and after an error."""
        if self._closed:
            return
        self._closed = True
        if self._out is not None:
            self._finish("closed")

    def _split_reason(self, timestamp: int) -> str | None:
        assert self._out is not None
        if self._split_ms and timestamp - self._out.base >= self._split_ms:
            return "split_time"
        if self._split_size and self._out.size >= self._split_size:
            return "split_size"
        return None

    def _take_metadata(self, tag: Tag) -> None:
        name, props = amf.parse_script(tag.data)
        if name != "onMetaData":
            return  # other script data (cue points, text) is not carried over
        self._metadata = {
            key: float(value)
            for key in _SOURCE_KEYS
            if isinstance(value := props.get(key), int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
        }
        self._metadata_fresh = True
        framerate = self._metadata.get("framerate", 0)
        self._tracks[VIDEO].declared = 1000 / framerate if framerate > 0 else None

    def _take_header(self, tag: Tag) -> None:
        old = self._headers.get(tag.kind)
        if old is not None and old.data == tag.data:
            return  # a repeat (CDNs resend them, e.g. after a reconnect)
        self._headers[tag.kind] = tag
        if tag.is_audio:
            self._tracks[AUDIO].declared = _aac_frame_ms(tag.data)
        else:
            if old is not None and not self._metadata_fresh:
                # The picture changed but no new onMetaData said how: drop the stale numbers.
                for key in _PICTURE_KEYS:
                    self._metadata.pop(key, None)
            self._metadata_fresh = False
        if self._out is None:
            return
        if old is None:
            # The first header of this kind: decoders accept it mid-file, before its frames.
            self._write(tag.kind, max(self._out.last.values(), default=0), tag.data)
        else:
            # New codec parameters: a player would show green frames after them, so start a
            # new file. It opens at the next keyframe, with the new headers.
            self._finish("codec_change")

    def _metadata_values(self) -> dict[str, float | bool | str]:
        # duration and filesize first: their offsets are what close() patches.
        values: dict[str, float | bool | str] = {"duration": 0.0, "filesize": 0.0}
        values.update(self._metadata)
        video, audio = self._headers.get(VIDEO), self._headers.get(AUDIO)
        if video is not None and not video.data[0] & 0x80:
            values["videocodecid"] = float(video.data[0] & 0x0F)
        if audio is not None:
            values["audiocodecid"] = float(audio.data[0] >> 4)
        values["encoder"] = "biliup-site"
        return values

    def _open(self, base: int) -> None:
        path, part, file = files.create_part(self._next_path(), buffering=WRITE_BUFFER)
        out = self._out = _Output(path, part, file, base, self.jumps)
        try:
            file.write(file_header(audio=AUDIO in self._headers, video=True))
            out.size = 13
            data, offsets = amf.metadata_tag(self._metadata_values())
            out.meta_at = {key: 13 + 11 + offset for key, offset in offsets.items()}
            self._write_tag(out, SCRIPT, 0, data)
            for kind in (VIDEO, AUDIO):
                if kind in self._headers:
                    self._write_tag(out, kind, 0, self._headers[kind].data)
        except OSError:
            self._salvage()
            raise
        logger.debug("recording into %s", part)

    def _write(self, kind: int, timestamp: int, data: bytes) -> None:
        assert self._out is not None
        # Audio that was captured just before the opening keyframe would be negative: 0 instead.
        timestamp = max(timestamp, 0)
        out = self._out
        try:
            self._write_tag(out, kind, timestamp, data)
            now = out.written_at = time.monotonic()
            if now - out.flushed >= FLUSH_SECONDS:
                out.file.flush()
                out.flushed = now
        except OSError:
            self._salvage()
            raise
        out.last[kind] = timestamp

    @staticmethod
    def _write_tag(out: _Output, kind: int, timestamp: int, data: bytes) -> None:
        size = len(data)
        # Buffered (WRITE_BUFFER): these are copies, not syscalls.
        write = out.file.write
        write(_tag_header(kind, size, timestamp))
        write(data)
        write(_U32.pack(11 + size))
        out.size += 15 + size

    def _finish(self, reason: str) -> None:
        out = self._out
        assert out is not None
        duration = self._duration(out)
        try:
            for key, value in (("duration", duration), ("filesize", out.size)):
                out.file.seek(out.meta_at[key])  # seek() flushes the buffer first
                out.file.write(_DOUBLE.pack(value))
            out.file.close()
        except OSError:
            self._salvage()
            raise
        self._out = None
        path = files.claim(out.part, out.path)
        segment = Segment(
            path, out.size, duration, out.base, reason, self.jumps - out.jumps_before
        )
        self._announce(segment)

    def _duration(self, out: _Output) -> float:
        """Seconds from 0 to the end of the last frame written, audio or video."""
        ends = (ts + self._tracks[kind].frame_ms() for kind, ts in out.last.items())
        return max(ends, default=0) / 1000

    def _salvage(self) -> None:
        """After a failed write (a full disk): keep the file up to its last complete tag.

        The caller re-raises. What the buffer still held is lost; finalize_part's scan trims
        the file to what actually reached the disk.
        """
        out = self._out
        assert out is not None
        self._out = None
        try:
            out.file.close()
        except OSError:
            pass  # the same failure again while flushing; the scan below copes
        try:
            segment = _finalize(out.part, out.path)
        except OSError:
            logger.exception(
                "could not finalize %s; finalize_part() can retry", out.part
            )
            return
        if segment is None:
            out.part.unlink(missing_ok=True)  # only our own header: nothing to keep
            return
        self._announce(
            replace(
                segment,
                first_timestamp=out.base,
                reason="error",
                jumps=self.jumps - out.jumps_before,
            )
        )

    def _announce(self, segment: Segment) -> None:
        logger.info(
            "closed %s (%s): %.1f s, %d bytes, %d timestamp repairs",
            segment.path,
            segment.reason,
            segment.duration,
            segment.size,
            segment.jumps,
        )
        if self._on_closed is not None:
            self._on_closed(segment)


def record(stream: Readable, segmenter: Segmenter) -> int:
    """Feed every tag of stream to segmenter until the stream ends; return how many were read.

    The segmenter stays open, so a reconnected stream can continue the same segment.
    """
    count = 0
    for tag in FlvReader(stream):
        segmenter.feed(tag)
        count += 1
    return count


# --- Leftovers of a killed recorder -------------------------------------------------------


@dataclass
class _Scan:
    end: int  # where the last complete tag (with its PreviousTagSize) ends
    duration: float
    meta_at: dict[str, int]


def _scan(path: Path) -> _Scan | None:
    """Walk an FLV file's complete tags; None if it holds no audio or video frame."""
    size = path.stat().st_size
    tracks = _new_tracks()
    first: int | None = None
    last: dict[int, int] = {}
    end, frames = 0, 0
    meta_at: dict[str, int] = {}
    with open(path, "rb") as f:
        reader = FlvReader(f)
        try:
            for tag in reader:
                if reader.position + 4 > size:
                    break  # its PreviousTagSize never reached the disk
                end = reader.position + 4
                if tag.is_script and frames == 0 and not meta_at:
                    start = reader.position - len(tag.data)
                    meta_at = {
                        k: start + v for k, v in amf.metadata_offsets(tag.data).items()
                    }
                elif not tag.is_script and tag.data and tag.packet_type not in (0, 2):
                    frames += 1
                    first = (
                        tag.timestamp if first is None else min(first, tag.timestamp)
                    )
                    last[tag.kind] = tag.timestamp
                    # Only to measure the frame durations; the file keeps its timestamps.
                    tracks[tag.kind].repair(tag.timestamp)
        except FlvError as exc:
            logger.warning("%s: keeping the first %d bytes: %s", path, end, exc)
    if first is None:
        return None
    duration = max(ts + tracks[kind].frame_ms() for kind, ts in last.items()) - first
    return _Scan(end, duration / 1000, meta_at)


def _finalize(part: Path, target: Path) -> Segment | None:
    scan = _scan(part)
    if scan is None:
        return None
    with open(part, "r+b") as f:
        f.truncate(scan.end)  # shrinking never needs disk space
        for key, value in (("duration", scan.duration), ("filesize", scan.end)):
            if key in scan.meta_at and scan.meta_at[key] + 8 <= scan.end:
                f.seek(scan.meta_at[key])
                f.write(_DOUBLE.pack(value))
    return Segment(files.claim(part, target), scan.end, scan.duration, 0, "recovered")


def finalize_part(path: Path) -> Path | None:
    """Make a leftover `<name>.part` (a killed recorder's) a playable `<name>`.

    Truncates after the last complete tag, fills in onMetaData's duration and filesize when
    present, and renames without overwriting; returns the final path. Returns None, and leaves
    the file alone, when it holds nothing decodable (empty, garbage, or no frame at all).
    """
    if path.suffix != files.PART:
        raise ValueError(f"{path}: not a {files.PART} file")
    segment = _finalize(path, path.with_suffix(""))
    return segment.path if segment else None
