"""recorder/flv.py on real media: ffmpeg makes the clips, ffmpeg decodes what we wrote."""

from __future__ import annotations

import io
import itertools
import json
import random
import signal
import subprocess
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from recorder import chunks, flv
from recorder.chunks import ChunkStream
from recorder.flv import FlvError, FlvReader, Readable, Segment, Segmenter, Tag
from tests import media

SECONDS = 12  # the clip: 25 fps, a keyframe every second, AAC at 44.1 kHz


@pytest.fixture(scope="module")
def clip() -> Path:
    return media.clip(seconds=SECONDS)


def read_tags(path: Path) -> list[Tag]:
    with open(path, "rb") as f:
        return list(FlvReader(f))


def frames(path: Path) -> list[Tag]:
    """The audio and video frames of a file (no script tags, no sequence headers)."""
    return [t for t in read_tags(path) if not t.is_script and not t.is_sequence_header]


def as_stream(tags: Iterable[Tag]) -> io.BytesIO:
    return io.BytesIO(flv.file_header() + b"".join(tag.encode() for tag in tags))


def numbered(folder: Path) -> Callable[[], Path]:
    counter = itertools.count()
    return lambda: folder / f"segment-{next(counter):03d}.flv"


def record_to(
    stream: Readable,
    next_path: Callable[[], Path],
    split_time: float | None = None,
    split_size: int | None = None,
) -> list[Segment]:
    segments: list[Segment] = []
    with Segmenter(next_path, split_time, split_size, segments.append) as segmenter:
        flv.record(stream, segmenter)
    return segments


def record(
    stream: Readable,
    folder: Path,
    split_time: float | None = None,
    split_size: int | None = None,
) -> list[Segment]:
    return record_to(stream, numbered(folder), split_time, split_size)


def assert_plays(segment: Segment) -> media.Probe:
    probe = media.probe(segment.path)
    assert probe.decode_errors == ""
    assert sorted(probe.streams) == ["aac", "h264"]
    assert segment.size == segment.path.stat().st_size
    return probe


def video_span(path: Path) -> float:
    """Seconds from 0 to the end of the last video frame, from the tags themselves."""
    return (max(t.timestamp for t in frames(path) if t.is_video) + 40) / 1000


def assert_monotonic(path: Path) -> None:
    for kind in (flv.AUDIO, flv.VIDEO):
        stamps = [t.timestamp for t in frames(path) if t.kind == kind]
        assert stamps == sorted(stamps), f"kind {kind} goes backwards"


def gop_bytes(tags: list[Tag]) -> int:
    """The most bytes that lie between one keyframe and the next, audio included."""
    largest = current = 0
    for tag in tags:
        if tag.is_keyframe and not tag.is_sequence_header:
            largest, current = max(largest, current), 0
        current += len(tag.encode())
    return max(largest, current)


def test_it_splits_by_time_into_standalone_segments(clip: Path, tmp_path: Path) -> None:
    with open(clip, "rb") as f:
        segments = record(f, tmp_path, split_time=4)

    assert [s.reason for s in segments] == ["split_time", "split_time", "closed"]
    assert not list(tmp_path.glob("*.part"))
    probes = [assert_plays(s) for s in segments]
    assert sum(p.duration for p in probes) == pytest.approx(SECONDS, abs=0.5)
    assert sum(video_span(s.path) for s in segments) == pytest.approx(SECONDS, abs=0.5)
    for segment, probe in zip(segments, probes, strict=True):
        assert video_span(segment.path) == pytest.approx(4, abs=1)  # one GOP
        tags = read_tags(segment.path)
        assert (
            tags[0].is_script
            and tags[1].is_sequence_header
            and tags[2].is_sequence_header
        )
        first = next(t for t in tags if not t.is_script and not t.is_sequence_header)
        assert first.is_keyframe and first.timestamp == 0
        assert min(t.timestamp for t in tags) == 0
        metadata = flv.read_metadata(segment.path)
        assert metadata["duration"] == pytest.approx(probe.duration, abs=0.2)
        assert metadata["duration"] == pytest.approx(video_span(segment.path), abs=0.2)
        assert metadata["filesize"] == segment.path.stat().st_size
        assert metadata["width"] == 320 and metadata["videocodecid"] == 7


