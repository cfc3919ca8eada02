"""The recorder's pieces end to end, before the recording job exists: a live room's play URL from
the (strict) fake Bilibili, its HTTP-FLV stream pulled by the CDN client through FlvReader into a
Segmenter, and ffprobe's verdict."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from biliup_site.bilibili import cdn, live
from recorder import flv
from recorder.chunks import ChunkStream
from tests import media

pytestmark = pytest.mark.django_db

ROOM = 23058


def _tags_until(tags: Iterator[flv.Tag], seconds: float) -> Iterator[flv.Tag]:
    start = None
    for tag in tags:
        if tag.is_video or tag.is_audio:
            start = tag.timestamp if start is None else start
            if tag.timestamp - start >= seconds * 1000:
                return
        yield tag


def test_a_live_room_is_recorded_into_decodable_segments(
    fakebili: Any, tmp_path: Path
) -> None:
    fakebili.add_room(ROOM, speed=0)  # as fast as the socket goes
    fakebili.set_live(ROOM, 1)
    [url, *_] = live.play_info(ROOM).urls
    numbers = count(1)
    closed: list[flv.Segment] = []
    segmenter = flv.Segmenter(
        lambda: tmp_path / f"room-{next(numbers)}.flv",
        split_time=4,
        on_closed=closed.append,
    )
    with cdn.open_stream(cdn.session(room=ROOM), url.url, 10) as stream:
        assert stream.status_code == 200
        tags = flv.FlvReader(ChunkStream(stream.chunks()))
        for tag in _tags_until(iter(tags), 12):
            segmenter.feed(tag)
    segmenter.close()

    assert len(closed) == 3
    durations = []
    for segment in closed:
        probe = media.probe(segment.path)
        assert probe.decode_errors == ""
        assert probe.streams == ["h264", "aac"]
        durations.append(probe.duration)
    assert sum(durations) == pytest.approx(12, abs=1)
    assert not list(tmp_path.glob("*.part"))
