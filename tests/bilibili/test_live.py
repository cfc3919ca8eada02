"""Live rooms on the fake: room_init, room_info and the play URLs (pulling them is test_cdn.py's)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from biliup_site.bilibili import BilibiliError, live
from tests.factories import log_in_by_tv_qr

pytestmark = pytest.mark.django_db

ROOM, SHORT = 23058, 3


def test_room_init_resolves_a_short_id(fakebili: Any) -> None:
    room = live.room_init(SHORT)
    assert (room.room_id, room.short_id, room.is_live) == (ROOM, SHORT, False)


def test_a_broadcast_keeps_its_start_time(fakebili: Any) -> None:
    fakebili.set_live(ROOM, 1)
    first = live.room_init(ROOM)
    assert first.is_live
    assert live.room_init(SHORT).live_time == first.live_time
    fakebili.set_live(ROOM, 0)
    fakebili.set_live(ROOM, 1)
    assert live.room_init(ROOM).live_time != first.live_time


def test_rotation_is_not_live(fakebili: Any) -> None:
    fakebili.set_live(ROOM, 2)
    assert not live.room_init(ROOM).is_live


def test_an_unknown_room_is_bilibilis_60004(fakebili: Any) -> None:
    with pytest.raises(BilibiliError) as raised:
        live.room_init(999999999)
    assert raised.value.code == 60004


def test_room_info_has_the_title_and_the_anchor(fakebili: Any) -> None:
    fakebili.add_room(ROOM, title="今晚打游戏", uname="主播A")
    info = live.room_info(ROOM)
    assert (info.title, info.uname) == ("今晚打游戏", "主播A")


def test_play_urls_are_empty_while_offline(fakebili: Any) -> None:
    assert live.play_urls(ROOM) == []


def test_play_urls_offer_every_cdn_and_quality_follows_the_login(fakebili: Any) -> None:
    fakebili.set_live(ROOM, 1)
    anonymous = live.play_urls(ROOM)
    # HTTP-FLV first, then HLS's TS and fMP4, each from every CDN host.
    assert [u.format for u in anonymous] == ["flv"] * 2 + ["ts"] * 2 + ["fmp4"] * 2
    assert len({(u.format, u.cdn) for u in anonymous}) == len(anonymous)
    assert {u.qn for u in anonymous} == {150}
    account = log_in_by_tv_qr(fakebili)
    assert {u.qn for u in live.play_urls(ROOM, account.credential)} == {10000}


def test_a_play_url_streams_flv(fakebili: Any) -> None:
    fakebili.add_room(ROOM, speed=0)
    fakebili.set_live(ROOM, 1)
    [first, *_] = live.play_urls(ROOM)
    with requests.get(first.url, stream=True, timeout=10) as response:
        assert response.status_code == 200
        assert response.raw.read(3) == b"FLV"
