"""The fake's live rooms over real HTTP: room endpoints, play info, and the FLV streams."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests import media
from tests.fakebili.server import FakeBilibili
from tests.fakebili.signing import BROWSER_HEADERS, wbi_signed

TIMEOUT = 5
ROOM, SHORT_ID, UID = 23058, 3, 11153765
PLAY_INFO = "/xlive/web-room/v2/index/getRoomPlayInfo"
FLV_PARAMS = {"protocol": "0,1", "format": "0,1,2", "codec": "0,1", "qn": 10000}


def get(fake: FakeBilibili, path: str, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("timeout", TIMEOUT)
    return requests.get(fake.url + path, **kwargs)


def play_info(fake: FakeBilibili, room_id: int = ROOM, **kwargs: Any) -> dict[str, Any]:
    """WBI-signed, as the site wants (rule live_wbi)."""
    params = {
        "room_id": room_id,
        "platform": "web",
        **FLV_PARAMS,
        **kwargs.pop("params", {}),
    }
    return get(fake, PLAY_INFO, params=wbi_signed(fake, params), **kwargs).json()


def cdn_get(url: str, **kwargs: Any) -> requests.Response:
    """A CDN pull with the browser headers the CDN wants (rule cdn_headers)."""
    kwargs.setdefault("timeout", TIMEOUT)
    return requests.get(url, headers=BROWSER_HEADERS, **kwargs)


def flv_codec(info: dict[str, Any]) -> dict[str, Any]:
    stream = info["data"]["playurl_info"]["playurl"]["stream"][0]
    assert (stream["protocol_name"], stream["format"][0]["format_name"]) == (
        "http_stream",
        "flv",
    )
    return stream["format"][0]["codec"][0]


def flv_url(fake: FakeBilibili, host: int = 0) -> str:
    codec = flv_codec(play_info(fake))
    url_info = codec["url_info"][host]
    return url_info["host"] + codec["base_url"] + url_info["extra"]


def go_live(fake: FakeBilibili, speed: float = 0, **stream: Any) -> str:
    fake.set_live(ROOM, 1)
    fake.set_stream(ROOM, speed=speed, **stream)
    return flv_url(fake)


def wait_for(condition: Any, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# Reading FLV, written out here rather than taken from the fake


Tag = tuple[int, int, bytes]  # type, timestamp, data


def is_frame(tag: Tag) -> bool:
    """Audio or video, not a sequence header (AVC/AAC packet type 0)."""
    return tag[0] in (8, 9) and tag[2][1] != 0


def read_tags(read: Any, until_ms: int, out: bytearray | None = None) -> list[Tag]:
    """Tags from `read(n)` up to `until_ms` past the first frame (all bytes kept in `out`)."""
    head = read(13)
    assert head[:3] == b"FLV"
    if out is not None:
        out += head
    tags: list[Tag] = []
    first_ms = None
    while first_ms is None or tags[-1][1] - first_ms < until_ms:
        header = read(11)
        size = int.from_bytes(header[1:4], "big")
        rest = read(size + 4)
        timestamp = int.from_bytes(header[4:7], "big") | header[7] << 24
        tags.append((header[0], timestamp, rest[:size]))
        if first_ms is None and is_frame(tags[-1]):
            first_ms = timestamp
        if out is not None:
            out += header + rest
    return tags


def first_frame_ms(tags: list[Tag]) -> int:
    return next(tag[1] for tag in tags if is_frame(tag))


def stream_tags(url: str, until_ms: int, out: bytearray | None = None) -> list[Tag]:
    with cdn_get(url, stream=True) as r:
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "video/x-flv"
        return read_tags(r.raw.read, until_ms, out)


def media_timestamps(tags: list[Tag], kind: int) -> list[int]:
    """Timestamps of the frames of one kind (8 audio, 9 video), sequence headers left out."""
    return [tag[1] for tag in tags if tag[0] == kind and is_frame(tag)]


def sequence_headers(tags: list[Tag]) -> list[Tag]:
    return [tag for tag in tags if tag[0] in (8, 9) and not is_frame(tag)]


def split_tags(body: bytes) -> tuple[list[Tag], bytes]:
    """A whole FLV body's complete tags, and what follows the last (a cut-off tag, or b"")."""
    assert body[:3] == b"FLV"
    at, tags = 13, []
    while len(body) - at >= 11:
        size = int.from_bytes(body[at + 1 : at + 4], "big")
        if len(body) - at < 11 + size + 4:
            break
        timestamp = int.from_bytes(body[at + 4 : at + 7], "big") | body[at + 7] << 24
        tags.append((body[at], timestamp, body[at + 11 : at + 11 + size]))
        at += 11 + size + 4
    return tags, body[at:]


