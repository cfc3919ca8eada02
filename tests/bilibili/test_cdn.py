"""Pulling live streams from the fake's CDN (strict: browser headers, expiring URLs,
close-delimited FLV on cn-gotcha04): an HTTP-FLV body as it arrives, in bounded pieces whatever
its framing, its failures as CdnError, and HlsReader following a live playlist."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from biliup_site.bilibili import cdn, http, live
from tests.origins import Handler, serving

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


# --- HLS GETs straight to the session's connection pool ------------------------------------


class Origin(Handler):
    """A CDN node for HlsReader's own GETs, keeping connections alive: a playlist URL that
    redirects, two segments (the first sets a cookie), one cut off, one that never answers."""

    protocol_version = "HTTP/1.1"
    server: Any

    def do_GET(self) -> None:
        self.server.seen.append((self.path, dict(self.headers)))
        if self.path == "/start.m3u8":
            self.send(302, b"", Location="/v/index.m3u8")
        elif self.path == "/v/index.m3u8":
            playlist = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
            playlist += "#EXTINF:2,\nseg0.ts\n#EXTINF:2,\nseg1.ts\n#EXT-X-ENDLIST\n"
            self.send(200, playlist.encode())
        elif self.path == "/v/seg0.ts":
            self.send(200, b"A" * 1000, **{"Set-Cookie": "node=7; Path=/"})
        elif self.path == "/v/seg1.ts":
            self.send(200, b"B" * 1000)
        elif self.path == "/v/cut.ts":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"C" * 10)
            self.close_connection = True
        elif self.path == "/v/silent.ts":
            self.server.release.wait(10)
            self.send(200, b"late")
        else:
            self.send(404, b"no")


@pytest.fixture
def origin() -> Iterator[Any]:
    with serving(Origin) as server:
        server.seen, server.release = [], threading.Event()
        yield server
        server.release.set()


def _counting(sess: requests.Session) -> list[str]:
    """The URLs `sess` sends through requests from now on."""
    sent: list[str] = []
    send = sess.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(url)
        return send(method, url, *args, **kwargs)

    sess.request = request  # type: ignore[method-assign]
    return sent


def test_the_reader_sends_the_session_s_headers_and_cookies_past_requests(
    origin: Any,
) -> None:
    sess = cdn.session()
    sess.cookies.set("SESSDATA", "abc")
    through_requests = _counting(sess)
    media = list(cdn.HlsReader(sess, f"{origin.url}/start.m3u8"))
    assert [m.data for m in media] == [b"A" * 1000, b"B" * 1000]
    # Only the redirect goes through requests, which follows it: the segments' base is where
    # it led.
    assert through_requests == [f"{origin.url}/start.m3u8"]
    assert [path for path, _ in origin.seen][-3:] == [
        "/v/index.m3u8",
        "/v/seg0.ts",
        "/v/seg1.ts",
    ]
    for _, headers in origin.seen:
        assert headers["User-Agent"] == http.BROWSER_UA
        assert headers["Referer"] == http.LIVE_REFERER
        assert "SESSDATA=abc" in headers["Cookie"]
    # A cookie the CDN sets is in the jar, and sent from then on.
    assert sess.cookies["node"] == "7"
    assert "node=7" in origin.seen[-1][1]["Cookie"]


def test_a_session_of_another_class_goes_through_its_own_request(origin: Any) -> None:
    class Bridge(requests.Session):
        pass

    sess = Bridge()
    through_requests = _counting(sess)
    assert len(list(cdn.HlsReader(sess, f"{origin.url}/v/index.m3u8"))) == 2
    assert through_requests == [
        f"{origin.url}/v/index.m3u8",
        f"{origin.url}/v/seg0.ts",
        f"{origin.url}/v/seg1.ts",
    ]


def test_a_non_200_comes_back_with_its_status_and_the_connection_stays_usable(
    origin: Any,
) -> None:
    getter = cdn._Getter(cdn.session(), timeout=10)
    assert getter.get(f"{origin.url}/v/gone.ts", 1000) == (
        404,
        b"no",
        f"{origin.url}/v/gone.ts",
    )
    assert getter.get(f"{origin.url}/v/seg1.ts", 1000)[:2] == (200, b"B" * 1000)
    assert list(cdn.HlsReader(cdn.session(), f"{origin.url}/v/gone.m3u8")) == []


def test_a_body_over_the_limit_is_refused_and_the_next_get_still_works(
    origin: Any,
) -> None:
    getter = cdn._Getter(cdn.session(), timeout=10)
    assert getter.get(f"{origin.url}/v/seg1.ts", 999)[:2] == (200, None)
    assert getter.get(f"{origin.url}/v/seg1.ts", 1000)[:2] == (200, b"B" * 1000)


def test_a_cut_off_segment_raises_as_requests_does(origin: Any) -> None:
    getter = cdn._Getter(cdn.session(), timeout=10)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        getter.get(f"{origin.url}/v/cut.ts", 10_000)
    assert getter.get(f"{origin.url}/v/seg1.ts", 1000)[:2] == (200, b"B" * 1000)


def test_a_silent_node_times_out_and_a_closed_port_is_a_connection_error(
    origin: Any,
) -> None:
    getter = cdn._Getter(cdn.session(), timeout=0.3)
    with pytest.raises(requests.exceptions.ReadTimeout):
        getter.get(f"{origin.url}/v/silent.ts", 1000)
    with pytest.raises(requests.exceptions.ConnectionError):
        getter.get("http://127.0.0.1:9/v/seg1.ts", 1000)


@pytest.fixture
def tls_origin(tmp_path: Any) -> Iterator[Any]:
    """The same node over HTTPS (the real CDN's scheme), with a certificate made here."""
    import ssl
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with serving(Origin, tls=context) as server:
        server.seen, server.release = [], threading.Event()
        server.cert = str(cert)
        yield server
        server.release.set()


def test_the_reader_gets_over_https_and_checks_the_certificate(
    tls_origin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Trusted as a CA bundle is (requests takes the environment's over the session's).
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls_origin.cert)
    sess = cdn.session()
    through_requests = _counting(sess)
    media = list(cdn.HlsReader(sess, f"{tls_origin.url}/v/index.m3u8"))
    assert [m.data for m in media] == [b"A" * 1000, b"B" * 1000]
    assert through_requests == []
    # A certificate the session does not trust: no playlist, nothing recorded.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert list(cdn.HlsReader(cdn.session(), f"{tls_origin.url}/v/index.m3u8")) == []
