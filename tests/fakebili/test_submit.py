"""The fake's creator endpoints over real HTTP: cover, app and web submit, edit, view, list, the
tag check, recommended tags and geetest/pre/add; and the strict rules on submit (strict.py):
client_add_closed, submit_interval, dtime_window, each shown both ways."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any

import pytest
import requests

from biliup_site.bilibili import APP_KEYS, app_sign
from tests.fakebili.images import JPEG, PNG
from tests.fakebili.server import SEED_MID, FakeBilibili
from tests.fakebili.submit import av2bv, bv2av
from tests.fakebili.upos import local_url

TIMEOUT = 5
OTHER_MID = 20002


class Account:
    """A logged-in account: its web cookies and csrf, its app token."""

    def __init__(self, fake: FakeBilibili, mid: int = SEED_MID) -> None:
        self.fake = fake
        self.mid = mid
        login = fake.login(mid)
        self.cookies = {c["name"]: c["value"] for c in login["cookie_info"]["cookies"]}
        self.csrf = self.cookies["bili_jct"]
        self.access_key = login["token_info"]["access_token"]

    def upload(self, data: bytes = b"") -> tuple[str, int]:
        """A completed one-chunk UPOS upload: (filename, biz_id)."""
        data = data or secrets.token_bytes(100)
        url = self.fake.url
        pre = requests.get(
            f"{url}/preupload",
            params={"r": "upos", "name": "p1.flv", "size": len(data), "upcdn": "tx"},
            cookies=self.cookies,
            timeout=TIMEOUT,
        ).json()
        key = pre["upos_uri"].removeprefix("upos://")
        target = local_url(url, pre["endpoint"], f"/{key}")
        auth = {"X-Upos-Auth": pre["auth"]}
        upload_id = requests.post(
            target + "?uploads&output=json", headers=auth, timeout=TIMEOUT
        ).json()["upload_id"]
        params = {"partNumber": 1, "uploadId": upload_id, "chunk": 0, "chunks": 1}
        params |= {"size": len(data), "start": 0, "end": len(data), "total": len(data)}
        put = requests.put(
            target, params=params, data=data, headers=auth, timeout=TIMEOUT
        )
        assert put.status_code == 200
        done = requests.post(
            target,
            params={"output": "json", "uploadId": upload_id, "biz_id": pre["biz_id"]},
            json={"parts": [{"partNumber": 1, "eTag": "etag"}]},
            headers=auth,
            timeout=TIMEOUT,
        )
        assert done.json()["OK"] == 1
        # §3.7: the stem of upos_uri.
        filename = pre["upos_uri"].rsplit("/", 1)[1].rsplit(".", 1)[0]
        return filename, pre["biz_id"]

    def app_query(self, key: str = "BiliTV") -> dict[str, str]:
        """§4.3's signed query, as biliup sends it."""
        statistics = {"appId": 1, "platform": 3, "version": "7.80.0", "abtest": ""}
        params = {
            "access_key": self.access_key,
            "build": 7800300,
            "c_locale": "zh-Hans_CN",
            "channel": "bili",
            "disable_rcmd": 0,
            "mobi_app": "android",
            "platform": "android",
            "s_locale": "zh-Hans_CN",
            "statistics": json.dumps(statistics, separators=(",", ":")),
        }
        return app_sign(params, APP_KEYS[key])

    def app(self, path: str, body: Any, **query: str) -> dict[str, Any]:
        return requests.post(
            self.fake.url + path,
            params={**self.app_query(), **query},
            json=body,
            timeout=TIMEOUT,
        ).json()

    def web(self, path: str, body: Any, csrf: str | None = None) -> dict[str, Any]:
        return requests.post(
            self.fake.url + path,
            params={"t": int(time.time() * 1000), "csrf": csrf or self.csrf},
            json=body,
            cookies=self.cookies,
            timeout=TIMEOUT,
        ).json()

    def view(self, **params: Any) -> dict[str, Any]:
        return requests.get(
            self.fake.url + "/x/client/archive/view",
            params={"access_key": self.access_key, **params},
            timeout=TIMEOUT,
        ).json()


