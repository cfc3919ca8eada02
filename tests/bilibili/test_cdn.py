"""Pulling live streams from the fake's CDN (strict: browser headers, expiring URLs,
close-delimited FLV on cn-gotcha04): an HTTP-FLV body as it arrives, in bounded pieces whatever
its framing, its failures as CdnError, and HlsReader following a live playlist."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from biliup_site.bilibili import cdn, http, live

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
    return next(u.url for u in live.play_info(ROOM).urls if u.format == kind)


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
    assert raised.value.cause == "ProtocolError"


def test_a_stalled_stream_ends_after_the_read_timeout(flv_room: Any) -> None:
    flv_room.set_stream(ROOM, stall_after_bytes=200_000)
    with (
        cdn.open_stream(cdn.session(), _url("flv"), 0.5) as stream,
        pytest.raises(cdn.CdnError) as raised,
    ):
        _drain(stream)
    assert raised.value.cause == "ReadTimeoutError"
    flv_room.set_stream(ROOM, clear=True)


def test_the_session_sends_what_the_cdn_asks_of_a_browser(flv_room: Any) -> None:
    credential = flv_room.login()
    with cdn.session(credential, ROOM).get(_url("flv"), stream=True, timeout=10) as r:
        assert r.status_code == 200
        sent = r.request.headers
    assert sent["User-Agent"] == http.BROWSER_UA
    assert sent["Referer"] == f"https://live.bilibili.com/{ROOM}"
    assert "SESSDATA=" in sent["Cookie"]
    assert cdn.session().headers["Referer"] == "https://live.bilibili.com/"
    # What the CDN says to python-requests' defaults (tests/fakebili/test_cdn_strict.py).
    with requests.get(_url("flv"), stream=True, timeout=10) as r:
        assert r.status_code == 403


@pytest.mark.parametrize("host", ["cn-gotcha04", "cn-gotcha01"])
def test_every_byte_before_a_stall_is_handed_out_whatever_the_framing(
    flv_room: Any, host: str
) -> None:
    """cn-gotcha04 sends FLV close-delimited, cn-gotcha01 chunked: either way the bytes come
    out as they arrive, in pieces of at most CHUNK_BYTES, none held back waiting for more."""
    flv_room.set_cdn(hosts=[host])
    flv_room.set_stream(ROOM, stall_after_bytes=300_000)  # not a multiple of 64 KiB
    pieces = []
    with (
        cdn.open_stream(cdn.session(), _url("flv"), 1) as stream,
        pytest.raises(cdn.CdnError) as raised,
    ):
        for chunk in stream.chunks():
            pieces.append(len(chunk))
    assert raised.value.cause == "ReadTimeoutError"
    assert sum(pieces) == 300_000
    assert max(pieces) <= cdn.CHUNK_BYTES
    flv_room.set_stream(ROOM, clear=True)


def test_a_close_delimited_stream_ends_where_the_connection_does(flv_room: Any) -> None:
    flv_room.set_cdn(hosts=["cn-gotcha04"])
    flv_room.set_stream(ROOM, offline_after_seconds=3)
    with cdn.open_stream(cdn.session(), _url("flv"), 10) as stream:
        data = b"".join(stream.chunks())
    assert data[:3] == b"FLV"
    assert len(data) > 50_000


def test_a_body_cut_off_mid_way_raises_rather_than_coming_back_short(
    flv_room: Any,
) -> None:
    # The chunked host: a cut there lacks the last chunk, so it cannot pass for the end.
    flv_room.set_cdn(hosts=["cn-gotcha01"])
    flv_room.set_stream(ROOM, drop_after_bytes=300_000)
    with (
        cdn.session().get(_url("flv"), stream=True, timeout=10) as response,
        pytest.raises(requests.RequestException),
    ):
        cdn.read_body(response, 10_000_000)


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


def test_a_reader_without_browser_headers_gets_nothing(hls_room: Any) -> None:
    reader = cdn.HlsReader(requests.Session(), _url("ts"))
    assert list(reader) == []
    assert hls_room.cdn_log()["refused_headers"] == 1


def test_a_body_too_big_to_hold_is_refused(hls_room: Any) -> None:
    sess = cdn.session()
    playlist = _url("ts")
    first = next(
        line
        for line in sess.get(playlist, timeout=10).text.splitlines()
        if line.endswith(".ts")
    )
    segment = urljoin(playlist, first)
    with sess.get(segment, stream=True, timeout=10) as response:
        size = int(response.headers["Content-Length"])
        assert cdn.read_body(response, size - 1) is None
    with sess.get(segment, stream=True, timeout=10) as response:
        assert len(cdn.read_body(response, size) or b"") == size
    # A body of no stated length is cut off once it passes the limit, not read to its end.
    hls_room.set_hls_only(ROOM, False)
    hls_room.set_cdn(hosts=["cn-gotcha04"])
    with sess.get(_url("flv"), stream=True, timeout=10) as response:
        assert "Content-Length" not in response.headers
        assert cdn.read_body(response, 100_000) is None
