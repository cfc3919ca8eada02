"""FLV for the fake live rooms: read a clip's tags, and play them forever like a live stream.

Just enough FLV to loop a file: the 9-byte file header, then tags of an 11-byte header (type,
24-bit data size, 24-bit timestamp + 8 high bits, 24-bit stream id 0), the data, and a 4-byte
"previous tag size". Tag types: 8 audio, 9 video, 18 script (onMetaData).

This is the fake's own small reader, independent of the recorder's FLV code, so a bug in one does
not hide in the other. make_clip() is the clip rooms loop unless given their own.
"""

from __future__ import annotations

import functools
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

from tests import media

AUDIO, VIDEO, SCRIPT = 8, 9, 18
# "FLV", version 1, flags audio + video, header size 9, then PreviousTagSize0.
FILE_HEADER = b"FLV\x01\x05\x00\x00\x00\x09" + b"\x00\x00\x00\x00"


class Tag(NamedTuple):
    kind: int
    timestamp: int  # ms
    data: bytes

    @property
    def is_keyframe(self) -> bool:
        # Video data byte 0: frame type (high nibble, 1 = key frame) and codec id.
        return self.kind == VIDEO and self.data[:1] != b"" and self.data[0] >> 4 == 1

    @property
    def is_sequence_header(self) -> bool:
        # AVCPacketType / AACPacketType 0: the decoder configuration, not a frame.
        if self.kind == VIDEO:
            return self.data[0] & 0x0F == 7 and self.data[1:2] == b"\x00"
        if self.kind == AUDIO:
            return self.data[0] >> 4 == 10 and self.data[1:2] == b"\x00"
        return False

    @property
    def is_end_of_sequence(self) -> bool:
        # ffmpeg ends an H.264 FLV with an AVC end-of-sequence tag; a loop must not carry it.
        return self.kind == VIDEO and self.data[1:2] == b"\x02"

    def encode(self, timestamp: int | None = None) -> bytes:
        """The tag as it goes on the wire (with its PreviousTagSize), at `timestamp` if given."""
        ts = self.timestamp if timestamp is None else timestamp
        ts &= 0xFFFFFFFF
        size = len(self.data)
        header = struct.pack(
            ">B3sI3s",
            self.kind,
            size.to_bytes(3, "big"),
            # 24 low bits, then the 8 high bits (TimestampExtended).
            ((ts & 0xFFFFFF) << 8) | (ts >> 24),
            b"\x00\x00\x00",
        )
        return header + self.data + struct.pack(">I", 11 + size)


def read_tags(file: BinaryIO) -> Iterator[Tag]:
    """The tags of an FLV file positioned just after its file header and PreviousTagSize0.

    Stops quietly at a truncated tag, as a player would.
    """
    while True:
        header = file.read(11)
        if len(header) < 11:
            return
        kind = header[0]
        size = int.from_bytes(header[1:4], "big")
        timestamp = int.from_bytes(header[4:7], "big") | (header[7] << 24)
        data = file.read(size)
        if len(data) < size or len(file.read(4)) < 4:
            return
        yield Tag(kind, timestamp, data)


def _open(path: Path) -> BinaryIO:
    file = path.open("rb")
    head = file.read(9)
    if head[:3] != b"FLV" or len(head) < 9:
        file.close()
        raise ValueError(f"{path} is not an FLV file")
    file.seek(int.from_bytes(head[5:9], "big") + 4)
    return file


def live_metadata(data: bytes) -> bytes:
    """The clip's onMetaData with duration and filesize 0, as a live stream sends it.

    Both are AMF0 numbers (marker 0 + 8-byte double) after a length-prefixed key, patched in
    place: no AMF parser needed.
    """
    out = bytearray(data)
    for key in (b"duration", b"filesize"):
        at = data.find(struct.pack(">H", len(key)) + key + b"\x00")
        if at >= 0:
            start = at + 2 + len(key) + 1
            out[start : start + 8] = struct.pack(">d", 0.0)
    return bytes(out)