def frames_span_ms(tags: list[Tag]) -> int:
    """From the first frame's timestamp to the last's."""
    frames = [tag[1] for tag in tags if is_frame(tag)]
    return frames[-1] - frames[0]


def live_status(fake: FakeBilibili) -> int:
    init = get(fake, "/room/v1/Room/room_init", params={"id": ROOM}).json()
    return init["data"]["live_status"]


class RawStream:
    """A stream request over a plain socket, its chunked body decoded here: a read timeout on a
    plain socket leaves the connection usable (requests' does not), and the end of the body
    (last chunk) is told apart from a cut connection."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), TIMEOUT)
        target = f"{parts.path}?{parts.query}"
        self.sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"User-Agent: {BROWSER_HEADERS['User-Agent']}\r\n"
            f"Referer: {BROWSER_HEADERS['Referer']}\r\n\r\n".encode()
        )
        self.raw = b""
        head = self._until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        assert b"transfer-encoding: chunked" in head.lower()
        self.received = 0
        self.body = bytearray()  # every chunk read so far
        self.ended = False  # the last chunk came

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.raw += data

    def _until(self, separator: bytes) -> bytes:
        while separator not in self.raw:
            self._fill()
        line, self.raw = self.raw.split(separator, 1)
        return line

    def read_chunk(self) -> bytes:
        size = int(self._until(b"\r\n"), 16)
        while len(self.raw) < size + 2:
            self._fill()
        chunk, self.raw = self.raw[:size], self.raw[size + 2 :]
        self.ended = size == 0
        self.received += size
        self.body += chunk
        return chunk

    def read_at_least(self, n: int) -> None:
        while self.received < n:
            self.read_chunk()

    def read_to_end(self) -> None:
        """Read until the last chunk (EOFError if the connection is cut first)."""
        while not self.ended:
            self.read_chunk()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw_streams() -> Iterator[list[RawStream]]:
    streams: list[RawStream] = []
    yield streams
    for stream in streams:
        stream.close()


# §6.1–§6.3 Rooms


def test_room_init_turns_a_short_id_into_the_room_id(fake: FakeBilibili) -> None:
    r = get(fake, "/room/v1/Room/room_init", params={"id": SHORT_ID}).json()
    assert (r["code"], r["msg"], r["message"]) == (0, "ok", "ok")
    data = r["data"]
    assert (data["room_id"], data["short_id"], data["uid"]) == (ROOM, SHORT_ID, UID)
    assert (data["live_status"], data["live_time"]) == (0, -62170012800)
    assert get(fake, "/room/v1/Room/room_init", params={"id": ROOM}).json() == r

    missing = get(fake, "/room/v1/Room/room_init", params={"id": 999}).json()
    assert (missing["code"], missing["msg"]) == (60004, "直播间不存在")


def test_live_time_holds_for_a_broadcast_and_changes_with_the_next(
    fake: FakeBilibili,
) -> None:
    def live_times() -> tuple[int, int, str]:
        init = get(fake, "/room/v1/Room/room_init", params={"id": SHORT_ID}).json()
        by_room = get(
            fake,
            "/xlive/web-room/v1/index/getInfoByRoom",
            params=wbi_signed(fake, {"room_id": ROOM, "web_location": "444.8"}),
        ).json()
        info = get(fake, "/room/v1/Room/get_info", params={"room_id": ROOM}).json()
        start = by_room["data"]["room_info"]["live_start_time"]
        assert init["data"]["live_time"] in (start, -62170012800)
        return init["data"]["live_time"], start, info["data"]["live_time"]

    assert live_times() == (-62170012800, 0, "0000-00-00 00:00:00")
    fake.set_live(ROOM, 1)
    first = live_times()
    assert first[0] > 0 and first[2] != "0000-00-00 00:00:00"
    fake.set_live(ROOM, 1)  # already live: the same broadcast
    assert live_times() == first

    fake.set_live(ROOM, 2)
    assert get(fake, "/room/v1/Room/room_init", params={"id": ROOM}).json()["data"][
        "live_status"
    ] == (2)
    fake.set_live(ROOM, 0)
    fake.set_live(ROOM, 1)
    second = live_times()
    assert second[0] > first[0]


def test_room_info_and_anchor_describe_the_room(fake: FakeBilibili) -> None:
    fake.add_room(
        777, short_id=77, uid=4242, uname="主播甲", title="今晚唱歌", area_name="唱见"
    )
    info = get(fake, "/room/v1/Room/get_info", params={"room_id": 77}).json()
    assert (info["code"], info["msg"], info["message"]) == (0, "ok", "ok")
    assert info["data"]["title"] == "今晚唱歌"
    assert info["data"]["room_id"] == 777
    assert requests.get(info["data"]["user_cover"], timeout=TIMEOUT).ok
    assert (
        get(fake, "/room/v1/Room/get_info", params={"room_id": 1}).json()["code"] == 1
    )

    by_room = get(
        fake,
        "/xlive/web-room/v1/index/getInfoByRoom",
        params=wbi_signed(fake, {"room_id": 777}),
    ).json()
    assert by_room["code"] == 0 and by_room["ttl"] == 1
    assert by_room["data"]["room_info"]["title"] == "今晚唱歌"
    assert by_room["data"]["room_info"]["area_name"] == "唱见"
    assert by_room["data"]["anchor_info"]["base_info"]["uname"] == "主播甲"

    anchor = get(
        fake, "/live_user/v1/UserInfo/get_anchor_in_room", params={"roomid": 777}
    ).json()
    assert (anchor["code"], anchor["msg"]) == (0, "success")
    assert anchor["data"]["info"]["uid"] == 4242
    assert anchor["data"]["info"]["uname"] == "主播甲"
    assert anchor["data"]["level"]["master_level"]["level"] > 0
    missing = get(
        fake, "/live_user/v1/UserInfo/get_anchor_in_room", params={"roomid": 1}
    ).json()
    assert missing["code"] == 0


# §6.4 Play info


def test_play_info_is_null_unless_live(fake: FakeBilibili) -> None:
    r = play_info(fake)
    assert (r["code"], r["message"], r["ttl"]) == (0, "0", 1)
    assert r["data"]["live_status"] == 0 and r["data"]["playurl_info"] is None
    fake.set_live(ROOM, 2)
    assert play_info(fake)["data"]["playurl_info"] is None


def test_play_info_offers_flv_on_two_cdns_and_source_quality_to_logged_in(
    fake: FakeBilibili,
) -> None:
    fake.set_live(ROOM, 1)
    r = play_info(fake)
    data = r["data"]
    assert (data["room_id"], data["short_id"], data["uid"]) == (ROOM, SHORT_ID, UID)
    assert data["live_status"] == 1 and data["live_time"] > 0
    playurl = data["playurl_info"]["playurl"]
    assert playurl["cid"] == ROOM
    assert {d["qn"]: d["desc"] for d in playurl["g_qn_desc"]}[10000] == "原画"
    assert [s["protocol_name"] for s in playurl["stream"]] == [
        "http_stream",
        "http_hls",
    ]
    hls = [f["format_name"] for f in playurl["stream"][1]["format"]]
    assert hls == ["ts", "fmp4"]

    codec = flv_codec(r)
    assert codec["codec_name"] == "avc"
    # Logged out: capped at 250 (qn_cap), though every quality is listed, best first.
    assert (codec["current_qn"], codec["accept_qn"]) == (250, [10000, 400, 250, 150])
    assert codec["base_url"].startswith("/live-bvc/") and codec["base_url"].endswith(
        ".flv?"
    )
    assert f"/live_{UID}_" in codec["base_url"]
    cdns = []
    for url_info in codec["url_info"]:
        assert url_info["host"] == fake.url
        extra = parse_qs(url_info["extra"])
        assert {"expires", "qn", "cdn", "sign"} <= set(extra)
        cdns.append(extra["cdn"][0])
    assert len(set(cdns)) == 2

    login = fake.login()
    cookies = {c["name"]: c["value"] for c in login["cookie_info"]["cookies"]}
    codec = flv_codec(play_info(fake, cookies=cookies))
    assert codec["current_qn"] == 10000
    low = flv_codec(play_info(fake, params={"qn": 150}, cookies=cookies))
    assert low["current_qn"] == 150

    for host in (0, 1):
        with cdn_get(flv_url(fake, host), stream=True) as s:
            assert s.status_code == 200 and s.raw.read(3) == b"FLV"


def test_an_hls_only_room_offers_no_flv(fake: FakeBilibili) -> None:
    url = go_live(fake)
    fake.set_hls_only(ROOM, True)
    stream = play_info(fake)["data"]["playurl_info"]["playurl"]["stream"]
    assert [s["protocol_name"] for s in stream] == ["http_hls"]
    codec = stream[0]["format"][0]["codec"][0]
    assert codec["base_url"].endswith(".m3u8?")
    m3u8 = (
        codec["url_info"][0]["host"] + codec["base_url"] + codec["url_info"][0]["extra"]
    )
    # Served by hls.py (tests/fakebili/test_hls.py).
    r = cdn_get(m3u8)
    assert (r.status_code, r.text[:7]) == (200, "#EXTM3U")
    assert cdn_get(url).status_code == 404


def test_stream_urls_are_checked(fake: FakeBilibili) -> None:
    url = go_live(fake)
    base, _, query = url.partition("?")
    unknown = base.replace(f"live_{UID}_", "live_1_")
    assert cdn_get(f"{unknown}?{query}").status_code == 404
    bad_sign = url.replace("sign=", "sign=0")
    assert cdn_get(bad_sign).status_code == 403
    # No sign at all: refused (cdn_expires); let through with the rule off.
    assert cdn_get(base + "?").status_code == 403
    fake.set_rules(cdn_expires=False)
    with cdn_get(base + "?", stream=True) as r:
        assert r.status_code == 200
    fake.set_live(ROOM, 0)
    assert cdn_get(url).status_code == 404


def test_faults_spoil_stream_requests_too(fake: FakeBilibili) -> None:
    url = go_live(fake)
    fake.inject("/live-bvc/*", "http_status", status=503)
    assert cdn_get(url).status_code == 503
    with cdn_get(url, stream=True) as r:
        assert r.status_code == 200


# The stream


def test_the_stream_is_real_h264_and_aac(fake: FakeBilibili, tmp_path: Path) -> None:
    url = go_live(fake, speed=20)
    out = bytearray()
    started = time.monotonic()
    tags = stream_tags(url, 3000, out)
    # Paced: 3 s of stream at 20× take at least 0.15 s.
    assert time.monotonic() - started >= 0.14
    assert tags[0][0] == 18 and b"onMetaData" in tags[0][2]
    assert [t[0] for t in sequence_headers(tags)] == [9, 8]
    path = tmp_path / "stream.flv"
    path.write_bytes(out)
    probe = media.probe(path)
    assert probe.streams == ["h264", "aac"]
    assert probe.decode_errors == ""
    # The frames start at the broadcast's clock, not at 0.
    assert 2.5 <= probe.duration - first_frame_ms(tags) / 1000 <= 3.5


def test_real_time_is_the_default_pace(fake: FakeBilibili) -> None:
    fake.set_live(ROOM, 1)
    started = time.monotonic()
    stream_tags(flv_url(fake), 1000)
    assert 0.9 <= time.monotonic() - started <= 3


def test_timestamps_run_on_across_the_loop(fake: FakeBilibili) -> None:
    url = go_live(fake)
    loop_ms = 10000  # media.clip() lasts 10 s
    tags = stream_tags(url, loop_ms + 3000)
    assert len(sequence_headers(tags)) == 2  # sent once, not at each loop
    for kind, frame_ms in ((9, 40), (8, 24)):
        timestamps = media_timestamps(tags, kind)
        steps = [b - a for a, b in zip(timestamps, timestamps[1:], strict=False)]
        # At most one frame of slack where the clip starts over.
        assert min(steps) >= 0 and max(steps) <= 2 * frame_ms, (kind, max(steps))
    assert media_timestamps(tags, 9)[-1] - first_frame_ms(tags) > loop_ms


def test_drop_after_bytes_cuts_the_connection_once(
    fake: FakeBilibili, raw_streams: list[RawStream]
) -> None:
    url = go_live(fake, drop_after_bytes=50_000)
    stream = RawStream(url)
    raw_streams.append(stream)
    with pytest.raises(EOFError):
        stream.read_to_end()
    assert stream.received == 50_000 and not stream.ended
    wait_for(lambda: fake.open_streams(ROOM) == 0)

    again = RawStream(url)
    raw_streams.append(again)
    again.read_at_least(200_000)


def test_stall_after_bytes_keeps_the_connection_open_until_cleared(
    fake: FakeBilibili, raw_streams: list[RawStream]
) -> None:
    url = go_live(fake, stall_after_bytes=30_000)
    stream = RawStream(url)
    raw_streams.append(stream)
    stream.read_at_least(30_000)
    stream.sock.settimeout(0.5)
    with pytest.raises(TimeoutError):
        stream.read_chunk()
    assert stream.received == 30_000
    assert fake.open_streams(ROOM) == 1

    fake.set_stream(ROOM, clear=True)
    stream.sock.settimeout(TIMEOUT)
    stream.read_at_least(100_000)

    # Stalled again, the stream still ends when the room goes offline.
    fake.set_stream(ROOM, stall_after_bytes=stream.received + 10_000)
    fake.set_live(ROOM, 0)
    stream.read_to_end()
    wait_for(lambda: fake.open_streams(ROOM) == 0)


def test_going_offline_ends_an_open_stream(
    fake: FakeBilibili, raw_streams: list[RawStream]
) -> None:
    url = go_live(fake, speed=1)
    stream = RawStream(url)
    raw_streams.append(stream)
    stream.read_at_least(1000)
    assert fake.open_streams(ROOM) == 1
    fake.set_live(ROOM, 0)
    stream.read_to_end()
    assert stream.ended
    wait_for(lambda: fake.open_streams(ROOM) == 0)


@pytest.mark.parametrize("speed", [0, 10])
def test_offline_after_seconds_ends_the_broadcast_at_that_stream_second(
    fake: FakeBilibili, raw_streams: list[RawStream], speed: float
) -> None:
    url = go_live(fake, speed=speed, offline_after_seconds=5)
    stream = RawStream(url)
    raw_streams.append(stream)
    stream.read_to_end()
    tags, rest = split_tags(bytes(stream.body))
    assert rest == b""  # ends after a whole tag
    assert abs(frames_span_ms(tags) - 5000) <= 200
    assert live_status(fake) == 0
    assert play_info(fake)["data"]["playurl_info"] is None
    assert fake.rooms()[0]["offline_after_seconds"] is None
    wait_for(lambda: fake.open_streams(ROOM) == 0)

    # Once: the next broadcast runs on past 5 s.
    fake.set_live(ROOM, 1)
    assert frames_span_ms(stream_tags(flv_url(fake), 7000)) >= 7000
    assert live_status(fake) == 1


def test_offline_after_seconds_is_cleared_by_clear(fake: FakeBilibili) -> None:
    url = go_live(fake, offline_after_seconds=1)
    fake.set_stream(ROOM, clear=True)
    assert frames_span_ms(stream_tags(url, 2000)) >= 2000
    assert live_status(fake) == 1


def test_drop_after_seconds_cuts_the_connection_once(
    fake: FakeBilibili, raw_streams: list[RawStream]
) -> None:
    url = go_live(fake, drop_after_seconds=3)
    stream = RawStream(url)
    raw_streams.append(stream)
    with pytest.raises(EOFError):
        stream.read_to_end()
    assert not stream.ended
    tags, rest = split_tags(bytes(stream.body))
    assert rest != b""  # cut mid-tag
    assert abs(frames_span_ms(tags) - 3000) <= 200
    wait_for(lambda: fake.open_streams(ROOM) == 0)
    assert live_status(fake) == 1

    # Once: the next stream runs on past 3 s.
    assert frames_span_ms(stream_tags(url, 5000)) >= 5000


def test_jump_ms_moves_later_timestamps(fake: FakeBilibili) -> None:
    url = go_live(fake, jump_ms=5000, at_seconds=1)
    tags = stream_tags(url, 8000)
    video = media_timestamps(tags, 9)
    steps = [b - a for a, b in zip(video, video[1:], strict=False)]
    jump = max(steps)
    assert 5000 <= jump <= 5100
    assert 900 <= video[steps.index(jump)] - first_frame_ms(tags) <= 1100
    assert sorted(steps)[-2] <= 80  # one jump only


def test_swap_clip_sends_new_sequence_headers(fake: FakeBilibili) -> None:
    url = go_live(fake, size="640x360", at_seconds=1)
    tags = stream_tags(url, 2500)
    headers = sequence_headers(tags)
    assert [t[0] for t in headers] == [9, 8, 9, 8]
    assert headers[0][2] != headers[2][2]  # another SPS/PPS
    after = tags.index(headers[3]) + 1
    first_frame = next(t for t in tags[after:] if t[0] == 9)
    assert first_frame[2][0] >> 4 == 1  # the new clip starts with a keyframe
    video = media_timestamps(tags, 9)
    assert all(0 <= b - a <= 80 for a, b in zip(video, video[1:], strict=False))
    assert fake.rooms()[0]["clip"] == str(media.clip(size="640x360"))


def test_the_http_controls_drive_the_rooms(
    fake: FakeBilibili, raw_streams: list[RawStream]
) -> None:
    def post(path: str, **body: Any) -> requests.Response:
        return requests.post(fake.url + path, json=body, timeout=TIMEOUT)

    room = post(
        "/_fake/rooms", room_id=4000, short_id=40, uid=4001, title="HTTP"
    ).json()
    assert (room["room_id"], room["live_status"], room["title"]) == (4000, 0, "HTTP")
    assert post("/_fake/rooms/4000/live", status=1).json()["live_status"] == 1
    assert post("/_fake/rooms/4000/stream", speed=0).json()["speed"] == 0
    rooms = requests.get(fake.url + "/_fake/rooms", timeout=TIMEOUT).json()["rooms"]
    assert [r["room_id"] for r in rooms] == [ROOM, 4000]

    codec = flv_codec(play_info(fake, room_id=40))
    stream = RawStream(fake.url + codec["base_url"] + codec["url_info"][0]["extra"])
    raw_streams.append(stream)
    stream.read_at_least(1000)
    streams = requests.get(fake.url + "/_fake/rooms/4000/streams", timeout=TIMEOUT)
    assert streams.json() == {"open": 1}

    assert post("/_fake/rooms/4000/hls_only").json()["hls_only"] is True
    assert post("/_fake/rooms/1/live", status=1).status_code == 404
    assert post("/_fake/rooms/4000/live", status=7).status_code == 400
    assert post("/_fake/rooms/4000/stream", speed=-1).status_code == 400
    timed = post(f"/_fake/rooms/{ROOM}/stream", offline_after_seconds=60).json()
    assert timed["offline_after_seconds"] == 60
    timed = post(f"/_fake/rooms/{ROOM}/stream", drop_after_seconds=30).json()
    assert timed["drop_after_seconds"] == 30
    cleared = post(f"/_fake/rooms/{ROOM}/stream", clear=True).json()
    assert cleared["offline_after_seconds"] is cleared["drop_after_seconds"] is None
    bad = post(f"/_fake/rooms/{ROOM}/stream", drop_after_seconds=-1)
    assert bad.status_code == 400
    assert post("/_fake/rooms", room_id=5, colour="red").status_code == 400


# Strictness (strict.py's rules) and the origins a room may have


def test_live_calls_unsigned_are_refused_with_a_voucher(fake: FakeBilibili) -> None:
    fake.set_live(ROOM, 1)
    calls = [
        (PLAY_INFO, {"room_id": ROOM, **FLV_PARAMS}),
        ("/xlive/web-room/v1/index/getInfoByRoom", {"room_id": ROOM}),
        ("/xlive/web-room/v1/index/getDanmuInfo", {"id": ROOM, "type": 0}),
    ]
    buvid = {"buvid3": "B1F1C0DE-0000-4000-8000-000000000000infoc"}
    for path, params in calls:
        refused = get(fake, path, params=params, cookies=buvid)
        body = refused.json()
        assert (body["code"], body["message"]) == (-352, "风控校验失败"), path
        assert body["data"]["v_voucher"].startswith("voucher_")
        assert refused.headers["x-bili-gaia-vvoucher"] == body["data"]["v_voucher"]
        # A signature made with keys that have since rotated is refused too.
        stale = wbi_signed(fake, params)
        fake.rotate_wbi_keys()
        assert get(fake, path, params=stale, cookies=buvid).json()["code"] == -352
        fresh = get(fake, path, params=wbi_signed(fake, params), cookies=buvid)
        assert fresh.json()["code"] == 0, path

    fake.set_rules(live_wbi=False)
    for path, params in calls:
        assert get(fake, path, params=params, cookies=buvid).json()["code"] == 0


def test_danmu_info_wants_a_buvid3_cookie(fake: FakeBilibili) -> None:
    params = {"id": SHORT_ID, "type": 0, "web_location": "444.8"}
    path = "/xlive/web-room/v1/index/getDanmuInfo"
    assert get(fake, path, params=wbi_signed(fake, params)).json()["code"] == -352

    spi = get(fake, "/x/frontend/finger/spi").json()
    assert spi["code"] == 0
    buvid3 = spi["data"]["b_3"]
    assert buvid3.endswith("infoc") and spi["data"]["b_4"]
    r = get(fake, path, params=wbi_signed(fake, params), cookies={"buvid3": buvid3})
    data = r.json()["data"]
    assert r.json()["code"] == 0 and len(data["token"]) > 100
    [host] = data["host_list"]
    assert set(host) == {"host", "port", "wss_port", "ws_port"}
    assert host["host"] == "127.0.0.1"
    assert {"group", "business_id", "max_delay", "refresh_rate"} <= set(data)
    assert fake.state.live.danmu_tokens[data["token"]] == (ROOM, 0, buvid3)

    fake.set_rules(danmu_buvid3=False)
    assert get(fake, path, params=wbi_signed(fake, params)).json()["code"] == 0


def test_logged_out_quality_is_capped_unless_the_rule_is_off(
    fake: FakeBilibili,
) -> None:
    fake.set_live(ROOM, 1)
    assert flv_codec(play_info(fake))["current_qn"] == 250
    fake.set_rules(qn_cap=False)
    assert flv_codec(play_info(fake))["current_qn"] == 10000


def test_qn_is_opaque_and_accept_qn_ranks_it(fake: FakeBilibili) -> None:
    fake.add_room(ROOM, accept_qn=[25000, 10000, 400, 250, 150])
    fake.set_live(ROOM, 1)
    cookies = {c["name"]: c["value"] for c in fake.login()["cookie_info"]["cookies"]}

    def served(qn: int, **kwargs: Any) -> tuple[int, list[int]]:
        codec = flv_codec(play_info(fake, params={"qn": qn}, **kwargs))
        return codec["current_qn"], codec["accept_qn"]

    # Asked for 10000 (what clients ask first), the room's 原画: 25000 is better still.
    assert served(10000, cookies=cookies) == (10000, [25000, 10000, 400, 250, 150])
    assert served(25000, cookies=cookies)[0] == 25000
    assert served(30000, cookies=cookies)[0] == 10000  # not offered: the default
    assert served(25000)[0] == 250  # logged out
    desc = play_info(fake)["data"]["playurl_info"]["playurl"]["g_qn_desc"]
    assert {d["qn"]: d["desc"] for d in desc}[25000] == "原画真彩"


def _codecs(info: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (s["protocol_name"], f["format_name"], c["codec_name"])
        for s in info["data"]["playurl_info"]["playurl"]["stream"]
        for f in s["format"]
        for c in f["codec"]
    ]


def test_an_hevc_origin_is_offered_only_to_clients_asking_for_hevc(
    fake: FakeBilibili, tmp_path: Path
) -> None:
    fake.set_origin(ROOM, codec="hevc")
    fake.add_room(ROOM, speed=0)
    fake.set_live(ROOM, 1)
    # What biliup asks (codec=0): nothing to record.
    assert _codecs(play_info(fake, params={"codec": "0"})) == []
    info = play_info(fake, params={"codec": "0,1"})
    assert _codecs(info) == [("http_hls", "fmp4", "hevc")]

    codec = info["data"]["playurl_info"]["playurl"]["stream"][0]["format"][0]["codec"][
        0
    ]
    url_info = codec["url_info"][0]
    playlist = cdn_get(url_info["host"] + codec["base_url"] + url_info["extra"])
    assert playlist.status_code == 200
    lines = playlist.text.splitlines()
    init = next(line.split('"')[1] for line in lines if line.startswith("#EXT-X-MAP"))
    first = next(line for line in lines if line.endswith(".m4s") and "#" not in line)
    base = (url_info["host"] + codec["base_url"]).rsplit("/", 1)[0]
    media_file = tmp_path / "hevc.mp4"
    media_file.write_bytes(
        cdn_get(f"{base}/{init}").content + cdn_get(f"{base}/{first}").content
    )
    assert media.probe(media_file).streams == ["hevc", "aac"]
    # No FLV of an HEVC origin.
    flv = codec["base_url"].replace("/index.m3u8?", ".flv?")
    assert cdn_get(url_info["host"] + flv + url_info["extra"]).status_code == 404


def test_an_fmp4_only_origin_offers_fmp4_alone(fake: FakeBilibili) -> None:
    fake.set_origin(ROOM, formats="fmp4")
    fake.set_live(ROOM, 1)
    assert _codecs(play_info(fake)) == [("http_hls", "fmp4", "avc")]
    fake.set_origin(ROOM, formats=["flv", "ts", "fmp4"])
    assert [f for _, f, _ in _codecs(play_info(fake))] == ["flv", "ts", "fmp4"]


def test_special_lives_answer_as_the_site_does(fake: FakeBilibili) -> None:
    fake.set_live(ROOM, 1)

    def init() -> dict[str, Any]:
        return get(fake, "/room/v1/Room/room_init", params={"id": ROOM}).json()["data"]

    fake.set_special(ROOM, paid=True)
    info = play_info(fake)["data"]
    assert info["all_special_types"] == [203]
    assert info["playurl_info"]["playurl"]["stream"] == []
    assert init()["special_type"] == 1

    fake.set_special(ROOM, paid=False, guard_only=True)
    info = play_info(fake)["data"]
    assert info["all_special_types"] == [] and init()["special_type"] == 0
    assert info["playurl_info"]["playurl"]["stream"] == []
    assert info["live_status"] == 1

    fake.set_special(ROOM, guard_only=False, password=True)
    info = play_info(fake)["data"]
    assert (info["encrypted"], info["pwd_verified"]) == (True, False)
    assert info["playurl_info"] is None and info["live_status"] == 1
    assert (init()["encrypted"], init()["pwd_verified"]) == (True, False)

    fake.set_special(ROOM, password=False)
    assert _codecs(play_info(fake))[0] == ("http_stream", "flv", "avc")


def test_origin_and_special_have_http_controls(fake: FakeBilibili) -> None:
    def post(path: str, **body: Any) -> requests.Response:
        return requests.post(fake.url + path, json=body, timeout=TIMEOUT)

    room = post(f"/_fake/rooms/{ROOM}/origin", formats="fmp4", accept_qn=[15000, 10000])
    assert (room.json()["hls_only"], room.json()["accept_qn"]) == (True, [15000, 10000])
    assert post(f"/_fake/rooms/{ROOM}/special", guard_only=True).json()["guard_only"]
    assert post(f"/_fake/rooms/{ROOM}/origin", codec="av1").status_code == 400
    assert post(f"/_fake/rooms/{ROOM}/origin", formats="flv").status_code == 400
    assert post(f"/_fake/rooms/{ROOM}/origin", accept_qn=[]).status_code == 400
    hevc_flv = post(f"/_fake/rooms/{ROOM}/origin", codec="hevc", formats="flv,fmp4")
    assert hevc_flv.status_code == 400
    assert post("/_fake/rooms/1/special", paid=True).status_code == 404
