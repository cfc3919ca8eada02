"""The CDN's per-room accounting, for bench/record.py: the media bytes each room sent (FLV bodies,
HLS init and media segments; playlists not), and a room's own CDN hosts in play info."""

from __future__ import annotations

from urllib.parse import urljoin

import requests

from tests.fakebili.server import FakeBilibili
from tests.fakebili.test_cdn_strict import stream_urls
from tests.fakebili.test_hls import ROOM, cdn_get, fetch, go_live, playlist

TIMEOUT = 5


def test_it_counts_the_flv_bytes_a_room_sent(fake: FakeBilibili) -> None:
    fake.set_live(ROOM, 1)
    fake.set_stream(ROOM, speed=0, offline_after_seconds=3)
    url = stream_urls(fake)["flv", "cn-gotcha01"]
    body = cdn_get(url).content
    assert len(body) > 10_000
    assert fake.sent_bytes() == {str(ROOM): len(body)}
    answer = requests.get(fake.url + "/_fake/cdn/sent", timeout=TIMEOUT).json()
    assert answer == {str(ROOM): len(body)}


def test_it_counts_hls_segments_but_not_playlists(fake: FakeBilibili) -> None:
    url = go_live(fake, "fmp4")
    listed = playlist(url)
    assert fake.sent_bytes() == {}
    assert listed.init is not None
    media = fetch(urljoin(url, listed.init)) + fetch(
        urljoin(url, listed.segments[0][2])
    )
    assert fake.sent_bytes() == {str(ROOM): len(media)}
    fake.reset()
    assert fake.sent_bytes() == {}


def test_a_room_can_list_its_own_cdn_hosts(fake: FakeBilibili) -> None:
    fake.add_room(ROOM, cdn_hosts=["cn-gotcha04"])
    fake.set_live(ROOM, 1)
    assert {host for _, host in stream_urls(fake)} == {"cn-gotcha04"}
    fake.add_room(ROOM, cdn_hosts=[])
    assert {host for _, host in stream_urls(fake)} == {"cn-gotcha01", "cn-gotcha04"}
    answer = requests.post(
        fake.url + "/_fake/rooms",
        json={"room_id": ROOM, "cdn_hosts": ["cn-gotcha99"]},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 400