def test_it_splits_by_size_at_keyframes(clip: Path, tmp_path: Path) -> None:
    limit = 150_000
    with open(clip, "rb") as f:
        segments = record(f, tmp_path, split_size=limit)

    assert len(segments) >= 3
    assert {s.reason for s in segments[:-1]} == {"split_size"}
    most = limit + gop_bytes(read_tags(clip))
    for segment in segments:
        assert segment.size <= most
        assert_plays(segment)
    assert sum(video_span(s.path) for s in segments) == pytest.approx(SECONDS, abs=0.5)


def test_it_stops_cleanly_when_the_stream_is_cut_mid_tag(
    clip: Path, tmp_path: Path
) -> None:
    data = clip.read_bytes()
    cut = data[: len(data) * 2 // 3 + 5]

    assert len(list(FlvReader(io.BytesIO(cut)))) < len(read_tags(clip))
    segments = record(io.BytesIO(cut), tmp_path)

    assert len(segments) == 1
    assert 6 < assert_plays(segments[0]).duration < 10


@pytest.mark.parametrize("shift", [10_000, -5_000], ids=["jump", "rebound"])
def test_it_repairs_timestamp_jumps(clip: Path, tmp_path: Path, shift: int) -> None:
    def shifted(tag: Tag) -> Tag:
        return (
            Tag(tag.kind, tag.timestamp + shift, tag.data)
            if tag.timestamp >= 6000
            else tag
        )

    segments = record(as_stream(map(shifted, read_tags(clip))), tmp_path)

    assert len(segments) == 1
    segment = segments[0]
    assert segment.jumps == 2  # audio and video, each repaired once
    assert_monotonic(segment.path)
    video = [t.timestamp for t in frames(segment.path) if t.is_video]
    assert max(b - a for a, b in itertools.pairwise(video)) <= 50  # no hole left behind
    assert assert_plays(segment).duration == pytest.approx(SECONDS, abs=0.5)
    assert video_span(segment.path) == pytest.approx(SECONDS, abs=0.5)


def test_it_joins_a_reconnected_stream_into_the_same_segment(
    clip: Path, tmp_path: Path
) -> None:
    tags = read_tags(clip)
    before = [t for t in tags if t.timestamp < 6000]
    # A reconnect: a new FLV header, the same onMetaData and sequence headers, and timestamps
    # starting again near 0.
    again = [t for t in tags if t.is_script or t.is_sequence_header]
    after = [
        Tag(t.kind, t.timestamp - 6000, t.data) for t in tags if t.timestamp >= 6000
    ]

    segments: list[Segment] = []
    with Segmenter(numbered(tmp_path), on_closed=segments.append) as segmenter:
        flv.record(as_stream(before), segmenter)
        flv.record(as_stream(again + after), segmenter)

    assert [s.reason for s in segments] == ["closed"]
    assert segments[0].jumps == 2
    assert_monotonic(segments[0].path)
    assert assert_plays(segments[0]).duration == pytest.approx(SECONDS, abs=0.5)


@pytest.mark.parametrize("told", [True, False])
def test_a_gop_resent_after_a_reconnect_is_written_once(
    clip: Path, tmp_path: Path, told: bool
) -> None:
    """A CDN starts a new pull with the last GOP it sent the previous one, same timestamps
    (bilibili-2026.md): told of the reconnect, the segmenter drops those frames; not told, it
    would keep both copies."""
    tags = read_tags(clip)
    headers = [t for t in tags if t.is_script or t.is_sequence_header]
    media_tags = [
        t
        for t in tags
        if not (t.is_script or t.is_sequence_header or t.is_end_of_sequence)
    ]
    cut = next(i for i, t in enumerate(media_tags) if t.timestamp >= 6500)
    gop = max(i for i, t in enumerate(media_tags[:cut]) if t.is_keyframe)
    resent = media_tags[gop:cut]

    segments: list[Segment] = []
    with Segmenter(numbered(tmp_path), on_closed=segments.append) as segmenter:
        flv.record(as_stream(headers + media_tags[:cut]), segmenter)
        if told:
            segmenter.reconnected()
        flv.record(as_stream(headers + resent + media_tags[cut:]), segmenter)

    [segment] = segments
    video = [t.data for t in frames(segment.path) if t.is_video]
    source = [t.data for t in media_tags if t.is_video]
    if told:
        assert video == source
        assert segmenter.resent_frames == len(resent)
        assert segment.jumps == 0
        assert assert_plays(segment).duration == pytest.approx(SECONDS, abs=0.1)
    else:
        assert len(video) == len(source) + sum(t.is_video for t in resent)
        assert segmenter.resent_frames == 0


def test_a_reconnect_that_resends_nothing_loses_nothing(
    clip: Path, tmp_path: Path
) -> None:
    tags = read_tags(clip)
    headers = [t for t in tags if t.is_script or t.is_sequence_header]
    media_tags = [
        t
        for t in tags
        if not (t.is_script or t.is_sequence_header or t.is_end_of_sequence)
    ]
    half = len(media_tags) // 2
    segments: list[Segment] = []
    with Segmenter(numbered(tmp_path), on_closed=segments.append) as segmenter:
        flv.record(as_stream(headers + media_tags[:half]), segmenter)
        segmenter.reconnected()
        flv.record(as_stream(headers + media_tags[half:]), segmenter)
    assert segmenter.resent_frames == 0
    video = [t for t in frames(segments[0].path) if t.is_video]
    assert len(video) == sum(t.is_video for t in media_tags)


def ffprobe_size(path: Path) -> tuple[int, int]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "json", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    stream = json.loads(out.stdout)["streams"][0]
    return stream["width"], stream["height"]


def test_it_starts_a_new_segment_when_the_codec_headers_change(tmp_path: Path) -> None:
    small = read_tags(media.clip(seconds=6, size="320x240"))
    large = read_tags(media.clip(seconds=6, size="640x360"))

    segments = record(as_stream(small + large), tmp_path)

    assert [s.reason for s in segments] == ["codec_change", "closed"]
    assert [ffprobe_size(s.path) for s in segments] == [(320, 240), (640, 360)]
    assert [flv.read_metadata(s.path)["width"] for s in segments] == [320, 640]
    for segment in segments:
        assert assert_plays(segment).duration == pytest.approx(6, abs=0.5)
        assert frames(segment.path)[0].timestamp == 0


def killed_recording(clip: Path, folder: Path) -> bytes:
    """What a recorder killed halfway leaves on disk: a .part with duration 0 in onMetaData."""
    folder.mkdir()
    segmenter = Segmenter(numbered(folder))
    for tag in read_tags(clip)[:500]:
        segmenter.feed(tag)
    (part,) = folder.glob("*.part")
    data = part.read_bytes()
    segmenter.close()
    return data


def test_finalize_part_makes_a_killed_recording_playable(
    clip: Path, tmp_path: Path
) -> None:
    data = killed_recording(clip, tmp_path / "live")
    rng = random.Random(4)

    for n, offset in enumerate(rng.randrange(20_000, len(data)) for _ in range(3)):
        part = tmp_path / f"cut-{n}.flv.part"
        part.write_bytes(data[:offset])

        path = flv.finalize_part(part)

        assert path == tmp_path / f"cut-{n}.flv"
        assert not part.exists()
        probe = media.probe(path)
        assert probe.decode_errors == ""
        metadata = flv.read_metadata(path)
        assert metadata["filesize"] == path.stat().st_size
        assert metadata["duration"] == pytest.approx(video_span(path), abs=0.2)
        assert probe.duration == pytest.approx(metadata["duration"], abs=0.2)


def test_finalize_part_gives_up_on_parts_without_frames(
    clip: Path, tmp_path: Path
) -> None:
    headers_only = flv.file_header() + b"".join(t.encode() for t in read_tags(clip)[:3])
    garbage = random.Random(1).randbytes(5000)
    for name, data in [("empty", b""), ("garbage", garbage), ("headers", headers_only)]:
        part = tmp_path / f"{name}.flv.part"
        part.write_bytes(data)

        assert flv.finalize_part(part) is None
        assert part.read_bytes() == data  # left for the caller to judge


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html><body>404 Not Found</body></html>", "not an FLV stream"),
        (flv.file_header() + b"\x09\xff\xff\xff" + bytes(7), "at byte 13 exceeds"),
        (
            flv.file_header() + b"\x03\x00\x00\x01" + bytes(8),
            "unknown FLV tag type 3 at byte 13",
        ),
    ],
    ids=["html", "huge-tag", "bad-type"],
)
def test_it_refuses_garbage(data: bytes, message: str) -> None:
    with pytest.raises(FlvError, match=message):
        list(FlvReader(io.BytesIO(data)))


