"""The fake's published-video lists over real HTTP: the app cursor list (§7.1), the WBI web list
(§7.2, §7.3), the user card, submitted archives showing up after review, and the controls; and
what they refuse, as the real site does (space_guard.py): the app list unsigned, arc/search
without WBI or the dm_* parameters, a burst of calls.

The helpers call as a good client does (app-signed; WBI with the dm_* parameters). Most tests
here make many calls at once, so the burst rule is off unless a test is about it."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import requests

from biliup_site.bilibili import wbi_keys_from_urls, wbi_mixin_key, wbi_sign
from biliup_site.bilibili.risk import SPACE_WEB_LOCATION, dm_params
from biliup_site.bilibili.sign import APP_KEYS, AppKey, app_sign
from tests.fakebili import space_guard, strict
from tests.fakebili.api import WBI_IMG_KEY, WBI_SUB_KEY
from tests.fakebili.server import SEED_MID, SEED_UNAME, FakeBilibili
from tests.fakebili.submit import av2bv
from tests.fakebili.test_submit import Account, studio
from tests.fakebili.wire import Request

TIMEOUT = 5
UP = 777001
OTHER = 777002
STRANGER = 999999
CURSOR = "/x/v2/space/archive/cursor"
SEARCH = "/x/space/wbi/arc/search"
CARD = "/x/web-interface/card"
# §7.1's item fields, and those the JustOneAPI example (a real answer) adds.
APP_ITEM_FIELDS = {
    "title", "subtitle", "tname", "cover", "uri", "param", "goto", "length", "duration",
    "is_live_playback", "play", "danmaku", "ctime", "author", "state", "bvid", "first_cid",
    "cursor_attr", "view_content", "icon_type", "publish_time_text",
    "translated_title", "translate_status", "cover_icon", "is_popular", "is_steins",
    "is_ugcpay", "is_cooperation", "is_pgc", "is_pugv", "is_fold", "is_oneself",
    "view_self_type", "ugc_pay", "videos", "three_point", "cover_left_icon",
    "cover_left_text", "sub_title_icon",
}  # fmt: skip
VLIST_FIELDS = {
    "aid", "bvid", "title", "description", "pic", "author", "mid", "created", "length",
    "play", "comment", "video_review", "typeid", "copyright", "is_live_playback",
    "is_union_video", "meta", "season_id", "attribute",
}  # fmt: skip


# The mixin key of the keys nav serves until rotate_wbi_keys(): §7.3's test vectors.
MIXIN_KEY = strict.mixin_key(*strict.FIRST_WBI_KEYS)
TV = APP_KEYS["BiliTV"]
# What arc/search wants beside WBI, as biliup-site sends it.
WEB_PARAMS = {"platform": "web", "web_location": SPACE_WEB_LOCATION, **dm_params()}


@pytest.fixture(autouse=True)
def _no_burst_rule(fake: FakeBilibili) -> Iterator[None]:
    fake.set_rules(space_burst=False)
    yield


def cursor(fake: FakeBilibili, **params: Any) -> dict[str, Any]:
    """The app list, app-signed with the TV key."""
    signed = app_sign(params, TV)
    return requests.get(fake.url + CURSOR, params=signed, timeout=TIMEOUT).json()


def search(fake: FakeBilibili, **params: Any) -> dict[str, Any]:
    """The WBI list, with the dm_* parameters, signed as biliup-site signs it."""
    signed = wbi_sign({**params, **WEB_PARAMS}, MIXIN_KEY)
    return requests.get(fake.url + SEARCH, params=signed, timeout=TIMEOUT).json()


def aids(items: list[dict[str, Any]]) -> list[int]:
    return [int(item["param"]) for item in items]


def make_archive(fake: FakeBilibili, **fields: Any) -> dict[str, Any]:
    """An archive of the seed account, by app submit (as test_submit does)."""
    alice = Account(fake)
    filename, _ = alice.upload()
    r = alice.app("/x/vu/app/add", studio(filename, **fields))
    assert r["code"] == 0
    return r["data"]


# §7.1 App cursor list


def test_the_cursor_pages_through_every_video_once(fake: FakeBilibili) -> None:
    fake.add_space_user(UP, "某UP主")
    added = fake.add_space_videos(UP, 7)
    fake.add_space_videos(OTHER, 2)
    newest_first = [v["aid"] for v in reversed(added)]

    seen: list[int] = []
    r = cursor(fake, vmid=UP, ps=3)
    pages = 1
    assert r["code"] == 0 and r["message"] == "0" and r["ttl"] == 1
    assert r["data"]["has_prev"] is False
    while r["data"]["has_next"]:
        assert len(r["data"]["item"]) == 3
        seen += aids(r["data"]["item"])
        r = cursor(fake, vmid=UP, ps=3, aid=r["data"]["item"][-1]["param"])
        pages += 1
        assert r["data"]["has_prev"] is True
    seen += aids(r["data"]["item"])
    assert pages == 3
    assert seen == newest_first
    assert r["data"]["count"] == 7
    assert [i["cursor_attr"]["rank"] for i in r["data"]["item"]] == [7]


def test_an_item_has_the_app_fields(fake: FakeBilibili) -> None:
    fake.add_space_user(UP, "某UP主")
    [video] = fake.add_space_videos(
        UP, title="第一期", play=480257, danmaku=705, tid=95
    )
    data = cursor(fake, vmid=UP)["data"]
    assert set(data) == {
        "episodic_button",
        "order",
        "count",
        "item",
        "last_watched_locator",
        "has_next",
        "has_prev",
    }
    assert [o["value"] for o in data["order"]] == ["pubdate", "click"]
    [item] = data["item"]
    assert set(item) == APP_ITEM_FIELDS
    aid, bvid = video["aid"], video["bvid"]
    assert bvid == av2bv(aid)
    assert item["param"] == str(aid) and item["uri"] == f"bilibili://video/{aid}"
    assert (item["goto"], item["length"], item["subtitle"]) == ("av", "", "")
    assert (item["title"], item["tname"], item["author"]) == (
        "第一期",
        "数码",
        "某UP主",
    )
    assert (item["play"], item["danmaku"], item["view_content"]) == (
        480257,
        705,
        "48万",
    )
    assert item["ctime"] == video["ctime"] and item["duration"] == video["duration"]
    assert item["is_live_playback"] is False and item["state"] is False
    assert item["cursor_attr"] == {"is_last_watched_arc": False, "rank": 1}
    assert re.fullmatch(r"(\d{4}年)?\d{1,2}月\d{1,2}日", item["publish_time_text"])
    assert item["cover"] == f"{fake.url}/bfs/archive/{bvid}.jpg" == video["cover"]
    image = requests.get(item["cover"], timeout=TIMEOUT)
    assert image.headers["Content-Type"] == "image/jpeg"


def test_the_cursor_list_orders_by_play(fake: FakeBilibili) -> None:
    plays = [5, 500, 50, 5000, 0]
    added = [fake.add_space_videos(UP, play=p)[0] for p in plays]
    by_play = [v["aid"] for v in sorted(added, key=lambda v: -v["play"])]
    first = cursor(fake, vmid=UP, order="click", ps=2)["data"]
    assert aids(first["item"]) == by_play[:2]
    rest = cursor(fake, vmid=UP, order="click", aid=first["item"][-1]["param"])
    assert aids(rest["data"]["item"]) == by_play[2:]
    assert rest["data"]["has_next"] is False


def test_the_cursor_list_checks_its_params(fake: FakeBilibili) -> None:
    fake.add_space_videos(UP, 55)
    assert cursor(fake, vmid=STRANGER)["code"] == -404
    assert cursor(fake, vmid=STRANGER)["message"] == "啥都木有"
    assert cursor(fake)["code"] == -400
    assert cursor(fake, vmid="abc")["code"] == -400
    assert cursor(fake, vmid=UP, aid=123)["code"] == -400
    assert cursor(fake, vmid=UP, order="random")["code"] == -400
    # ps is clamped to 1..50, 20 by default.
    assert len(cursor(fake, vmid=UP)["data"]["item"]) == 20
    assert len(cursor(fake, vmid=UP, ps=0)["data"]["item"]) == 1
    assert len(cursor(fake, vmid=UP, ps=100)["data"]["item"]) == 50
    assert len(cursor(fake, vmid=UP, ps=-5)["data"]["item"]) == 1
    assert cursor(fake, vmid=UP, ps="many")["code"] == -400
    # A known user with nothing published: an empty list, not -404.
    empty = cursor(fake, vmid=SEED_MID)["data"]
    assert (empty["count"], empty["item"], empty["has_next"]) == (0, [], False)


def test_new_videos_are_always_the_newest(fake: FakeBilibili) -> None:
    first = fake.add_space_videos(UP, 3)
    second = fake.add_space_videos(UP, 2)
    videos = first + second
    assert [v["title"] for v in videos] == [f"视频 {n}" for n in range(1, 6)]
    ctimes = [v["ctime"] for v in videos]
    assert ctimes == sorted(ctimes) and len(set(ctimes)) == 5
    assert [v["aid"] for v in videos] == sorted(v["aid"] for v in videos)
    assert [v["aid"] for v in fake.space_videos(UP)] == [v["aid"] for v in videos[::-1]]
    # Numbers go on after a deletion; an explicit ctime is kept.
    fake.delete_space_video(videos[-1]["bvid"])
    [late] = fake.add_space_videos(UP, ctime=1_000_000)
    assert late["title"] == "视频 6" and late["ctime"] == 1_000_000
    assert fake.space_videos(UP)[-1]["aid"] == late["aid"]
    # Author: an account's uname, else add_space_user's name, else 用户<mid>.
    assert cursor(fake, vmid=UP)["data"]["item"][0]["author"] == f"用户{UP}"
    fake.add_space_videos(SEED_MID)
    assert cursor(fake, vmid=SEED_MID)["data"]["item"][0]["author"] == SEED_UNAME


# §7.2 Web list, §7.3 WBI


def test_the_fake_signs_as_the_reference_vectors() -> None:
    assert MIXIN_KEY == "ea1db124af3c7062474693fa704f4ff8"
    assert wbi_mixin_key(WBI_IMG_KEY, WBI_SUB_KEY) == MIXIN_KEY


def test_the_web_list_takes_a_signature_made_with_nav_keys(fake: FakeBilibili) -> None:
    fake.add_space_user(UP, "某UP主")
    fake.add_space_videos(UP, 2)
    # Logged out, nav still hands out the keys (§2, §7.3).
    nav = requests.get(fake.url + "/x/web-interface/nav", timeout=TIMEOUT).json()
    img_key, sub_key = wbi_keys_from_urls(**nav["data"]["wbi_img"])
    params = {"mid": UP, "order": "pubdate", **WEB_PARAMS}
    signed = wbi_sign(params, wbi_mixin_key(img_key, sub_key))
    r = requests.get(fake.url + SEARCH, params=signed, timeout=TIMEOUT).json()
    assert r["code"] == 0
    assert len(r["data"]["list"]["vlist"]) == 2
    assert r["data"]["page"] == {"pn": 1, "ps": 30, "count": 2}
    assert r["data"]["is_risk"] is False and r["data"]["gaia_data"] is None


def test_the_web_list_refuses_a_bad_or_missing_signature(fake: FakeBilibili) -> None:
    fake.add_space_videos(UP)
    signed = wbi_sign({"mid": UP}, MIXIN_KEY)
    url = fake.url + SEARCH
    wrong = {**signed, "w_rid": "0" * 32}
    assert requests.get(url, params=wrong, timeout=TIMEOUT).json()["code"] == -403
    tampered = {**signed, "mid": OTHER}
    assert requests.get(url, params=tampered, timeout=TIMEOUT).json()["code"] == -403
    for missing in ("w_rid", "wts"):
        params = {k: v for k, v in signed.items() if k != missing}
        resp = requests.get(url, params=params, timeout=TIMEOUT)
        body = resp.json()
        assert body["code"] == -352
        voucher = body["data"]["v_voucher"]
        assert voucher.startswith("voucher_")
        assert resp.headers["x-bili-gaia-vvoucher"] == voucher


def test_the_reference_vector_request_is_signed_right_but_lacks_the_dm_parameters(
    fake: FakeBilibili,
) -> None:
    fake.add_space_user(946974, "影视飓风")
    query = "mid=946974&order=pubdate&pn=1&ps=30&wts=1702204169"
    query += "&w_rid=7031da523fbf36234ce7079f069ed937"
    req = Request.parse("GET", f"{SEARCH}?{query}", {}, b"")
    assert strict.wbi_valid(fake.state, req)
    url = f"{fake.url}{SEARCH}?{query}"
    assert requests.get(url, timeout=TIMEOUT).json()["code"] == -352
    fake.set_rules(space_wbi_dm=False)
    assert requests.get(url, timeout=TIMEOUT).json()["code"] == 0


def test_a_space_in_a_signed_value_is_accepted_either_way(fake: FakeBilibili) -> None:
    fake.add_space_videos(UP, title="one one four")
    fake.add_space_videos(UP, title="something else")
    params = {
        "mid": str(UP),
        "keyword": "one one four",
        "wts": "1702204169",
        **WEB_PARAMS,
    }
    pairs = sorted(params.items())
    for encoded in (
        # encodeURIComponent, as §7.3 says and wbi_sign does: %20.
        "&".join(f"{k}={quote(v, safe='')}" for k, v in pairs),
        # Python's urlencode, as the popular demo signs: "+".
        urlencode(pairs),
    ):
        w_rid = hashlib.md5((encoded + MIXIN_KEY).encode()).hexdigest()
        # And sent either way too.
        for sent in (encoded, urlencode(pairs)):
            url = f"{fake.url}{SEARCH}?{sent}&w_rid={w_rid}"
            r = requests.get(url, timeout=TIMEOUT).json()
            assert r["code"] == 0, (encoded, sent)
            assert [v["title"] for v in r["data"]["list"]["vlist"]] == ["one one four"]


def test_the_web_list_pages_by_number_with_a_tlist(fake: FakeBilibili) -> None:
    fake.add_space_user(UP, "某UP主")
    games = fake.add_space_videos(UP, 20, tid=171, duration=45)
    tech = fake.add_space_videos(UP, 15, tid=95, duration=3725)
    newest_first = [v["aid"] for v in reversed(games + tech)]

    first = search(fake, mid=UP)
    assert first["code"] == 0
    vlist = first["data"]["list"]["vlist"]
    assert [v["aid"] for v in vlist] == newest_first[:30]
    assert first["data"]["page"] == {"pn": 1, "ps": 30, "count": 35}
    assert first["data"]["list"]["tlist"] == {
        "4": {"tid": 4, "count": 20, "name": "游戏"},
        "188": {"tid": 188, "count": 15, "name": "科技"},
    }
    assert first["data"]["list"]["slist"] == []
    second = search(fake, mid=UP, pn=2)["data"]["list"]["vlist"]
    assert [v["aid"] for v in second] == newest_first[30:]
    assert search(fake, mid=UP, pn=3)["data"]["list"]["vlist"] == []

    item = vlist[0]
    assert set(item) == VLIST_FIELDS
    assert (item["mid"], item["author"], item["typeid"]) == (UP, "某UP主", 95)
    assert (item["length"], item["copyright"], item["meta"]) == ("1:02:05", "1", None)
    assert item["created"] == tech[-1]["ctime"] and item["pic"] == tech[-1]["cover"]
    assert item["video_review"] == tech[-1]["danmaku"]
    assert search(fake, mid=UP, tid=4, ps=50)["data"]["list"]["vlist"][0]["length"] == (
        "00:45"
    )
    assert search(fake, mid=UP, tid=4)["data"]["page"]["count"] == 20

    fake.set_space_video(games[0]["bvid"], play=10**6)
    top = search(fake, mid=UP, order="click", ps=1)["data"]["list"]["vlist"]
    assert [v["aid"] for v in top] == [games[0]["aid"]]

    for bad in ({"ps": 51}, {"ps": 0}, {"pn": 0}, {"order": "random"}, {"mid": "x"}):
        assert search(fake, **{"mid": UP, **bad})["code"] == -400
    assert search(fake, mid=STRANGER)["code"] == -404


# Submitted archives


def test_a_submitted_archive_appears_after_review(fake: FakeBilibili) -> None:
    fake.set_space_review(3600)
    archive = make_archive(fake, title="直播回放", tid=171)
    assert cursor(fake, vmid=SEED_MID)["data"]["count"] == 0
    assert fake.space_videos(SEED_MID) == []
    # The fake's clock runs on with the wall clock (and ctime is whole seconds): short of the
    # review by a margin a loaded machine cannot eat, then past it.
    fake.advance_clock(3570)
    assert cursor(fake, vmid=SEED_MID)["data"]["count"] == 0
    fake.advance_clock(30)

    [item] = cursor(fake, vmid=SEED_MID)["data"]["item"]
    assert (item["param"], item["bvid"]) == (str(archive["aid"]), archive["bvid"])
    assert (item["title"], item["tname"], item["author"]) == (
        "直播回放",
        "电子竞技",
        SEED_UNAME,
    )
    assert (item["duration"], item["play"], item["danmaku"]) == (60, 0, 0)
    assert item["cover"] == f"{fake.url}/bfs/archive/{archive['bvid']}.jpg"
    [listed] = search(fake, mid=SEED_MID)["data"]["list"]["vlist"]
    assert (listed["aid"], listed["length"], listed["typeid"]) == (
        archive["aid"],
        "01:00",
        171,
    )

    # The controls reach archives too; a video added later is newer.
    fake.set_space_video(archive["bvid"], play=12, title="改了标题")
    [video] = fake.space_videos(SEED_MID)
    assert (video["play"], video["title"]) == (12, "改了标题")
    [added] = fake.add_space_videos(SEED_MID)
    assert added["ctime"] > video["ctime"]
    fake.delete_space_video(archive["bvid"])
    assert [v["aid"] for v in fake.space_videos(SEED_MID)] == [added["aid"]]
    assert len(fake.archives()) == 1


def test_an_archive_keeps_its_cover_and_shows_at_once_without_review(
    fake: FakeBilibili,
) -> None:
    cover = f"{fake.url}/bfs/archive/0123456789abcdef.jpg"
    archive = make_archive(fake, cover=cover)
    [item] = cursor(fake, vmid=SEED_MID)["data"]["item"]
    assert item["cover"] == cover and item["bvid"] == archive["bvid"]


# The user card


def test_the_card_tells_who_a_user_is(fake: FakeBilibili) -> None:
    fake.add_space_user(UP, "某UP主")
    fake.add_space_videos(UP, 3)
    r = requests.get(fake.url + CARD, params={"mid": UP}, timeout=TIMEOUT).json()
    assert r["code"] == 0
    data = r["data"]
    assert data["card"]["mid"] == str(UP) and data["card"]["name"] == "某UP主"
    assert data["card"]["face"] == f"{fake.url}/bfs/face/{UP}.jpg"
    assert data["card"]["fans"] == data["follower"] and data["card"]["attention"] == 0
    assert data["following"] is False and data["archive_count"] == 3

    fake.add_space_user(OTHER, "另一个", face="https://example.invalid/face.png")
    other = requests.get(fake.url + CARD, params={"mid": OTHER}, timeout=TIMEOUT)
    assert other.json()["data"]["card"]["face"] == "https://example.invalid/face.png"
    assert other.json()["data"]["archive_count"] == 0
    seed = requests.get(fake.url + CARD, params={"mid": SEED_MID}, timeout=TIMEOUT)
    assert seed.json()["data"]["card"]["name"] == SEED_UNAME
    for params, code in (({"mid": STRANGER}, -404), ({}, -400)):
        r = requests.get(fake.url + CARD, params=params, timeout=TIMEOUT).json()
        assert r["code"] == code


# Controls, the log, faults


def test_the_controls_work_over_http(fake: FakeBilibili) -> None:
    def call(method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(
            method, fake.url + "/_fake/space" + path, json=body, timeout=TIMEOUT
        )

    user = call("POST", f"/{UP}", {"name": "某UP主"}).json()
    assert user == {
        "mid": UP,
        "name": "某UP主",
        "face": f"{fake.url}/bfs/face/{UP}.jpg",
    }
    videos = call("POST", f"/{UP}/videos", {"count": 2, "play": 9, "tid": 17}).json()
    assert [v["play"] for v in videos["videos"]] == [9, 9]
    assert videos["videos"][0]["tname"] == "单机游戏"
    bvid = videos["videos"][0]["bvid"]
    changed = call("POST", f"/videos/{bvid}", {"danmaku": 3}).json()
    assert changed["danmaku"] == 3
    assert call("DELETE", f"/videos/{bvid}").json() == {"ok": True}
    listed = call("GET", f"/{UP}/videos").json()["videos"]
    assert [v["bvid"] for v in listed] == [videos["videos"][1]["bvid"]]
    assert listed == fake.space_videos(UP)
    assert call("POST", "/review", {"seconds": 60}).json() == {"ok": True}
    assert fake.snapshot()["space"]["review_seconds"] == 60

    assert call("POST", f"/videos/{bvid}", {"play": 1}).status_code == 404
    assert call("DELETE", "/videos/BV1xxxxxxxxx").status_code == 404
    assert call("POST", f"/{UP}/videos", {"tid": 1}).status_code == 400
    assert call("POST", f"/{UP}/videos", {"count": 0}).status_code == 400
    assert call("POST", f"/{UP}/videos", {"colour": "red"}).status_code == 400
    assert call("POST", "/review", {"seconds": -1}).status_code == 400
    assert call("POST", f"/{UP}", {}).status_code == 400


def test_every_listing_request_is_logged(fake: FakeBilibili) -> None:
    fake.add_space_videos(UP, 3)
    first = cursor(fake, vmid=UP, ps=1)["data"]["item"][0]["param"]
    cursor(fake, vmid=UP, aid=first)
    search(fake, mid=UP, pn=2)
    cursor(fake, vmid=STRANGER)
    requests.get(fake.url + CARD, params={"mid": UP}, timeout=TIMEOUT)
    assert fake.space_requests() == [
        {"endpoint": "app", "mid": UP, "cursor": None, "pn": None},
        {"endpoint": "app", "mid": UP, "cursor": first, "pn": None},
        {"endpoint": "wbi", "mid": UP, "cursor": None, "pn": 2},
        {"endpoint": "app", "mid": STRANGER, "cursor": None, "pn": None},
    ]
    over_http = requests.get(fake.url + "/_fake/space/requests", timeout=TIMEOUT)
    assert over_http.json() == {"requests": fake.space_requests()}
    assert fake.snapshot()["space"]["requests"] == fake.space_requests()
    requests.delete(fake.url + "/_fake/space/requests", timeout=TIMEOUT)
    assert fake.space_requests() == []
    fake.add_space_videos(UP)
    fake.reset()
    assert fake.space_videos(UP) == [] and cursor(fake, vmid=UP)["code"] == -404


def test_faults_reach_the_listing_endpoints(fake: FakeBilibili) -> None:
    fake.add_space_videos(UP)
    fake.inject(CURSOR, "code", code=-412)
    blocked = requests.get(fake.url + CURSOR, params={"vmid": UP}, timeout=TIMEOUT)
    assert blocked.status_code == 412 and blocked.json()["code"] == -412
    assert cursor(fake, vmid=UP)["code"] == 0
    fake.inject(SEARCH, "http_status", status=503)
    resp = requests.get(
        fake.url + SEARCH, params=wbi_sign({"mid": UP}, MIXIN_KEY), timeout=TIMEOUT
    )
    assert resp.status_code == 503
    assert search(fake, mid=UP)["code"] == 0


# What the real site refuses (space_guard.py)


def test_a_bare_app_list_call_is_refused_and_a_signed_one_passes(
    fake: FakeBilibili,
) -> None:
    fake.add_space_videos(UP, 2)

    def answer(params: dict[str, Any]) -> dict[str, Any]:
        return requests.get(fake.url + CURSOR, params=params, timeout=TIMEOUT).json()

    bare = answer({"vmid": UP})
    assert (bare["code"], bare["message"], bare["data"]) == (-400, "请求错误", None)
    assert answer(app_sign({"vmid": UP}, TV))["code"] == 0
    assert answer(app_sign({"vmid": UP}, APP_KEYS["Android"]))["code"] == 0
    forged = {**app_sign({"vmid": UP}, TV), "sign": "0" * 32}
    assert (answer(forged)["code"], answer(forged)["message"]) == (
        -3,
        "API校验密匙错误",
    )
    tampered = {**app_sign({"vmid": UP}, TV), "vmid": str(OTHER)}
    assert answer(tampered)["code"] == -3
    unsigned = {"vmid": UP, "appkey": TV.appkey, "ts": "1700000000"}
    assert answer(unsigned)["code"] == -3
    stranger = app_sign({"vmid": UP}, AppKey("0123456789abcdef", "0" * 32))
    assert answer(stranger)["code"] == -1
    assert [r["code"] for r in fake.space_refusals()] == [-400, -3, -3, -3, -3, -1]
    assert {r["rule"] for r in fake.space_refusals()} == {"space_app_sign"}

    # With the rule off, the old bare call passes.
    fake.set_rules(space_app_sign=False)
    assert answer({"vmid": UP})["code"] == 0


def test_arc_search_without_the_dm_parameters_is_risk_controlled(
    fake: FakeBilibili,
) -> None:
    fake.add_space_videos(UP, 2)

    def answer(params: dict[str, Any]) -> requests.Response:
        signed = wbi_sign(params, MIXIN_KEY)
        return requests.get(fake.url + SEARCH, params=signed, timeout=TIMEOUT)

    old_form = {"mid": UP, "pn": 1, "ps": 30, "order": "pubdate"}
    refused = answer(old_form)
    body = refused.json()
    assert (body["code"], body["message"]) == (-352, "风控校验失败")
    assert body["data"]["v_voucher"].startswith("voucher_")
    assert refused.headers["x-bili-gaia-vvoucher"] == body["data"]["v_voucher"]
    for left_out in [*space_guard.DM_PARAMS, "platform", "web_location"]:
        params = {k: v for k, v in {**old_form, **WEB_PARAMS}.items() if k != left_out}
        assert answer(params).json()["code"] == -352, left_out
    assert answer({**old_form, **WEB_PARAMS, "platform": "h5"}).json()["code"] == -352
    ok = answer({**old_form, **WEB_PARAMS}).json()
    assert ok["code"] == 0 and len(ok["data"]["list"]["vlist"]) == 2
    assert {r["rule"] for r in fake.space_refusals()} == {"space_wbi_dm"}

    # With the rule off, the old form passes, and so does an unsigned call.
    fake.set_rules(space_wbi_dm=False)
    assert answer(old_form).json()["code"] == 0
    bare = requests.get(fake.url + SEARCH, params={"mid": UP}, timeout=TIMEOUT)
    assert bare.json()["code"] == 0


def test_a_signature_made_with_rotated_keys_is_refused(fake: FakeBilibili) -> None:
    fake.add_space_videos(UP)
    assert search(fake, mid=UP)["code"] == 0
    keys = fake.rotate_wbi_keys()
    assert search(fake, mid=UP)["code"] == -403
    mixin = wbi_mixin_key(keys["img_key"], keys["sub_key"])
    signed = wbi_sign({"mid": UP, **WEB_PARAMS}, mixin)
    r = requests.get(fake.url + SEARCH, params=signed, timeout=TIMEOUT).json()
    assert r["code"] == 0


def test_a_burst_of_calls_gets_352_then_the_ip_is_blocked_with_412(
    fake: FakeBilibili,
) -> None:
    fake.set_rules(space_burst=True)
    fake.add_space_videos(UP)
    url = fake.url + CURSOR
    sess = requests.Session()

    def call() -> requests.Response:
        return sess.get(url, params=app_sign({"vmid": UP}, TV), timeout=TIMEOUT)

    # Back to back, as a loop without a pace sends them: the first BURST_CALLS pass whatever
    # the timing; then risk control, within as many calls as a slow machine could need.
    answers = [call() for _ in range(space_guard.BURST_CALLS)]
    assert [r.json()["code"] for r in answers] == [0] * space_guard.BURST_CALLS
    codes = [call().json()["code"] for _ in range(10)]
    assert -352 in codes, codes
    refused = [r for r in (call() for _ in range(30)) if r.status_code == 412]
    assert refused, "the IP was never blocked"
    assert refused[0].json()["code"] == -412
    # The block covers every space endpoint, until its time is up.
    card = sess.get(fake.url + CARD, params={"mid": UP}, timeout=TIMEOUT)
    assert (card.status_code, card.json()["code"]) == (412, -412)
    assert search(fake, mid=UP)["code"] == -412
    assert {r["rule"] for r in fake.space_refusals()} == {"space_burst"}
    fake.advance_clock(space_guard.BLOCK_SECONDS)
    assert call().json()["code"] == 0

    # With the rule off, a burst passes.
    fake.set_rules(space_burst=False)
    assert {call().json()["code"] for _ in range(20)} == {0}


def test_the_burst_rule_counts_per_ip_and_spares_a_paced_client(
    fake: FakeBilibili,
) -> None:
    fake.set_rules(space_burst=True)

    def refusals(client: str, gap: float, calls: int) -> list[int]:
        """The codes of `calls` calls from `client`, `gap` seconds apart on the fake's clock."""
        req = Request.parse("GET", f"{CURSOR}?vmid={UP}", {}, b"")
        req.client = client
        codes = []
        for _ in range(calls):
            with fake.state.lock:
                response = space_guard.burst_refusal(fake.state, req)
            codes.append(0 if response is None else json.loads(response.body)["code"])
            fake.advance_clock(gap)
        return codes

    # A quarter of a second apart (biliup-site paces 0.35 s or more) is never refused.
    assert refusals("10.0.0.1", 0.25, 40) == [0] * 40
    # A tenth of a second apart is, and only for that IP.
    assert -352 in refusals("10.0.0.2", 0.1, 12)
    assert refusals("10.0.0.3", 0.25, 8) == [0] * 8