def studio(*filenames: str, **fields: Any) -> dict[str, Any]:
    """§4.1's body, as biliup fills it."""
    return {
        "copyright": 1,
        "source": "",
        "tid": 171,
        "cover": "",
        "title": "【直播回放】今晚的比赛",
        "desc_format_id": 0,
        "desc": "录播",
        "desc_v2": [{"raw_text": "录播", "biz_id": "", "type": 1}],
        "dynamic": "",
        "subtitle": {"open": 0, "lan": ""},
        "tag": "直播回放,电子竞技",
        "videos": [
            {"title": f"P{i}", "filename": name, "desc": ""}
            for i, name in enumerate(filenames, 1)
        ],
        "open_subtitle": False,
        "interactive": 0,
        "mission_id": None,
        "dolby": 0,
        "lossless_music": 0,
        "no_reprint": 1,
        "open_elec": 0,
        "up_selection_reply": False,
        "up_close_reply": False,
        "up_close_danmu": False,
        **fields,
    }


@pytest.fixture
def alice(fake: FakeBilibili) -> Account:
    return Account(fake)


# §9 IDs


def test_av_and_bv_convert_both_ways() -> None:
    for aid, bvid in ((112861976201494, "BV181vnexEmB"), (1351875564, "BV1H6421w7Gy")):
        assert av2bv(aid) == bvid
        assert bv2av(bvid) == aid
    for _ in range(100):
        aid = secrets.randbelow(2**50) + 1
        assert bv2av(av2bv(aid)) == aid


# §3.9 Cover


def test_a_cover_comes_back_as_an_image_url(fake: FakeBilibili, alice: Account) -> None:
    def cover_up(
        cover: str, csrf: str | None = None, cookies: Any = None
    ) -> dict[str, Any]:
        return requests.post(
            fake.url + "/x/vu/web/cover/up",
            params={"ts": int(time.time() * 1000)},
            data={"cover": cover, "csrf": csrf or alice.csrf},
            cookies=alice.cookies if cookies is None else cookies,
            timeout=TIMEOUT,
        ).json()

    jpeg = "data:image/jpeg;base64," + base64.b64encode(JPEG).decode()
    r = cover_up(jpeg)
    assert r["code"] == 0
    url = r["data"]["url"]
    assert url == f"{fake.url}/bfs/archive/{hashlib.sha1(JPEG).hexdigest()}.jpg"
    image = requests.get(url, timeout=TIMEOUT)
    assert image.headers["Content-Type"] == "image/jpeg"

    png = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert cover_up(png)["code"] == 0
    assert cover_up(jpeg, cookies={})["code"] == -101
    assert cover_up(jpeg, csrf="0" * 32)["code"] == -111
    for bad in (
        "not a data url",
        "data:image/jpeg;base64,@@@",
        "data:image/jpeg;base64," + base64.b64encode(b"GIF89a").decode(),
    ):
        assert cover_up(bad)["code"] == -400


# §4.3 App submit, §4.2 web submit


def test_an_app_submit_makes_an_archive(fake: FakeBilibili, alice: Account) -> None:
    filename, biz_id = alice.upload()
    body = studio(filename)
    r = alice.app("/x/vu/app/add", body)
    assert r["code"] == 0 and r["message"] == "0"
    aid, bvid = r["data"]["aid"], r["data"]["bvid"]
    assert set(r["data"]) == {"aid", "bvid"}
    assert 1 <= aid <= 2**50 and bvid == av2bv(aid)
    [archive] = fake.archives()
    assert (archive["aid"], archive["bvid"], archive["mid"]) == (aid, bvid, SEED_MID)
    assert archive["body"] == body and archive["state"] == 0
    assert archive["videos"] == [
        {"title": "P1", "filename": filename, "desc": "", "cid": biz_id}
    ]
    over_http = requests.get(fake.url + "/_fake/archives", timeout=TIMEOUT).json()
    assert over_http == fake.archives()


def test_an_app_submit_needs_a_good_sign_and_token(
    fake: FakeBilibili, alice: Account
) -> None:
    filename, _ = alice.upload()
    url = fake.url + "/x/vu/app/add"
    query = {**alice.app_query(), "sign": "0" * 32}
    assert (
        requests.post(url, params=query, json=studio(filename), timeout=TIMEOUT).json()[
            "code"
        ]
        == -3
    )
    stranger = alice.app_query()
    stranger = app_sign({**stranger, "access_key": "nope"}, APP_KEYS["BiliTV"])
    assert (
        requests.post(url, params=stranger, json={}, timeout=TIMEOUT).json()["code"]
        == -101
    )
    # §0: a BiliTV token signed with another app's key.
    android = app_sign(
        {k: v for k, v in alice.app_query().items() if k not in ("appkey", "sign")},
        APP_KEYS["Android"],
    )
    assert (
        requests.post(url, params=android, json={}, timeout=TIMEOUT).json()["code"]
        == -663
    )
    assert fake.archives() == []


