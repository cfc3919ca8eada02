"""The fake's HLS live streams over real HTTP: found through play info, read as a client would."""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from tests import media
from tests.fakebili import flvloop, hls
from tests.fakebili.server import FakeBilibili
from tests.fakebili.signing import BROWSER_HEADERS, wbi_signed
from tests.fakebili.wire import ControlError

TIMEOUT = 5
ROOM = 23058
PLAY_INFO = "/xlive/web-room/v2/index/getRoomPlayInfo"
PARAMS = {"protocol": "0,1", "format": "0,1,2", "codec": "0,1", "qn": 10000}
# What the CDN wants of every request (strict rule cdn_headers), as a browser sends it.
BROWSER = BROWSER_HEADERS


def play_info(fake: FakeBilibili, room_id: int = ROOM, **params: Any) -> Any:
    """getRoomPlayInfo's data, WBI-signed with the keys nav serves (strict rule live_wbi)."""
    query = {"room_id": room_id, "platform": "web", **PARAMS, **params}
    signed = wbi_signed(fake, {**query, "web_location": "444.8"})
    answer = requests.get(
        fake.url + PLAY_INFO, params=signed, headers=BROWSER, timeout=TIMEOUT
    ).json()
    assert answer["code"] == 0, answer
    return answer["data"]


def cdn_get(url: str, **kwargs: Any) -> requests.Response:
    """A CDN request as a browser sends it."""
    return requests.get(url, headers=BROWSER, timeout=TIMEOUT, **kwargs)


def hls_formats(fake: FakeBilibili, room_id: int = ROOM) -> dict[str, str]:
    """format name → playlist URL (first CDN), as play info offers them."""
    streams = play_info(fake, room_id)["playurl_info"]["playurl"]["stream"]
    urls = {}
    for stream in streams:
        if stream["protocol_name"] == "http_hls":
            for fmt in stream["format"]:
                codec = fmt["codec"][0]
                url_info = codec["url_info"][0]
                urls[fmt["format_name"]] = (
                    url_info["host"] + codec["base_url"] + url_info["extra"]
                )
    return urls


def go_live(fake: FakeBilibili, kind: str, speed: float = 0) -> str:
    # HLS first: the first time, ffmpeg cuts the clip then, before the broadcast's clock runs.
    fake.set_hls_only(ROOM, True)
    fake.set_stream(ROOM, speed=speed)
    fake.set_live(ROOM, 1)
    return hls_formats(fake)[kind]


# Reading HLS, written out here rather than taken from the fake


@dataclass
class Playlist:
    text: str
    sequence: int
    init: str | None
    segments: list[tuple[int, float, str]]  # sequence number, duration, URI


def parse(text: str) -> Playlist:
    assert text.startswith("#EXTM3U\n")
    sequence, init, segments = 0, None, []
    number, duration = None, None
    for line in text.splitlines():
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            sequence = number = int(line.split(":")[1])
        elif line.startswith("#EXT-X-MAP:"):
            init = line.split('URI="')[1].split('"')[0]
        elif line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",")[0])
        elif line and not line.startswith("#"):
            assert number is not None and duration is not None
            segments.append((number, duration, line))
            number, duration = number + 1, None
    return Playlist(text, sequence, init, segments)


def playlist(url: str) -> Playlist:
    r = cdn_get(url)
    assert r.status_code == 200, r.status_code
    assert r.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    return parse(r.text)


def fetch(url: str) -> bytes:
    r = cdn_get(url)
    assert r.status_code == 200, (url, r.status_code)
    return r.content


def record(url: str, count: int, out: Path) -> list[tuple[int, float, str]]:
    """What a recorder does: poll the playlist, fetch each new segment once, in order (URIs
    resolved against the playlist, so without its query), until `count` are written to `out`."""
    got: list[tuple[int, float, str]] = []
    deadline = time.monotonic() + 20
    with out.open("wb") as file:
        while len(got) < count:
            assert time.monotonic() < deadline, "timed out"
            listed = playlist(url)
            if listed.init and not got:
                file.write(fetch(urljoin(url, listed.init)))
            for segment in listed.segments:
                if len(got) < count and (not got or segment[0] > got[-1][0]):
                    file.write(fetch(urljoin(url, segment[2])))
                    got.append(segment)
            time.sleep(0.02)
    return got


