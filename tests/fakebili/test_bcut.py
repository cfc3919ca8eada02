"""The fake's BCut (必剪) route over real HTTP: the BCut preupload (its client identity, rule
bcut_identity, shown both ways; no hourly budget), the UPOS flow after it, and /x/vu/mvp/add."""

from __future__ import annotations

import secrets
from typing import Any

import requests

from biliup_site.bilibili import APP_KEYS, app_sign
from tests.fakebili.server import SEED_MID, FakeBilibili
from tests.fakebili.submit import SUBMIT_INTERVAL
from tests.fakebili.test_submit import studio
from tests.fakebili.upos import PREUPLOAD_BUDGET, local_url

TIMEOUT = 5
BCUT_UA = "bcut-pc build:22559864"
BCUT_PARAMS = {"profile": "ugcfx/bcut-pc", "version": "3.11.20", "build": "22559864"}
WEB_PARAMS = {"profile": "ugcupos/bup", "ssl": "0", "version": "2.14.0"}
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) fakebili-tests"


def login(fake: FakeBilibili, mid: int = SEED_MID) -> tuple[requests.Session, str]:
    """A session with the account's web cookies, and its app token (the TV login's)."""
    credential = fake.login(mid)
    sess = requests.Session()
    for cookie in credential["cookie_info"]["cookies"]:
        sess.cookies.set(cookie["name"], cookie["value"])
    return sess, credential["token_info"]["access_token"]


def preupload(
    sess: requests.Session,
    fake: FakeBilibili,
    size: int = 100,
    bcut: bool = True,
    ua: str | None = None,
    **params: str,
) -> requests.Response:
    route = BCUT_PARAMS if bcut else WEB_PARAMS
    return sess.get(
        f"{fake.url}/preupload?probe_version=20221109&upcdn=bda2&zone=cs",
        params={"name": "clip.mp4", "r": "upos", "size": size, **route, **params},
        headers={"User-Agent": ua or (BCUT_UA if bcut else BROWSER_UA)},
        timeout=TIMEOUT,
    )


def finish(fake: FakeBilibili, pre: dict[str, Any], data: bytes) -> str:
    """Init, one chunk and complete, as after any preupload; the file's filename."""
    key = pre["upos_uri"].removeprefix("upos://")
    target = local_url(fake.url, pre["endpoint"], f"/{key}")
    auth = {"X-Upos-Auth": pre["auth"]}
    upload_id = requests.post(
        target + "?uploads&output=json", headers=auth, timeout=TIMEOUT
    ).json()["upload_id"]
    params = {"partNumber": 1, "uploadId": upload_id, "chunk": 0, "chunks": 1}
    params |= {"size": len(data), "start": 0, "end": len(data), "total": len(data)}
    put = requests.put(target, params=params, data=data, headers=auth, timeout=TIMEOUT)
    assert put.status_code == 200, put.text
    done = requests.post(
        target,
        params={"output": "json", "uploadId": upload_id, "biz_id": pre["biz_id"]},
        json={"parts": [{"partNumber": 1, "eTag": "etag"}]},
        headers=auth,
        timeout=TIMEOUT,
    )
    assert done.json()["OK"] == 1
    return key.rsplit("/", 1)[1].rsplit(".", 1)[0]


def bcut_query(access_key: str, key: str = "BCut") -> dict[str, str]:
    """§4.3's BCut query, as biliup-rs sends it."""
    params = {
        "access_key": access_key,
        "build": 2800030,
        "c_locale": "zh-Hans_CN",
        "channel": "master",
        "mobi_app": "android_bbs",
        "platform": "android",
        "s_locale": "zh-Hans_CN",
    }
    return app_sign(params, APP_KEYS[key])


def mvp_add(fake: FakeBilibili, query: dict[str, str], body: Any) -> dict[str, Any]:
    return requests.post(
        fake.url + "/x/vu/mvp/add", params=query, json=body, timeout=TIMEOUT
    ).json()


def test_a_bcut_preupload_leads_to_a_whole_file(fake: FakeBilibili) -> None:
    sess, _ = login(fake)
    data = secrets.token_bytes(1000)

    resp = preupload(sess, fake, len(data))

    pre = resp.json()
    assert (resp.status_code, pre["OK"]) == (200, 1)
    assert pre["put_query"] == "os=upos&profile=ugcfx%2Fbcut-pc"
    filename = finish(fake, pre, data)
    [upload] = fake.upos_uploads()
    assert (upload["profile"], upload["complete"]) == ("ugcfx/bcut-pc", True)
    assert [f["filename"] for f in fake.upos_files()] == [filename]