def test_a_web_submit_makes_an_archive(fake: FakeBilibili, alice: Account) -> None:
    filename, biz_id = alice.upload()
    r = alice.web("/x/vu/web/add/v3", studio(filename))
    assert r["code"] == 0
    assert fake.archives()[0]["videos"][0]["cid"] == biz_id
    assert alice.web("/x/vu/web/add/v3", studio(filename), csrf="bad")["code"] == -111
    anonymous = requests.post(
        fake.url + "/x/vu/web/add/v3",
        params={"csrf": alice.csrf},
        json=studio(filename),
        timeout=TIMEOUT,
    )
    assert anonymous.json()["code"] == -101
    assert len(fake.archives()) == 1


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"title": "长" * 81}, 21103),
        ({"title": ""}, 21103),
        ({"tid": 4}, 21001),  # a parent, not a category one can submit to
        ({"tid": 99999}, 21001),
        ({"tag": ""}, 21001),
        ({"tag": ",".join(f"t{i}" for i in range(11))}, 21001),
        ({"copyright": 3}, 21001),
        ({"copyright": 2, "source": ""}, 21001),
        ({"videos": []}, 21001),
        ({"dtime": "soon"}, 21001),
        ("dtime+100", 21006),
        ("unknown file", -616),
        ("another account's file", -616),
        ("unfinished file", -616),
    ],
)
def test_a_submit_is_checked(
    fake: FakeBilibili, alice: Account, fields: dict[str, Any] | str, code: int
) -> None:
    filename, _ = alice.upload()
    body = studio(filename)
    if fields == "dtime+100":
        body["dtime"] = int(time.time()) + 100
    elif fields == "unknown file":
        body = studio("n240728nosuchfile")
    elif fields == "another account's file":
        body = studio(Account(fake, OTHER_MID).upload()[0])
    elif fields == "unfinished file":
        pre = requests.get(
            fake.url + "/preupload",
            params={"r": "upos", "name": "x.flv", "size": 10},
            cookies=alice.cookies,
            timeout=TIMEOUT,
        ).json()
        body = studio(pre["upos_uri"].rsplit("/", 1)[1].split(".")[0])
    else:
        assert isinstance(fields, dict)
        body.update(fields)
    r = alice.web("/x/vu/web/add/v3", body)
    assert r["code"] == code, r
    assert r["message"]
    assert fake.archives() == []


def test_a_submit_takes_a_repost_and_a_scheduled_time(
    fake: FakeBilibili, alice: Account
) -> None:
    filename, _ = alice.upload()
    dtime = int(time.time()) + 5 * 3600
    body = studio(
        filename, copyright=2, source="https://example.invalid/v", dtime=dtime
    )
    assert alice.app("/x/vu/app/add", body)["code"] == 0
    assert fake.archives()[0]["body"]["dtime"] == dtime


def test_injected_codes_and_a_lost_response(fake: FakeBilibili, alice: Account) -> None:
    filename, _ = alice.upload()
    fake.inject("/x/vu/app/add", "code", code=137022)
    r = alice.app("/x/vu/app/add", studio(filename))
    assert (r["code"], r["message"]) == (137022, "投稿过于频繁，请稍后再试")
    assert fake.archives() == []

    fake.inject("/x/vu/app/add", "drop_response")
    with pytest.raises(requests.ConnectionError):
        alice.app("/x/vu/app/add", studio(filename))
    assert len(fake.archives()) == 1


# §4.4 View, edit, list