class Trickle:
    """A socket that hands over at most 7 bytes at a time."""

    def __init__(self, data: bytes) -> None:
        self.stream = io.BytesIO(data)

    def read(self, n: int) -> bytes:
        return self.stream.read(min(n, 7))


def test_it_reads_streams_that_return_short_reads(clip: Path) -> None:
    tags = list(FlvReader(Trickle(clip.read_bytes())))

    assert tags == read_tags(clip)
    assert list(FlvReader(io.BytesIO(b""))) == []


def tag_ends(tags: list[Tag]) -> list[int]:
    """Where each tag's data ends in a file that holds them after a 9-byte header."""
    ends, start = [], 13
    for tag in tags:
        ends.append(start + 11 + len(tag.data))
        start = ends[-1] + 4
    return ends


def test_it_reads_a_chunked_body_however_it_is_cut(
    clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ChunkStream, "PAUSE_SECONDS", 0)  # a busy machine: no slow test
    data = clip.read_bytes()
    tags = read_tags(clip)
    rng = random.Random(3)

    def cut(sizes: Iterator[int]) -> list[bytes]:
        pieces, at = [], 0
        while at < len(data):
            pieces.append(data[at : at + next(sizes)])
            at += len(pieces[-1])
        return pieces

    bodies = {
        # A tag per chunk, as the fake CDN sends it in real time: no chunk splits a tag.
        "per tag": [data[:13]] + [tag.encode() for tag in tags],
        "large": cut(rng.randrange(1, 300_000) for _ in itertools.count()),
        "small": cut(rng.randrange(1, 20) for _ in itertools.count()),
    }
    for name, body in bodies.items():
        reader = FlvReader(ChunkStream(iter(body)))
        ends = []
        for tag in reader:
            ends.append(reader.position)
            assert tag == tags[len(ends) - 1], name
        assert ends == tag_ends(tags), name


