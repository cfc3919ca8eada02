"""The fake CDN as strict as the real one (strict.py's cdn_* rules): each refusal shown to the
old form (python-requests' defaults, an expired or unsigned URL, iter_content on a
close-delimited body, a reconnect that keeps both copies of a GOP), the way that passes, and the
old form passing again with the rule off.

Reference: /work/shared/reference/bilibili-2026.md "Live rooms and the stream CDN".
"""

from __future__ import annotations

import io
import socket
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from recorder import flv
from tests.fakebili.server import FakeBilibili
from tests.fakebili.test_hls import BROWSER, cdn_get, parse, play_info

TIMEOUT = 5
ROOM = 23058


def stream_urls(fake: FakeBilibili) -> dict[tuple[str, str], str]:
    """(format, CDN host) → URL, as play info lists them."""
    urls = {}
    for stream in play_info(fake)["playurl_info"]["playurl"]["stream"]:
        for fmt in stream["format"]:
            codec = fmt["codec"][0]
            for info in codec["url_info"]:
                host = parse_qs(info["extra"])["cdn"][0]
                url = info["host"] + codec["base_url"] + info["extra"]
                urls[fmt["format_name"], host] = url
    return urls


def go_live(fake: FakeBilibili, **stream: Any) -> dict[tuple[str, str], str]:
    fake.set_live(ROOM, 1)
    fake.set_stream(ROOM, speed=0, **stream)
    return stream_urls(fake)


def status(url: str, **kwargs: Any) -> int:
    """The CDN's answer to a GET (a stream's body is not read)."""
    with requests.get(url, stream=True, timeout=TIMEOUT, **kwargs) as r:
        if "Content-Length" in r.headers:
            r.content  # noqa: B018 (read, so that closing does not reset the connection)
        return r.status_code


def hls_urls(urls: dict[tuple[str, str], str]) -> dict[str, str]:
    """Each kind of HLS request: the playlists (signed URLs) and what they list (no query)."""
    found = {}
    for kind in ("ts", "fmp4"):
        url = urls[kind, "cn-gotcha01"]
        listed = parse(cdn_get(url).text)
        found[f"{kind} playlist"] = url
        found[f"{kind} segment"] = urljoin(url, listed.segments[0][2])
        if listed.init:
            found["fmp4 init"] = urljoin(url, listed.init)
    return found


def body(url: str, limit: int = 0) -> bytes:
    """A stream body as far as it comes: to its end, to a cut, or to `limit` bytes."""
    out = bytearray()
    with requests.get(url, headers=BROWSER, stream=True, timeout=TIMEOUT) as r:
        assert r.status_code == 200
        try:
            for chunk in r.iter_content(chunk_size=None):
                out += chunk
                if limit and len(out) >= limit:
                    break
        except requests.exceptions.ChunkedEncodingError:
            pass  # cut mid-body
    return bytes(out)


def frames(data: bytes) -> list[flv.Tag]:
    """The whole audio and video frames of an FLV body (read by the recorder's reader)."""
    return [
        tag
        for tag in flv.FlvReader(io.BytesIO(data))
        if not tag.is_script and not tag.is_sequence_header
    ]


def last_gop(tags: list[flv.Tag]) -> list[flv.Tag]:
    start = max(i for i, tag in enumerate(tags) if tag.is_keyframe)
    return tags[start:]


# cdn_headers


def test_every_cdn_request_needs_a_browser_user_agent_and_a_live_referer(
    fake: FakeBilibili,
) -> None:
    urls = go_live(fake)
    targets = {"flv": urls["flv", "cn-gotcha01"], **hls_urls(urls)}
    assert len(targets) == 6
    python_requests = {name: status(url) for name, url in targets.items()}
    assert python_requests == dict.fromkeys(targets, 403)
    no_referer = {"User-Agent": BROWSER["User-Agent"]}
    assert {status(url, headers=no_referer) for url in targets.values()} == {403}
    assert {status(url, headers=BROWSER) for url in targets.values()} == {200}
    assert fake.cdn_log()["refused_headers"] == 12

    fake.set_rules(cdn_headers=False)
    assert {status(url) for url in targets.values()} == {200}


# cdn_expires


def test_a_play_url_expires_and_a_fresh_one_plays(fake: FakeBilibili) -> None:
    fake.set_cdn(stream_ttl=60)
    urls = go_live(fake)
    flv_url, playlist = urls["flv", "cn-gotcha01"], urls["ts", "cn-gotcha04"]
    segment = hls_urls(urls)["ts segment"]
    assert status(flv_url, headers=BROWSER) == status(playlist, headers=BROWSER) == 200

    fake.advance_clock(61)
    assert status(flv_url, headers=BROWSER) == 403
    assert status(playlist, headers=BROWSER) == 403
    assert fake.cdn_log()["refused_expired"] == 2
    # The playlist's segments carry no query: nothing to expire.
    assert status(segment, headers=BROWSER) == 200
    fresh = stream_urls(fake)
    assert status(fresh["flv", "cn-gotcha01"], headers=BROWSER) == 200
    assert status(fresh["ts", "cn-gotcha04"], headers=BROWSER) == 200

    fake.set_rules(cdn_expires=False)
    assert status(flv_url, headers=BROWSER) == 200
    assert status(playlist, headers=BROWSER) == 200