def test_the_bcut_profile_is_refused_to_anyone_but_bcut(fake: FakeBilibili) -> None:
    sess, _ = login(fake)

    browser = preupload(sess, fake, ua=BROWSER_UA)
    web_version = preupload(sess, fake, version="2.14.0")

    for resp in (browser, web_version):
        assert resp.status_code == 403
        assert resp.json()["OK"] == 0
    assert fake.upos_uploads() == []
    assert preupload(sess, fake).status_code == 200
    # Logged out is logged out, whoever asks.
    assert preupload(requests.Session(), fake).json()["code"] == -101


def test_with_the_rule_off_a_browser_may_ask_for_the_bcut_profile(
    fake: FakeBilibili,
) -> None:
    fake.set_rules(bcut_identity=False)
    sess, _ = login(fake)

    assert preupload(sess, fake, ua=BROWSER_UA).json()["OK"] == 1


def test_bcut_preuploads_are_outside_the_hourly_budget(fake: FakeBilibili) -> None:
    sess, _ = login(fake)
    for _ in range(PREUPLOAD_BUDGET):
        assert preupload(sess, fake, bcut=False).json()["OK"] == 1
    assert preupload(sess, fake, bcut=False).status_code == 406

    # The web's budget is spent, BCut's route is open, and its uploads do not count.
    for _ in range(PREUPLOAD_BUDGET + 5):
        assert preupload(sess, fake).json()["OK"] == 1
    fake.advance_clock(3601)
    for _ in range(PREUPLOAD_BUDGET):
        assert preupload(sess, fake, bcut=False).json()["OK"] == 1


def test_the_throttle_controls_are_per_route(fake: FakeBilibili) -> None:
    sess, _ = login(fake)
    fake.upos_rate_limit(times=1, style="601")
    assert preupload(sess, fake).json()["OK"] == 1
    assert preupload(sess, fake, bcut=False).json()["code"] == 601

    resp = requests.post(
        f"{fake.url}/_fake/upos/bcut_rate_limit", json={"times": 1}, timeout=TIMEOUT
    )

    assert resp.ok, resp.text
    throttled = preupload(sess, fake)
    assert (throttled.status_code, throttled.json()["OK"]) == (406, 0)
    assert preupload(sess, fake, bcut=False).json()["OK"] == 1
    assert preupload(sess, fake).json()["OK"] == 1


def test_mvp_add_makes_an_archive_of_a_bcut_upload(fake: FakeBilibili) -> None:
    sess, token = login(fake)
    filename = finish(fake, preupload(sess, fake).json(), b"x" * 100)

    # The token is the TV login's, the sign BCut's: biliup-rs does exactly this.
    answer = mvp_add(fake, bcut_query(token), studio(filename))

    assert answer["code"] == 0, answer
    [archive] = fake.archives()
    assert (archive["aid"], archive["mid"]) == (answer["data"]["aid"], SEED_MID)
    assert [v["filename"] for v in archive["videos"]] == [filename]


def test_mvp_add_wants_the_bcut_key_a_good_sign_and_a_token(
    fake: FakeBilibili,
) -> None:
    sess, token = login(fake)
    filename = finish(fake, preupload(sess, fake).json(), b"x" * 100)
    bad_sign = {**bcut_query(token), "sign": "0" * 32}

    assert mvp_add(fake, bcut_query(token, "BiliTV"), studio(filename))["code"] == -3
    assert mvp_add(fake, bad_sign, studio(filename))["code"] == -3
    assert mvp_add(fake, bcut_query("nope"), studio(filename))["code"] == -101
    assert fake.archives() == []


def test_mvp_add_checks_the_studio_and_the_interval(fake: FakeBilibili) -> None:
    sess, token = login(fake)
    first, second = (
        finish(fake, preupload(sess, fake).json(), b"x" * 100) for _ in range(2)
    )

    assert mvp_add(fake, bcut_query(token), studio())["code"] == 21001
    assert mvp_add(fake, bcut_query(token), studio("n0nexistent"))["code"] == -616
    assert mvp_add(fake, bcut_query(token), studio(first))["code"] == 0
    # The 30 s are the account's, whatever the route.
    fake.advance_clock(SUBMIT_INTERVAL - 1)
    assert mvp_add(fake, bcut_query(token), studio(second))["code"] == 21566
    fake.advance_clock(1)
    assert mvp_add(fake, bcut_query(token), studio(second))["code"] == 0
