"""Pulling live streams from the fake's CDN: an HTTP-FLV body as it arrives, its failures as
CdnError, and HlsReader following a live playlist."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from biliup_site.bilibili import cdn, live

pytestmark = pytest.mark.django_db

ROOM = 23058


@pytest.fixture
def flv_room(fakebili: Any) -> Any:
    fakebili.add_room(ROOM, speed=0)  # as fast as the socket goes
    fakebili.set_live(ROOM, 1)
    return fakebili


@pytest.fixture
def hls_room(fakebili: Any) -> Any:
    fakebili.add_room(ROOM, speed=0)
    fakebili.set_hls_only(ROOM)
    fakebili.set_live(ROOM, 1)
    return fakebili


def _url(kind: str) -> str:
    return next(u.url for u in live.play_urls(ROOM) if u.format == kind)


def _read(url: str, n: int, **kwargs: Any) -> tuple[cdn.HlsReader, list[cdn.Media]]:
    reader = cdn.HlsReader(cdn.session(), url, **kwargs)
    return reader, list(itertools.islice(reader, n))


def _drain(stream: cdn.Stream) -> int:
    return sum(len(chunk) for chunk in stream.chunks())


# --- HTTP-FLV ------------------------------------------------------------------------------


def test_a_stream_hands_out_the_flv_body(flv_room: Any) -> None:
    with cdn.open_stream(cdn.session(), _url("flv"), 10) as stream:
        assert stream.status_code == 200
        head = b"".join(itertools.islice(stream.chunks(), 4))
        assert head[:3] == b"FLV"


def test_another_status_is_handed_back_to_the_caller(flv_room: Any) -> None:
    url = _url("flv")
    flv_room.set_hls_only(ROOM)  # the FLV stream answers 404 now
    with cdn.open_stream(cdn.session(), url, 10) as stream:
        assert stream.status_code == 404


def test_an_unreachable_cdn_is_a_cdn_error() -> None:
    with (
        pytest.raises(cdn.CdnError) as raised,
        cdn.open_stream(cdn.session(), "http://127.0.0.1:9/live.flv", 1),
    ):
        pass
    assert raised.value.cause == "ConnectionError"


def test_a_dropped_stream_is_a_cdn_error(flv_room: Any) -> None:
    flv_room.set_stream(ROOM, drop_after_bytes=200_000)
    with (
        cdn.open_stream(cdn.session(), _url("flv"), 10) as stream,
        pytest.raises(cdn.CdnError) as raised,
    ):
        _drain(stream)
    assert raised.value.cause == "ChunkedEncodingError"


def test_a_stalled_stream_ends_after_the_read_timeout(flv_room: Any) -> None:
    flv_room.set_stream(ROOM, stall_after_bytes=200_000)
    with (
        cdn.open_stream(cdn.session(), _url("flv"), 0.5) as stream,
        pytest.raises(cdn.CdnError) as raised,
    ):
        _drain(stream)
    assert raised.value.cause == "ConnectionError"
    flv_room.set_stream(ROOM, clear=True)


# --- HLS -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ts", "fmp4"])
def test_the_reader_yields_each_segment_once_in_order(hls_room: Any, kind: str) -> None:
    url = _url(kind)
    reader, first = _read(url, 8)
    assert [m.sequence for m in first] == list(
        range(first[0].sequence, first[0].sequence + 8)
    )
    assert {m.kind for m in first} == {kind}
    assert all((m.init is not None) == (kind == "fmp4") for m in first)
    # A reconnect that knows where it stopped goes on from the next segment.
    _, more = _read(url, 3, last_sequence=reader.last_sequence)
    assert more[0].sequence == first[-1].sequence + 1


def test_a_5xx_segment_is_retried(hls_room: Any) -> None:
    hls_room.set_hls(ROOM, fail_segments=2, status=503)
    reader, got = _read(_url("ts"), 5)
    assert reader.missed == 0
    assert [m.sequence - got[0].sequence for m in got] == [0, 1, 2, 3, 4]


def test_segments_gone_from_the_cdn_are_counted_as_missed(hls_room: Any) -> None:
    hls_room.set_hls(ROOM, fail_segments=2, status=404)
    reader, got = _read(_url("ts"), 5)
    assert reader.missed == 2
    assert len(got) == 5