def test_a_url_without_its_sign_is_refused_and_a_forged_sign_always(
    fake: FakeBilibili,
) -> None:
    url = go_live(fake)["flv", "cn-gotcha01"]
    bare = url.partition("?")[0]
    forged = url.replace("sign=", "sign=0")
    assert status(bare, headers=BROWSER) == 403
    assert status(forged, headers=BROWSER) == 403
    assert fake.cdn_log()["refused_unsigned"] == 1
    assert fake.cdn_log()["refused_sign"] == 1

    fake.set_rules(cdn_expires=False)
    assert status(bare, headers=BROWSER) == 200
    assert status(forged, headers=BROWSER) == 403


def test_the_stream_ttl_and_the_hosts_of_play_info_can_be_set(
    fake: FakeBilibili,
) -> None:
    def post(**body: Any) -> requests.Response:
        return requests.post(fake.url + "/_fake/cdn", json=body, timeout=TIMEOUT)

    fake.set_live(ROOM, 1)
    assert post(stream_ttl=5, hosts=["cn-gotcha04"]).json()["stream_ttl"] == 5
    codec = play_info(fake)["playurl_info"]["playurl"]["stream"][0]["format"][0][
        "codec"
    ][0]
    [info] = codec["url_info"]
    extra = parse_qs(info["extra"])
    assert (extra["cdn"], info["stream_ttl"]) == (["cn-gotcha04"], 5)
    now = fake.snapshot()["now"]
    assert now < int(extra["expires"][0]) <= now + 5

    assert post(stream_ttl=0).status_code == 400
    assert post(hosts=["cn-gotcha99"]).status_code == 400
    assert post(hosts=[]).status_code == 400
    fake.reset()
    assert requests.get(fake.url + "/_fake/cdn", timeout=TIMEOUT).json() == {
        "stream_ttl": 3600,
        "hosts": ["cn-gotcha01", "cn-gotcha04"],
    }


# cdn_close_delimited


def raw_get(url: str) -> tuple[bytes, bytes]:
    """The response's head and its body read to the connection's end, over a plain socket."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), TIMEOUT) as sock:
        request = (
            f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"User-Agent: {BROWSER['User-Agent']}\r\nReferer: {BROWSER['Referer']}\r\n\r\n"
        )
        sock.sendall(request.encode())
        data = bytearray()
        while block := sock.recv(65536):
            data += block
    head, _, rest = bytes(data).partition(b"\r\n\r\n")
    return head, rest


def test_cn_gotcha04_sends_flv_close_delimited(fake: FakeBilibili) -> None:
    urls = go_live(fake, offline_after_seconds=3)
    head, rest = raw_get(urls["flv", "cn-gotcha04"])
    lines = head.decode().lower().split("\r\n")
    assert lines[0] == "http/1.1 200 ok"
    assert "connection: close" in lines
    assert not [
        line
        for line in lines
        if line.startswith(("content-length", "transfer-encoding"))
    ]
    # The body is the FLV itself, no chunk framing, and ends after the broadcast's last tag.
    tags = frames(rest)
    assert rest[:3] == b"FLV"
    assert 2800 <= tags[-1].timestamp - tags[0].timestamp <= 3000

    fake.set_live(ROOM, 1)
    fake.set_stream(ROOM, offline_after_seconds=1)
    head, _ = raw_get(stream_urls(fake)["flv", "cn-gotcha01"])
    assert b"transfer-encoding: chunked" in head.lower()

    fake.set_rules(cdn_close_delimited=False)
    fake.set_live(ROOM, 1)
    fake.set_stream(ROOM, offline_after_seconds=1)
    head, _ = raw_get(stream_urls(fake)["flv", "cn-gotcha04"])
    assert b"transfer-encoding: chunked" in head.lower()


@pytest.mark.parametrize("close_delimited", [True, False])
def test_iter_content_holds_back_a_close_delimited_body(
    fake: FakeBilibili, close_delimited: bool
) -> None:
    """What a recorder reading with requests' iter_content(chunk_size=None) gets before a stall:
    nothing at all when the body is close-delimited, everything sent when it is chunked."""
    fake.set_rules(cdn_close_delimited=close_delimited)
    url = go_live(fake, stall_after_bytes=100_000)["flv", "cn-gotcha04"]
    got = 0
    with (
        requests.get(url, headers=BROWSER, stream=True, timeout=(TIMEOUT, 1)) as r,
        pytest.raises(requests.ConnectionError),
    ):
        for chunk in r.iter_content(chunk_size=None):
            got += len(chunk)
    assert got == (0 if close_delimited else 100_000)
    fake.set_stream(ROOM, clear=True)


# cdn_gop_resend


@pytest.mark.parametrize("resend", [True, False])
def test_a_new_pull_starts_with_the_last_gop_the_previous_one_sent(
    fake: FakeBilibili, resend: bool
) -> None:
    fake.set_rules(cdn_gop_resend=resend)
    url = go_live(fake, drop_after_seconds=2.5)["flv", "cn-gotcha01"]
    first = frames(body(url))
    assert 2400 <= first[-1].timestamp - first[0].timestamp <= 2500
    gop = last_gop(first)
    assert len(gop) > 5

    second = frames(body(url, limit=200_000))
    if resend:
        assert second[: len(gop)] == gop  # the same frames, timestamps and bytes
        assert fake.cdn_log()["resent"] == 1
        new = second[len(gop)]
    else:
        assert "resent" not in fake.cdn_log()
        new = second[0]
    # Then the broadcast goes on where the first pull left it.
    sent = {(tag.kind, tag.timestamp) for tag in first}
    assert (new.kind, new.timestamp) not in sent
    assert 0 < new.timestamp - first[-1].timestamp <= 50