def test_an_append_views_then_edits(fake: FakeBilibili, alice: Account) -> None:
    first, first_cid = alice.upload()
    data = alice.app("/x/vu/app/add", studio(first))["data"]
    aid, bvid = data["aid"], data["bvid"]

    view = alice.view(aid=aid)
    assert view["code"] == 0
    archive, videos = view["data"]["archive"], view["data"]["videos"]
    assert (archive["aid"], archive["bvid"]) == (aid, bvid)
    for name in ("title", "tid", "tag", "copyright", "source", "desc", "cover"):
        assert archive[name] == studio(first)[name]
    assert (archive["dynamic"], archive["no_reprint"]) == ("", 1)
    assert "videos" not in archive
    assert videos == [
        {"title": "P1", "filename": first, "desc": "", "cid": first_cid, "duration": 0}
    ]
    assert alice.view(bvid=bvid)["data"] == view["data"]

    second, second_cid = alice.upload()
    body = {
        **archive,
        "title": "改过的标题",
        "videos": [*videos, {"title": "P2", "filename": second, "desc": ""}],
    }
    r = alice.app("/x/vu/app/edit/full", body)
    assert r["code"] == 0 and r["data"] == {"aid": aid, "bvid": bvid}
    view = alice.view(aid=aid)["data"]
    assert view["archive"]["title"] == "改过的标题"
    assert [(v["filename"], v["cid"]) for v in view["videos"]] == [
        (first, first_cid),
        (second, second_cid),
    ]

    third, _ = alice.upload()
    body["videos"].append({"title": "P3", "filename": third, "desc": ""})
    assert alice.web("/x/vu/web/edit", body)["code"] == 0
    assert len(fake.archives()[0]["videos"]) == 3


def test_an_edit_is_checked(fake: FakeBilibili, alice: Account) -> None:
    first, _ = alice.upload()
    aid = alice.app("/x/vu/app/add", studio(first))["data"]["aid"]
    second, _ = alice.upload()

    assert alice.app("/x/vu/app/edit/full", {**studio(first), "aid": 1})["code"] == (
        -404
    )
    bob = Account(fake, OTHER_MID)
    bobs = bob.upload()[0]
    assert bob.app("/x/vu/app/edit/full", {**studio(bobs), "aid": aid})["code"] == -403
    # The existing part must come first, unchanged.
    for videos in ([second], [second, first], []):
        body = {**studio(*videos), "aid": aid}
        assert alice.app("/x/vu/app/edit/full", body)["code"] == 21001
    body = {**studio(first, bobs), "aid": aid}
    assert alice.app("/x/vu/app/edit/full", body)["code"] == -616
    assert alice.web("/x/vu/web/edit", body, csrf="bad")["code"] == -111
    assert len(fake.archives()[0]["videos"]) == 1


def test_a_view_is_only_for_the_owner(fake: FakeBilibili, alice: Account) -> None:
    aid = alice.app("/x/vu/app/add", studio(alice.upload()[0]))["data"]["aid"]
    assert Account(fake, OTHER_MID).view(aid=aid)["code"] == -403
    assert alice.view(aid=aid + 1)["code"] == -404
    assert alice.view(bvid="BV1xx411c7mD")["code"] == -404
    anonymous = requests.get(
        fake.url + "/x/client/archive/view", params={"aid": aid}, timeout=TIMEOUT
    )
    assert anonymous.json()["code"] == -101


def test_the_archive_list_pages_newest_first(
    fake: FakeBilibili, alice: Account
) -> None:
    aids = []
    for i in range(3):
        filename, cid = alice.upload()
        body = studio(filename, title=f"第{i}场")
        aids.append(alice.web("/x/vu/web/add/v3", body)["data"]["aid"])
        fake.advance_clock(60)
    # Another account's archives are not listed.
    bob = Account(fake, OTHER_MID)
    assert bob.web("/x/vu/web/add/v3", studio(bob.upload()[0]))["code"] == 0

    def page(**params: Any) -> dict[str, Any]:
        return requests.get(
            fake.url + "/x/web/archives",
            params={"status": "is_pubing,pubed,not_pubed", **params},
            cookies=alice.cookies,
            timeout=TIMEOUT,
        ).json()

    first = page(pn=1, ps=2)
    assert first["code"] == 0
    assert first["data"]["page"] == {"pn": 1, "ps": 2, "count": 3}
    audits = first["data"]["arc_audits"]
    assert [a["Archive"]["aid"] for a in audits] == [aids[2], aids[1]]
    archive = audits[0]["Archive"]
    assert set(archive) == {
        "aid",
        "bvid",
        "title",
        "cover",
        "desc",
        "duration",
        "state",
        "state_desc",
        "reject_reason",
        "dtime",
        "ptime",
        "ctime",
    }
    assert (archive["title"], archive["state"], archive["dtime"]) == ("第2场", 0, 0)
    assert archive["ptime"] == archive["ctime"]
    assert archive["bvid"] == av2bv(aids[2])
    assert set(audits[0]["Videos"][0]) == {"title", "filename", "cid"}

    second = page(pn=2, ps=2)["data"]
    assert [a["Archive"]["aid"] for a in second["arc_audits"]] == [aids[0]]
    assert page()["data"]["page"] == {"pn": 1, "ps": 10, "count": 3}
    anonymous = requests.get(fake.url + "/x/web/archives", timeout=TIMEOUT)
    assert anonymous.json()["code"] == -101