def test_it_keeps_a_last_tag_without_its_previous_tag_size() -> None:
    tags = [Tag(flv.AUDIO, 0, b"\xaf\x01abc"), Tag(flv.AUDIO, 23, b"\xaf\x01defg")]
    data = flv.file_header() + b"".join(tag.encode() for tag in tags)

    reader = FlvReader(io.BytesIO(data[:-4]))

    assert list(reader) == tags
    assert reader.position == tag_ends(tags)[-1] == len(data) - 4


class Clock:
    """Stands in for the time module in recorder.chunks."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_chunk_stream_pauses_after_waiting_for_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    monkeypatch.setattr(chunks, "time", clock)

    def body() -> Iterator[bytes]:
        yield b"the burst at connect"
        yield b""
        yield b"more of it"
        clock.now += 0.04  # the live edge: the next chunk has not arrived yet
        yield b"a frame"
        yield b"frames that piled up meanwhile"
        yield b"and more"

    stream = ChunkStream(body())
    assert stream.read(100) == b"the burst at connect"
    assert stream.read(4) == b"more"
    assert stream.read(100) == b" of it"
    assert stream.read(100) == b"a frame"
    assert clock.sleeps == []
    assert stream.read(100) == b"frames that piled up meanwhile"
    assert clock.sleeps == [ChunkStream.PAUSE_SECONDS]
    assert stream.read(100) == b"and more"
    assert stream.read(100) == b""
    assert clock.sleeps == [ChunkStream.PAUSE_SECONDS]


def test_it_reads_extended_and_negative_timestamps() -> None:
    stamps = [0, 0xFFFFFF, 0x1000000, 20 * 3600 * 1000, -40]
    tags = [Tag(flv.AUDIO, ts, b"\xaf\x01abc") for ts in stamps]

    assert [t.timestamp for t in FlvReader(as_stream(tags))] == stamps


def test_memory_stays_flat_over_a_long_stream(clip: Path, tmp_path: Path) -> None:
    tags = read_tags(clip)
    media_tags = [
        t
        for t in tags
        if not t.is_script and not t.is_sequence_header and not t.is_end_of_sequence
    ]
    period = max(t.timestamp for t in media_tags) + 40
    long = tmp_path / "long.flv"
    # 30 loops of the clip with continuous timestamps: 6 minutes, about 17 MB.
    with open(long, "wb") as f:
        f.write(flv.file_header() + b"".join(t.encode() for t in tags[:3]))
        for loop in range(30):
            f.writelines(t.encode(t.timestamp + loop * period) for t in media_tags)
    assert long.stat().st_size > 15_000_000
    (tmp_path / "out").mkdir()

    tracemalloc.start()
    try:
        with open(long, "rb") as f:
            segments = record(f, tmp_path / "out", split_time=60)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 1_000_000
    assert len(segments) == 6
    assert sum(s.jumps for s in segments) == 0
    assert sum(s.duration for s in segments) == pytest.approx(
        30 * period / 1000, abs=0.5
    )


def test_it_never_overwrites_a_file(clip: Path, tmp_path: Path) -> None:
    (tmp_path / "rec.flv").write_bytes(b"someone else's")
    (tmp_path / "rec-1.flv.part").write_bytes(b"another recorder's")

    with open(clip, "rb") as f:
        segments = record_to(f, lambda: tmp_path / "rec.flv", split_time=4)

    assert [s.path.name for s in segments] == ["rec-2.flv", "rec-3.flv", "rec-4.flv"]
    assert (tmp_path / "rec.flv").read_bytes() == b"someone else's"
    assert (tmp_path / "rec-1.flv.part").read_bytes() == b"another recorder's"


def test_it_keeps_a_name_taken_while_recording(clip: Path, tmp_path: Path) -> None:
    segments: list[Segment] = []
    segmenter = Segmenter(lambda: tmp_path / "late.flv", on_closed=segments.append)
    for tag in read_tags(clip)[:300]:
        segmenter.feed(tag)
    (tmp_path / "late.flv").write_bytes(b"arrived first")

    segmenter.close()
    segmenter.close()

    assert [s.path.name for s in segments] == ["late-1.flv"]
    assert (tmp_path / "late.flv").read_bytes() == b"arrived first"
    assert_plays(segments[0])


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
def test_a_full_disk_keeps_what_was_written(clip: Path, tmp_path: Path) -> None:
    import resource

    tags = read_tags(clip)
    segments: list[Segment] = []
    segmenter = Segmenter(numbered(tmp_path), on_closed=segments.append)
    # A file size limit fails write() with EFBIG exactly as a full disk fails it with ENOSPC.
    limit = 200_000
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        with pytest.raises(OSError):
            for tag in tags:
                segmenter.feed(tag)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)
    segmenter.close()

    assert [s.reason for s in segments] == ["error"]
    assert not list(tmp_path.glob("*.part"))
    assert segments[0].size <= limit
    assert assert_plays(segments[0]).duration > 3
    assert flv.read_metadata(segments[0].path)["filesize"] == segments[0].size