@dataclass(frozen=True)
class Clip:
    """A clip ready to loop: its header tags, and what one pass of its media tags lasts."""

    path: Path
    metadata: Tag | None
    video_header: Tag | None
    audio_header: Tag | None
    first_ms: int
    # From the first media tag to where the next pass starts: the end of the longer of audio and
    # video (last timestamp + one frame), so neither goes backwards at the loop boundary.
    loop_ms: int

    def header_tags(self) -> list[Tag]:
        """onMetaData (live style) and the AVC and AAC sequence headers, in that order."""
        tags = []
        if self.metadata is not None:
            tags.append(self.metadata._replace(data=live_metadata(self.metadata.data)))
        tags.extend(t for t in (self.video_header, self.audio_header) if t is not None)
        return tags

    def media_tags(self) -> Iterator[Tag]:
        """One pass of the audio and video frames, read from the file tag by tag."""
        with _open(self.path) as file:
            for tag in read_tags(file):
                if tag.kind in (AUDIO, VIDEO) and not (
                    tag.is_sequence_header or tag.is_end_of_sequence
                ):
                    yield tag


_load_lock = threading.Lock()


def load(path: Path) -> Clip:
    """The clip at `path`, read once per process (one pass over the file)."""
    path = Path(path)
    with _load_lock:
        return _load(path, path.stat().st_mtime_ns)


@functools.cache
def _load(path: Path, mtime_ns: int) -> Clip:
    metadata = video_header = audio_header = None
    first_ms: int | None = None
    last: dict[
        int, tuple[int, int]
    ] = {}  # kind → (last timestamp, last frame interval)
    with _open(path) as file:
        for tag in read_tags(file):
            if tag.kind == SCRIPT:
                metadata = metadata or tag
            elif tag.is_sequence_header:
                if tag.kind == VIDEO:
                    video_header = video_header or tag
                else:
                    audio_header = audio_header or tag
            elif tag.kind in (AUDIO, VIDEO) and not tag.is_end_of_sequence:
                if first_ms is None:
                    first_ms = tag.timestamp
                previous = last.get(tag.kind)
                interval = tag.timestamp - previous[0] if previous else 0
                last[tag.kind] = (tag.timestamp, interval or (previous or (0, 0))[1])
    if first_ms is None:
        raise ValueError(f"{path} has no audio or video frames")
    end = max(ts + max(interval, 1) for ts, interval in last.values())
    return Clip(
        path=path,
        metadata=metadata,
        video_header=video_header,
        audio_header=audio_header,
        first_ms=first_ms,
        loop_ms=end - first_ms,
    )


class Player:
    """A clip's media tags forever: each pass offset by the clip's length, so timestamps run on.

    `elapsed_ms` is stream time since the start, without injected jumps: what pacing and the
    "at second T" controls count in.
    """

    def __init__(self, clip: Clip, start_ms: int = 0) -> None:
        self.clip = clip
        self.start_ms = start_ms
        self.jumped_ms = 0
        self._offset = (
            start_ms - clip.first_ms
        )  # wire timestamp = clip timestamp + offset
        self._tags = clip.media_tags()
        self._next: Tag | None = None

    def peek(self) -> Tag:
        """The next tag, timestamp already on the wire's clock."""
        if self._next is None:
            tag = next(self._tags, None)
            if tag is None:
                self._offset += self.clip.loop_ms
                self._tags.close()
                self._tags = self.clip.media_tags()
                tag = next(self._tags)
            self._next = tag._replace(timestamp=tag.timestamp + self._offset)
        return self._next

    def take(self) -> Tag:
        tag = self.peek()
        self._next = None
        return tag

    @property
    def elapsed_ms(self) -> int:
        return self.peek().timestamp - self.start_ms - self.jumped_ms

    def jump(self, ms: int) -> None:
        """Every later timestamp moves by `ms`."""
        tag = self.peek()
        self.jumped_ms += ms
        self._offset += ms
        self._next = tag._replace(timestamp=tag.timestamp + ms)

    def switch(self, clip: Clip) -> list[Tag]:
        """Play `clip` from its start, in place of the next tag. Returns its AVC and AAC sequence
        headers, to send first, stamped with the time where the new clip begins."""
        at = self.peek().timestamp
        self._tags.close()
        self.clip = clip
        self._offset = at - clip.first_ms
        self._tags = clip.media_tags()
        self._next = None
        headers = (clip.video_header, clip.audio_header)
        return [tag._replace(timestamp=at) for tag in headers if tag is not None]

    def close(self) -> None:
        self._tags.close()


_clip_lock = threading.Lock()


def make_clip(size: str | None = None) -> Path:
    """The default test clip (or one at another size), made by ffmpeg once per process."""
    # media.clip is cached but not safe to run twice at once for the same file.
    with _clip_lock:
        return media.clip(size=size) if size else media.clip()
