"""HLS recording: HlsSegmenter's files from the fake's live segments, and what a killed recorder
leaves behind. (The reader that fetches them is tests/bilibili/test_cdn.py's.)"""

from __future__ import annotations

import itertools
import struct
from pathlib import Path
from typing import Any

import pytest

from biliup_site.bilibili import cdn, live
from recorder import fmp4, hls
from recorder.files import Segment
from tests import media

pytestmark = pytest.mark.django_db

ROOM = 23058


@pytest.fixture
def hls_room(fakebili: Any) -> Any:
    fakebili.add_room(ROOM, speed=0)
    fakebili.set_hls_only(ROOM)
    fakebili.set_live(ROOM, 1)
    return fakebili


def _url(kind: str) -> str:
    return next(u.url for u in live.play_info(ROOM).urls if u.format == kind)


def _read(url: str, n: int) -> list[cdn.Media]:
    return list(itertools.islice(cdn.HlsReader(cdn.session(), url), n))


@pytest.mark.parametrize("kind, suffix", [("ts", ".ts"), ("fmp4", ".mp4")])
def test_the_segmenter_splits_at_segment_boundaries_into_playable_files(
    hls_room: Any, tmp_path: Path, kind: str, suffix: str
) -> None:
    segments = _read(_url(kind), 9)
    names = itertools.count()
    closed: list[Segment] = []
    with hls.HlsSegmenter(
        lambda ext: tmp_path / f"rec-{next(names)}{ext}",
        split_time=3,
        on_closed=closed.append,
    ) as segmenter:
        for m in segments:
            segmenter.feed(m)
    assert [s.duration for s in closed] == pytest.approx([3, 3, 3], abs=0.1)
    for s in closed:
        assert s.path.suffix == suffix
        probe = media.probe(s.path)
        assert probe.decode_errors == ""
        assert probe.streams == ["h264", "aac"]
        # Every file starts at 0 (an MP4's timeline would otherwise run from the broadcast's
        # start): its duration is its own.
        assert probe.duration == pytest.approx(3, abs=0.2)
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize("kind, suffix", [("ts", ".ts"), ("fmp4", ".mp4")])
def test_a_killed_recording_is_cut_back_to_whole_segments(
    hls_room: Any, tmp_path: Path, kind: str, suffix: str
) -> None:
    segments = _read(_url(kind), 5)
    segmenter = hls.HlsSegmenter(lambda ext: tmp_path / f"killed{ext}")
    for m in segments[:4]:
        segmenter.feed(m)
    [part] = tmp_path.glob("*.part")
    with part.open("ab") as f:  # killed in the middle of writing the fifth
        f.write(segments[4].data[: len(segments[4].data) // 2])

    path = hls.finalize_part(part)

    assert path == tmp_path / f"killed{suffix}"
    assert not list(tmp_path.glob("*.part*"))
    probe = media.probe(path)
    assert probe.decode_errors == ""
    assert probe.streams == ["h264", "aac"]
    assert probe.duration == pytest.approx(4, abs=0.2)


def test_nothing_decodable_is_left_alone(tmp_path: Path) -> None:
    part = tmp_path / "empty.mp4.part"
    part.write_bytes(b"\x00\x00\x00\x10ftypisom\x00\x00\x00\x00")
    assert hls.finalize_part(part) is None
    assert part.exists()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def test_rebasing_rewrites_the_fragment_times_and_leaves_the_media_uncopied() -> None:
    tfhd = _box(b"tfhd", struct.pack(">II", 0, 1))  # version+flags, track 1
    tfdt = _box(b"tfdt", struct.pack(">IQ", 0x01000000, 50_000))  # version 1
    moof = _box(b"moof", _box(b"mfhd", bytes(8)) + _box(b"traf", tfhd + tfdt))
    # version 0, flags, reference_ID 1, timescale 1000, earliest_presentation_time, offset
    sidx = _box(b"sidx", struct.pack(">IIIII", 0, 1, 1000, 50_000, 0))
    mdat = _box(b"mdat", b"x" * 1000)
    tail = (
        b"\x00\x00\xff\xffmdat"  # a box that claims more than there is: kept as it is
    )
    data = sidx + moof + mdat + tail

    parts = fmp4.rebase(data, {1: 1000}, 10)

    out = b"".join(parts)
    assert len(out) == len(data)
    assert fmp4.start_seconds(out, {1: 1000}) == 40
    assert struct.unpack_from(">I", out, 8 + 12)[0] == 40_000  # sidx's time
    assert out[len(sidx) + len(moof) :] == mdat + tail
    # The media data is handed on as a view of the segment, not a copy of it.
    assert any(isinstance(p, memoryview) and p.obj is data for p in parts)
    # Times never go below 0, and a track the init section does not know is left alone.
    assert (
        fmp4.start_seconds(b"".join(fmp4.rebase(data, {1: 1000}, 99)), {1: 1000}) == 0
    )
    assert b"".join(fmp4.rebase(data, {2: 1000}, 10))[len(sidx) :] == data[len(sidx) :]