def remux(path: Path) -> Path:
    """fMP4 fragments to Matroska, whose duration ffprobe reads as the span of the frames (an
    MP4's counts from 0)."""
    mkv = path.with_suffix(".mkv")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(path), "-c", "copy", str(mkv)],
        check=True,
        timeout=60,
    )
    return mkv


# Play info and controls


def test_play_info_offers_the_rooms_hls_formats(fake: FakeBilibili) -> None:
    fake.set_live(ROOM, 1)
    urls = hls_formats(fake)
    assert list(urls) == ["ts", "fmp4"]
    assert urls["ts"].split("?")[0].endswith(".m3u8")
    assert urls["fmp4"].split("?")[0].endswith("/index.m3u8")

    assert fake.set_hls(ROOM, formats="fmp4")["hls_formats"] == "fmp4"
    assert list(hls_formats(fake)) == ["fmp4"]
    # The format no longer offered is not served either.
    assert cdn_get(urls["ts"]).status_code == 404
    fake.add_room(ROOM, hls_formats=["fmp4", "ts"])
    assert list(hls_formats(fake)) == ["ts", "fmp4"]
    with pytest.raises(ControlError):
        fake.set_hls(ROOM, formats="flv")


def test_an_hls_only_room_serves_hls_and_no_flv(fake: FakeBilibili) -> None:
    url = go_live(fake, "ts")
    assert playlist(url).segments
    info = play_info(fake, protocol="0")
    assert info["playurl_info"]["playurl"]["stream"] == []


def test_the_http_controls_set_formats_and_faults(fake: FakeBilibili) -> None:
    def post(path: str, **body: Any) -> requests.Response:
        return requests.post(fake.url + path, json=body, timeout=TIMEOUT)

    room = post("/_fake/rooms", room_id=4000, hls_formats="ts").json()
    assert room["hls_formats"] == "ts"
    room = post(
        "/_fake/rooms/4000/hls", formats=["fmp4"], fail_segments=2, status=503
    ).json()
    assert (room["hls_formats"], room["hls_fail_segments"]) == ("fmp4", 2)
    assert room["hls_fail_status"] == 503
    assert post("/_fake/rooms/4000/hls", clear=True).json()["hls_fail_segments"] == 0
    assert post("/_fake/rooms/4000/hls", formats="mp4").status_code == 400
    assert post("/_fake/rooms/4000/hls", status=200).status_code == 400
    assert post("/_fake/rooms", room_id=4001, hls_formats="").status_code == 400


# A client records


@pytest.mark.parametrize("kind", ["ts", "fmp4"])
def test_a_client_records_real_h264_and_aac(
    fake: FakeBilibili, kind: str, tmp_path: Path
) -> None:
    url = go_live(fake, kind)
    first = playlist(url)
    assert "#EXT-X-ENDLIST" not in first.text
    assert len(first.segments) == hls.WINDOW
    assert (first.init is not None) == (kind == "fmp4")
    if kind == "fmp4":
        assert first.init == f"h{fake.rooms()[0]['live_start']}.m4s"

    # Unpaced (speed 0): reading the listed segments brings the next ones.
    out = tmp_path / f"recording.{'ts' if kind == 'ts' else 'mp4'}"
    got = record(url, 15, out)
    numbers = [segment[0] for segment in got]
    assert numbers == list(range(first.sequence, first.sequence + 15))
    suffix = f"-{numbers[0]}.ts" if kind == "ts" else f"/{numbers[0]}.m4s"
    assert urljoin(url, got[0][2]).endswith(suffix)

    probe = media.probe(out)
    assert probe.streams == ["h264", "aac"]
    assert probe.decode_errors == ""
    listed = sum(segment[1] for segment in got)
    assert 14.9 <= listed <= 15.1
    if kind == "fmp4":
        probe = media.probe(remux(out), decode=False)
    assert abs(probe.duration - listed) < 0.1