# Strict rules (bilibili-2026.md "Upload and submit")


def client(alice: Account, path: str, body: Any) -> dict[str, Any]:
    """§4.3's legacy client form: the JSON body, access_key in the query, no sign."""
    return requests.post(
        alice.fake.url + path,
        params={"access_key": alice.access_key},
        json=body,
        timeout=TIMEOUT,
    ).json()


def test_the_client_routes_are_closed(fake: FakeBilibili, alice: Account) -> None:
    filename, _ = alice.upload()
    for path in ("/x/vu/client/add", "/x/vu/client/edit"):
        r = client(alice, path, studio(filename))
        assert (r["code"], r["message"]) == (21590, "投稿工具已停用")
    assert fake.archives() == []
    calls = [(c["path"], c["code"]) for c in fake.member_calls()]
    assert calls[-2:] == [("/x/vu/client/add", 21590), ("/x/vu/client/edit", 21590)]


def test_with_the_rule_off_the_client_routes_take_the_old_form(
    fake: FakeBilibili, alice: Account
) -> None:
    fake.set_rules(client_add_closed=False)
    first, _ = alice.upload()
    r = client(alice, "/x/vu/client/add", studio(first))
    assert r["code"] == 0
    second, _ = alice.upload()
    edit = {**studio(first, second), "aid": r["data"]["aid"]}
    assert client(alice, "/x/vu/client/edit", edit)["code"] == 0
    assert len(fake.archives()[0]["videos"]) == 2
    assert client(Account(fake, OTHER_MID), "/x/vu/client/add", {})["code"] != 0


def test_a_submit_within_30_s_of_the_last_is_refused(
    fake: FakeBilibili, alice: Account
) -> None:
    first, second, third = (alice.upload()[0] for _ in range(3))
    aid = alice.app("/x/vu/app/add", studio(first))["data"]["aid"]
    fake.advance_clock(29)
    # Whatever the route: the limit is the account's.
    for r in (
        alice.web("/x/vu/web/add/v3", studio(second)),
        alice.app("/x/vu/app/add", studio(second)),
    ):
        assert (r["code"], r["message"]) == (
            21566,
            "投稿过于频繁，建议将APP升级至最新版本后再试",
        )
    # Another account, and an edit, are not held up.
    bob = Account(fake, OTHER_MID)
    assert bob.web("/x/vu/web/add/v3", studio(bob.upload()[0]))["code"] == 0
    edit = {**studio(first, third), "aid": aid}
    assert alice.app("/x/vu/app/edit/full", edit)["code"] == 0
    # Refusals do not restart the 30 s.
    fake.advance_clock(1)
    assert alice.web("/x/vu/web/add/v3", studio(second))["code"] == 0
    assert len(fake.archives()) == 3


def test_with_the_rule_off_submits_may_follow_at_once(
    fake: FakeBilibili, alice: Account
) -> None:
    fake.set_rules(submit_interval=False)
    for _ in range(3):
        assert alice.web("/x/vu/web/add/v3", studio(alice.upload()[0]))["code"] == 0
    assert len(fake.archives()) == 3


@pytest.mark.parametrize(
    ("ahead", "code"),
    [
        (-60, 21006),
        (2 * 3600 - 60, 21006),
        (2 * 3600 + 60, 0),
        (15 * 86400 - 60, 0),
        (15 * 86400 + 60, 21006),
    ],
)
def test_a_dtime_must_be_2_hours_to_15_days_ahead(
    fake: FakeBilibili, alice: Account, ahead: int, code: int
) -> None:
    dtime = int(fake.state.now()) + ahead
    r = alice.app("/x/vu/app/add", studio(alice.upload()[0], dtime=dtime))
    assert r["code"] == code, r
    if code:
        assert r["message"] == "发布时间离当前时间必须≥2小时且≤15天，请重新选择"
    assert len(fake.archives()) == (0 if code else 1)


def test_an_edit_may_keep_a_dtime_that_is_now_near(
    fake: FakeBilibili, alice: Account
) -> None:
    first, second = alice.upload()[0], alice.upload()[0]
    dtime = int(fake.state.now()) + 3 * 3600
    aid = alice.app("/x/vu/app/add", studio(first, dtime=dtime))["data"]["aid"]
    fake.advance_clock(2 * 3600)
    body = {**studio(first, second, dtime=dtime), "aid": aid}
    assert alice.app("/x/vu/app/edit/full", body)["code"] == 0
    moved = {**body, "dtime": dtime + 60}
    assert alice.app("/x/vu/app/edit/full", moved)["code"] == 21006


