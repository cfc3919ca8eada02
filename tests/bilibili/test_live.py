"""Live rooms on the strict fake: room_init, room_info, play info (WBI, quality, what the origin
offers, special lives) and the chat server's info (pulling streams is test_cdn.py's)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from biliup_site.bilibili import BilibiliError, live, risk
from tests.factories import log_in_by_tv_qr
from tests.fakebili.signing import BROWSER_HEADERS, wbi_signed

pytestmark = pytest.mark.django_db

ROOM, SHORT = 23058, 3
PLAY_INFO = "/xlive/web-room/v2/index/getRoomPlayInfo"
NAV = "/x/web-interface/nav"
# What the client sent before WBI: the same query, unsigned.
OLD_QUERY = {
    "room_id": ROOM,
    "protocol": "0,1",
    "format": "0,1,2",
    "codec": "0,1",
    "qn": 10000,
    "platform": "web",
}


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
    assert live.play_info(ROOM).urls == []


# WBI (bilibili-2026.md: getRoomPlayInfo, getInfoByRoom, getDanmuInfo)


def test_play_info_is_signed_where_a_plain_call_is_refused(fakebili: Any) -> None:
    fakebili.set_live(ROOM, 1)
    assert live.play_info(ROOM).urls
    plain = requests.get(fakebili.url + PLAY_INFO, params=OLD_QUERY, timeout=5).json()
    assert plain["code"] == -352 and plain["data"]["v_voucher"]
    fakebili.set_rules(live_wbi=False)
    plain = requests.get(fakebili.url + PLAY_INFO, params=OLD_QUERY, timeout=5).json()
    assert plain["code"] == 0


def test_rotated_keys_are_read_again_at_most_once_a_minute(fakebili: Any) -> None:
    fakebili.set_live(ROOM, 1)
    assert live.play_info(ROOM).urls
    assert fakebili.hits(NAV) == 1
    fakebili.rotate_wbi_keys()
    assert live.play_info(ROOM).urls  # refused, keys read again, signed anew
    assert fakebili.hits(NAV) == 2
    assert fakebili.hits(PLAY_INFO) == 3

    fakebili.rotate_wbi_keys()  # again, within the minute: not worth another nav read
    with pytest.raises(BilibiliError) as raised:
        live.play_info(ROOM)
    assert raised.value.code == -352
    assert fakebili.hits(NAV) == 2

    # A minute later the keys may be read again.
    risk.WBI_KEYS.reread_at -= risk.WBI_REREAD_SECONDS
    assert live.play_info(ROOM).urls
    assert fakebili.hits(NAV) == 3


# Quality (bilibili-2026.md: the qn cap; qn is opaque, accept_qn ranks it)


def test_logged_out_is_capped_at_250_and_says_the_origin(fakebili: Any) -> None:
    fakebili.set_live(ROOM, 1)
    info = live.play_info(ROOM)
    # HTTP-FLV first, then HLS's TS and fMP4, each from every CDN host.
    assert [u.format for u in info.urls] == ["flv"] * 2 + ["ts"] * 2 + ["fmp4"] * 2
    assert len({(u.format, u.cdn) for u in info.urls}) == len(info.urls)
    assert {u.qn for u in info.urls} == {250}
    assert (info.qn, info.origin_qn, info.below_origin) == (250, 10000, True)
    assert info.urls[0].accept_qn == (10000, 400, 250, 150)
    # Asked for 10000, the best listed: there is nothing better to ask for again.
    assert fakebili.hits(PLAY_INFO) == 1

    account = log_in_by_tv_qr(fakebili)
    logged_in = live.play_info(ROOM, account.credential)
    assert (logged_in.qn, logged_in.below_origin) == (10000, False)

    fakebili.set_rules(qn_cap=False)
    assert live.play_info(ROOM).qn == 10000


def test_the_best_of_accept_qn_is_asked_for_whatever_its_number(fakebili: Any) -> None:
    fakebili.add_room(ROOM, accept_qn=[25000, 10000, 400, 250, 150])
    fakebili.set_live(ROOM, 1)
    account = log_in_by_tv_qr(fakebili)
    info = live.play_info(ROOM, account.credential)
    # 10000 came first; accept_qn ranks 25000 (原画真彩) above it, so it was asked for.
    assert (info.qn, info.origin_qn, info.below_origin) == (25000, 25000, False)
    assert fakebili.hits(PLAY_INFO) == 2

    logged_out = live.play_info(ROOM)
    assert (logged_out.qn, logged_out.origin_qn) == (250, 25000)


# What the origin offers (bilibili-2026.md: HEVC only, fMP4-HLS only)


def test_an_hevc_only_origin_is_found(fakebili: Any) -> None:
    fakebili.set_origin(ROOM, codec="hevc")
    fakebili.set_live(ROOM, 1)
    info = live.play_info(ROOM)
    assert {(u.format, u.codec) for u in info.urls} == {("fmp4", "hevc")}
    assert info.offered == ("fmp4/hevc",) and info.restriction == ""
    # What was asked before (codec=0): nothing, as if the room were not streaming.
    old = requests.get(
        fakebili.url + PLAY_INFO,
        params=wbi_signed(fakebili, {**OLD_QUERY, "codec": "0"}),
        timeout=5,
    ).json()
    assert old["data"]["playurl_info"]["playurl"]["stream"] == []


def test_an_fmp4_only_origin_is_found(fakebili: Any) -> None:
    fakebili.set_origin(ROOM, formats="fmp4")
    fakebili.set_live(ROOM, 1)
    info = live.play_info(ROOM)
    assert {(u.format, u.codec) for u in info.urls} == {("fmp4", "avc")}


# Special lives (bilibili-2026.md: paid, guard-only, password)


@pytest.mark.parametrize(
    ("special", "restriction", "in_room_init"),
    [
        ({"paid": True}, live.PAID, True),
        ({"guard_only": True}, live.GUARD, False),
        ({"password": True}, live.PASSWORD, True),
    ],
)
def test_special_lives_are_classified(
    fakebili: Any, special: dict[str, bool], restriction: str, in_room_init: bool
) -> None:
    fakebili.set_live(ROOM, 1)
    fakebili.set_special(ROOM, **special)
    info = live.play_info(ROOM)
    assert (info.restriction, info.urls, info.is_live) == (restriction, [], True)
    room = live.room_init(ROOM)
    assert room.is_live
    assert room.restriction == (restriction if in_room_init else "")


def test_a_plain_live_is_not_special(fakebili: Any) -> None:
    fakebili.set_live(ROOM, 1)
    assert live.play_info(ROOM).restriction == ""
    assert live.room_init(ROOM).restriction == ""


# The chat server (bilibili-2026.md "Live chat")


def test_danmu_info_is_signed_and_brings_a_buvid3(fakebili: Any) -> None:
    info = live.danmu_info(SHORT)
    assert len(info.token) > 100
    [host] = info.hosts
    assert host.host == "127.0.0.1" and host.wss_port > 0
    assert info.buvid3.endswith("infoc")
    assert fakebili.hits("/x/frontend/finger/spi") == 1
    # The fake issued the token to that buvid3.
    assert fakebili.state.live.danmu_tokens[info.token] == (ROOM, 0, info.buvid3)

    path = fakebili.url + "/xlive/web-room/v1/index/getDanmuInfo"
    params = {"id": ROOM, "type": 0, "web_location": "444.8"}
    unsigned = requests.get(
        path, params=params, cookies={"buvid3": info.buvid3}, timeout=5
    )
    assert unsigned.json()["code"] == -352
    no_buvid = requests.get(path, params=wbi_signed(fakebili, params), timeout=5)
    assert no_buvid.json()["code"] == -352


def test_a_play_url_streams_flv(fakebili: Any) -> None:
    fakebili.add_room(ROOM, speed=0)
    fakebili.set_live(ROOM, 1)
    [first, *_] = live.play_info(ROOM).urls
    with requests.get(
        first.url, stream=True, timeout=10, headers=BROWSER_HEADERS
    ) as response:
        assert response.status_code == 200
        assert response.raw.read(3) == b"FLV"