def test_the_window_slides_with_time(fake: FakeBilibili) -> None:
    url = go_live(fake, "fmp4", speed=1)
    assert len(playlist(url).segments) < hls.WINDOW

    fake.advance_clock(10)
    before = fake.state.now()
    ten = playlist(url)
    after = fake.state.now()
    assert len(ten.segments) == hls.WINDOW
    # A segment's number is the unix second it began at real pace, so the newest one listed
    # began a second or so before the fake's clock. (Not measured from live_start: that is
    # unique per broadcast, so a room set live again within the same second starts a second
    # ahead of the clock; the test once failed so.)
    assert before - 3 <= ten.segments[-1][0] <= after
    assert [s[0] for s in ten.segments] == list(
        range(ten.sequence, ten.sequence + hls.WINDOW)
    )
    fetch(urljoin(url, ten.segments[0][2]))
    ahead = urljoin(url, f"{ten.segments[-1][0] + 3}.m4s")
    assert cdn_get(ahead).status_code == 404

    # Twice as fast from here: 5 s more bring 10 segments.
    fake.set_stream(ROOM, speed=2)
    fake.advance_clock(5)
    later = playlist(url)
    assert 10 <= later.sequence - ten.sequence <= 12
    assert later.init == ten.init

    fake.advance_clock(hls.KEEP)
    old = urljoin(url, ten.segments[0][2])
    assert cdn_get(old).status_code == 404


def test_past_the_end_of_the_media_it_wraps_after_a_discontinuity(
    fake: FakeBilibili,
) -> None:
    url = go_live(fake, "ts", speed=1)
    start = fake.rooms()[0]["live_start"]
    ts = hls.load(flvloop.make_clip(), "ts")
    n = len(ts.segments)

    # 3 s past the end (2 would leave the wrap at the window's edge when live_start is a
    # second ahead of the clock: see test_the_window_slides_with_time).
    fake.advance_clock(ts.length + 3)
    text = playlist(url).text
    assert "#EXT-X-DISCONTINUITY-SEQUENCE" not in text
    lines = text.splitlines()
    wrapped = next(
        i for i, line in enumerate(lines) if line.endswith(f"-{start + n}.ts")
    )
    assert lines[wrapped - 2] == "#EXT-X-DISCONTINUITY"
    assert text.count("#EXT-X-DISCONTINUITY\n") == 1
    # The same media as the broadcast's first segment.
    assert fetch(urljoin(url, lines[wrapped])) == ts.segments[0].path.read_bytes()

    fake.advance_clock(hls.WINDOW + 2)
    later = playlist(url).text
    assert "#EXT-X-DISCONTINUITY-SEQUENCE:1\n" in later
    assert "#EXT-X-DISCONTINUITY\n" not in later


# Errors


def test_an_offline_room_answers_404(fake: FakeBilibili) -> None:
    url = go_live(fake, "fmp4")
    listed = playlist(url)
    segment = urljoin(url, listed.segments[0][2])
    init = urljoin(url, listed.init or "")
    assert cdn_get(segment).status_code == 200
    fake.set_live(ROOM, 0)
    for address in (url, segment, init):
        assert cdn_get(address).status_code == 404


def test_signs_are_checked_and_segments_need_no_query(fake: FakeBilibili) -> None:
    url = go_live(fake, "ts")
    query = url.partition("?")[2]
    bad = url.replace("sign=", "sign=0")
    assert cdn_get(bad).status_code == 403
    segment = urljoin(url, playlist(url).segments[0][2])
    assert cdn_get(f"{segment}?{query}").status_code == 200
    bad_segment = f"{segment}?{query.replace('sign=', 'sign=0')}"
    assert cdn_get(bad_segment).status_code == 403
    # The playlist's URIs are relative and carry no query, as Bilibili's do.
    assert cdn_get(segment).status_code == 200


def test_hls_faults_spoil_the_next_requests_then_pass(fake: FakeBilibili) -> None:
    url = go_live(fake, "fmp4")
    fake.set_hls(ROOM, fail_playlists=1, fail_segments=2, status=500)
    assert cdn_get(url).status_code == 500
    listed = playlist(url)
    # Init segments are spared.
    fetch(urljoin(url, listed.init or ""))
    segment = urljoin(url, listed.segments[0][2])
    statuses = [cdn_get(segment).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]


def test_the_media_is_made_once_for_threads_at_once() -> None:
    clip = flvloop.make_clip()
    with ThreadPoolExecutor(2) as pool:
        made = list(pool.map(lambda kind: hls.load(clip, kind), ["fmp4", "fmp4"]))
    assert made[0] is made[1]
    assert made[0].init is not None and made[0].init.exists()
    assert made[0].target_duration == 1