def test_with_the_rule_off_any_dtime_passes(fake: FakeBilibili, alice: Account) -> None:
    fake.set_rules(dtime_window=False)
    dtime = int(fake.state.now()) + 3600
    assert (
        alice.app("/x/vu/app/add", studio(alice.upload()[0], dtime=dtime))["code"] == 0
    )


# §3.10 Tags, geetest/pre/add


def test_the_tag_check_answers_as_bilibili_does(
    fake: FakeBilibili, alice: Account
) -> None:
    def check(tag: str, cookies: dict[str, str] | None = None) -> dict[str, Any]:
        return requests.get(
            fake.url + "/x/vupre/web/topic/tag/check",
            params={"tag": tag},
            cookies=alice.cookies if cookies is None else cookies,
            timeout=TIMEOUT,
        ).json()

    assert check("直播回放") == {
        "code": 0,
        "message": "0",
        "ttl": 1,
        "data": {"code": 0, "content": ""},
    }
    assert check("直播回放", cookies={})["code"] == -101
    r = requests.post(
        fake.url + "/_fake/member/banned_tags",
        json={"tags": ["封印的标签"]},
        timeout=TIMEOUT,
    )
    assert r.json() == ["封印的标签"]
    bad = requests.post(
        fake.url + "/_fake/member/banned_tags", json={"tags": "x"}, timeout=TIMEOUT
    )
    assert bad.status_code == 400
    assert check("封印的标签") == {
        "code": 16025,
        "message": "tag已经被封印了~",
        "ttl": 1,
        "data": {"code": 1, "content": "服务器错误"},
    }


def test_recommended_tags_come_from_the_partition_and_the_title(
    fake: FakeBilibili, alice: Account
) -> None:
    def recommend(cookies: dict[str, str] | None = None) -> dict[str, Any]:
        # biliup-rs's query.
        return requests.get(
            fake.url + "/x/vupre/web/tag/recommend",
            params={
                "upload_id": "",
                "subtype_id": 171,
                "title": "【直播回放】今晚的比赛",
                "filename": "",
                "description": "",
                "cover_url": "",
                "t": "",
            },
            cookies=alice.cookies if cookies is None else cookies,
            timeout=TIMEOUT,
        ).json()

    body = recommend()
    assert body["code"] == 0 and body["message"] == "0"
    assert [t["tag"] for t in body["data"]] == [
        "电子竞技",
        "游戏",
        "直播回放",
        "今晚的比赛",
    ]
    assert body["request_id"].startswith("TAG_")
    assert body["data"][0] == {
        "tag": "电子竞技",
        "checked": 0,
        "request_id": body["request_id"],
    }
    assert {t["request_id"] for t in body["data"][1:]} == {""}
    fake.ban_tags(["游戏"])
    assert "游戏" not in [t["tag"] for t in recommend()["data"]]
    assert recommend(cookies={})["code"] == -101


def test_geetest_pre_add_answers_a_logged_in_account(
    fake: FakeBilibili, alice: Account
) -> None:
    url = fake.url + "/x/geetest/pre/add"
    body = requests.get(url, cookies=alice.cookies, timeout=TIMEOUT).json()
    assert body["code"] == 0
    assert set(body["data"]) == {"gt", "challenge", "success", "new_captcha"}
    assert requests.get(url, timeout=TIMEOUT).json()["code"] == -101


def test_the_creator_centre_logs_its_calls(fake: FakeBilibili, alice: Account) -> None:
    filename, _ = alice.upload()
    fake.advance_clock(5)
    alice.web("/x/vu/web/add/v3", studio(filename))
    alice.web("/x/vu/web/add/v3", studio(filename))
    calls = requests.get(fake.url + "/_fake/member/calls", timeout=TIMEOUT).json()
    assert calls == fake.member_calls()
    assert [(c["method"], c["path"], c["code"]) for c in calls] == [
        ("POST", "/x/vu/web/add/v3", 0),
        ("POST", "/x/vu/web/add/v3", 21566),
    ]
    assert calls[0]["at"] >= time.time() + 4
    fake.reset()
    assert fake.member_calls() == []
