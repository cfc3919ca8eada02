"""The fake Bilibili itself, over real HTTP: state machines, checks, payload shapes, faults."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
import requests

from tests.fakebili.server import SEED_MID, FakeBilibili
from tests.fakebili.wire import ANDROID_APPKEY, APP_SECRETS, BILITV_APPKEY

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 5


def signed(params: dict[str, Any], appkey: str = BILITV_APPKEY) -> dict[str, str]:
    """Signed the way biliup signs (§0), written out here rather than taken from the fake."""
    params = {k: str(v) for k, v in {**params, "appkey": appkey}.items()}
    query = urlencode(sorted(params.items()))
    return {
        **params,
        "sign": hashlib.md5((query + APP_SECRETS[appkey]).encode()).hexdigest(),
    }


def get(fake: FakeBilibili, path: str, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("timeout", TIMEOUT)
    return requests.get(fake.url + path, **kwargs)


def post(fake: FakeBilibili, path: str, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("timeout", TIMEOUT)
    return requests.post(fake.url + path, **kwargs)


def web_poll(fake: FakeBilibili, key: str) -> requests.Response:
    return get(fake, "/x/passport-login/web/qrcode/poll", params={"qrcode_key": key})


def tv_auth_code(fake: FakeBilibili) -> str:
    body = signed({"local_id": 0, "ts": int(time.time())})
    r = post(fake, "/x/passport-tv-login/qrcode/auth_code", data=body).json()
    assert r["code"] == 0
    return r["data"]["auth_code"]


def tv_poll(fake: FakeBilibili, auth_code: str) -> dict[str, Any]:
    body = signed({"auth_code": auth_code, "local_id": 0, "ts": int(time.time())})
    return post(fake, "/x/passport-tv-login/qrcode/poll", data=body).json()


def cookie_header(login: dict[str, Any]) -> dict[str, str]:
    cookies = login["cookie_info"]["cookies"]
    return {"Cookie": "; ".join(f"{c['name']}={c['value']}" for c in cookies)}


def token_info(fake: FakeBilibili, access_token: str) -> dict[str, Any]:
    params = signed(
        {"access_key": access_token, "actionKey": "appkey", "ts": int(time.time())},
        ANDROID_APPKEY,
    )
    return get(fake, "/x/passport-login/oauth2/info", params=params).json()


# §1.1 Web QR


def test_it_walks_the_web_qr_from_not_scanned_to_logged_in(fake: FakeBilibili) -> None:
    r = get(fake, "/x/passport-login/web/qrcode/generate").json()
    assert r["code"] == 0 and r["message"] == "0" and r["ttl"] == 1
    key = r["data"]["qrcode_key"]
    assert len(key) == 32
    assert parse_qs(urlsplit(r["data"]["url"]).query)["qrcode_key"] == [key]
    assert fake.pending_qr_keys() == [key]

    first = web_poll(fake, key).json()
    assert first["code"] == 0
    assert first["data"] == {
        "url": "",
        "refresh_token": "",
        "timestamp": 0,
        "code": 86101,
        "message": "未扫码",
    }
    fake.scan_qr(key)
    assert web_poll(fake, key).json()["data"]["code"] == 86090
    fake.confirm_qr(key)

    done = web_poll(fake, key)
    data = done.json()["data"]
    assert (done.json()["code"], data["code"]) == (0, 0)
    assert data["refresh_token"] and data["timestamp"] > 0
    assert set(done.cookies.keys()) == {
        "SESSDATA",
        "bili_jct",
        "DedeUserID",
        "DedeUserID__ckMd5",
        "sid",
    }
    assert done.cookies["DedeUserID"] == str(SEED_MID)
    # The crossDomain URL carries the same login in its query.
    query = parse_qs(urlsplit(data["url"]).query)
    assert query["bili_jct"] == [done.cookies["bili_jct"]]
    assert "HttpOnly" in done.raw.headers.get_all("Set-Cookie")[0]

    nav = get(fake, "/x/web-interface/nav", cookies=done.cookies).json()
    assert nav["code"] == 0 and nav["data"]["mid"] == SEED_MID
    # A used key is gone; nothing is pending any more.
    assert web_poll(fake, key).json()["data"]["code"] == 86038
    assert fake.pending_qr_keys() == []


def test_it_expires_a_web_qr_after_its_lifetime(fake: FakeBilibili) -> None:
    key = get(fake, "/x/passport-login/web/qrcode/generate").json()["data"][
        "qrcode_key"
    ]
    fake.advance_clock(179)
    assert web_poll(fake, key).json()["data"]["code"] == 86101
    fake.advance_clock(2)
    assert web_poll(fake, key).json()["data"]["code"] == 86038
    assert web_poll(fake, "0" * 32).json()["data"]["code"] == 86038

    fake.configure(qr_ttl=5)
    key = get(fake, "/x/passport-login/web/qrcode/generate").json()["data"][
        "qrcode_key"
    ]
    fake.advance_clock(6)
    assert web_poll(fake, key).json()["data"]["code"] == 86038


def test_it_logs_a_web_qr_in_as_a_new_mid(fake: FakeBilibili) -> None:
    key = get(fake, "/x/passport-login/web/qrcode/generate").json()["data"][
        "qrcode_key"
    ]
    assert post(fake, f"/_fake/qr/{key}/confirm", json={"mid": 777}).json() == {
        "mid": 777
    }
    done = web_poll(fake, key)
    assert done.cookies["DedeUserID"] == "777"
    myinfo = get(fake, "/x/space/myinfo", cookies=done.cookies).json()
    assert myinfo["data"]["mid"] == 777


# §1.2 TV QR


def test_it_walks_the_tv_qr_and_answers_with_a_full_login(fake: FakeBilibili) -> None:
    auth_code = tv_auth_code(fake)
    assert len(auth_code) == 32
    assert tv_poll(fake, auth_code) == {
        "code": 86039,
        "message": "二维码尚未确认",
        "ttl": 1,
        "data": None,
    }
    fake.scan_qr(auth_code)
    assert tv_poll(fake, auth_code)["code"] == 86090
    fake.confirm_qr(auth_code, mid=20002)

    r = tv_poll(fake, auth_code)
    assert r["code"] == 0
    data = r["data"]
    assert set(data) == {
        "is_new",
        "mid",
        "access_token",
        "refresh_token",
        "expires_in",
        "token_info",
        "cookie_info",
        "sso",
    }
    assert data["is_new"] is True and data["mid"] == 20002
    assert data["expires_in"] == 15552000
    assert data["token_info"] == {
        "mid": 20002,
        "access_token": data["access_token"],
        "refresh_token": data["refresh_token"],
        "expires_in": 15552000,
    }
    cookies = data["cookie_info"]["cookies"]
    assert [c["name"] for c in cookies] == [
        "SESSDATA",
        "bili_jct",
        "DedeUserID",
        "DedeUserID__ckMd5",
        "sid",
    ]
    for c in cookies:
        assert set(c) == {"name", "value", "http_only", "expires", "secure"}
        assert c["http_only"] == int(c["name"] == "SESSDATA")
        assert c["expires"] > time.time() + 170 * 86400
    assert ".bilibili.com" in data["cookie_info"]["domains"]
    assert len(data["sso"]) == 3

    # The cookies work on the web API, the token on the app API.
    nav = get(fake, "/x/web-interface/nav", headers=cookie_header(data)).json()
    assert nav["data"]["uname"] == "bili_20002"
    assert token_info(fake, data["access_token"])["data"]["mid"] == 20002
    # Used once; then gone.
    assert tv_poll(fake, auth_code)["code"] == 86038


def test_it_expires_a_tv_qr(fake: FakeBilibili) -> None:
    auth_code = tv_auth_code(fake)
    post(fake, f"/_fake/qr/{auth_code}/expire")
    assert tv_poll(fake, auth_code)["code"] == 86038
    assert post(fake, f"/_fake/qr/{auth_code}/confirm").status_code == 409
    assert post(fake, "/_fake/qr/nope/scan").status_code == 404
    assert tv_poll(fake, "f" * 32)["code"] == 86038


def test_it_checks_the_app_sign(fake: FakeBilibili) -> None:
    path = "/x/passport-tv-login/qrcode/auth_code"
    # The verified vector of §0.
    good = (
        "appkey=4409e2ce8ffd12b8&local_id=0&ts=0&sign=e134154ed6add881d28fbdf68653cd9c"
    )
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert post(fake, path, data=good, headers=form).json()["code"] == 0

    body = signed({"local_id": 0, "ts": 1})
    for bad in (
        {**body, "sign": "0" * 32},
        {k: v for k, v in body.items() if k != "sign"},
        {**body, "ts": 2},
    ):
        r = post(fake, path, data=bad).json()
        assert (r["code"], r["message"]) == (-3, "API校验密匙错误")
    unknown_key = {**body, "appkey": "0000000000000000"}
    assert post(fake, path, data=unknown_key).json()["code"] == -1
    assert tv_poll(fake, "x")["code"] == 86038  # signed: past the check
    bad_poll = {**signed({"auth_code": "x", "ts": 1}), "sign": "1" * 32}
    r = post(fake, "/x/passport-tv-login/qrcode/poll", data=bad_poll).json()
    assert r["code"] == -3


def test_it_accepts_a_sign_over_percent_20_spaces(fake: FakeBilibili) -> None:
    params = {"appkey": BILITV_APPKEY, "local_id": "a b", "ts": "1"}
    query = urlencode(sorted(params.items()), quote_via=quote)
    sign = hashlib.md5((query + APP_SECRETS[BILITV_APPKEY]).encode()).hexdigest()
    r = post(
        fake,
        "/x/passport-tv-login/qrcode/auth_code",
        data=f"{query}&sign={sign}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ).json()
    assert r["code"] == 0


# §1.3 Web cookies → TV token


def test_web_cookies_confirm_a_tv_code(fake: FakeBilibili) -> None:
    login = fake.login(30003)
    cookies = {c["name"]: c["value"] for c in login["cookie_info"]["cookies"]}
    auth_code = tv_auth_code(fake)
    path = "/x/passport-tv-login/h5/qrcode/confirm"
    form = {"auth_code": auth_code, "csrf": cookies["bili_jct"], "scanning_type": 3}

    stranger = {"SESSDATA": "nobody", "bili_jct": cookies["bili_jct"]}
    assert post(fake, path, data=form, cookies=stranger).json()["code"] == -101
    wrong_csrf = {**form, "csrf": "0" * 32}
    assert post(fake, path, data=wrong_csrf, cookies=cookies).json()["code"] == -111
    assert tv_poll(fake, auth_code)["code"] == 86039

    assert post(fake, path, data=form, cookies=cookies).json()["code"] == 0
    r = tv_poll(fake, auth_code)
    assert (r["code"], r["data"]["mid"], r["data"]["is_new"]) == (0, 30003, False)


# §1.4 App token validation and refresh


def test_it_reports_a_tokens_life_and_when_to_refresh(fake: FakeBilibili) -> None:
    token = fake.login()["token_info"]["access_token"]
    r = token_info(fake, token)
    assert r["code"] == 0
    assert r["data"] == {
        "mid": SEED_MID,
        "access_token": token,
        "expires_in": 15552000,
        "refresh": False,
    }
    fake.set_token_remaining(SEED_MID, 5 * 86400)
    assert token_info(fake, token)["data"]["refresh"] is True
    assert token_info(fake, token)["data"]["expires_in"] == 5 * 86400
    post(fake, f"/_fake/accounts/{SEED_MID}/token_remaining", json={"seconds": 0})
    assert token_info(fake, token)["code"] == -101
    assert token_info(fake, "nope")["code"] == -101


def test_refresh_replaces_the_token_and_the_cookies(fake: FakeBilibili) -> None:
    old = fake.login()
    fake.set_token_remaining(SEED_MID, 0)  # time ran out: still refreshable

    def refresh(access: str, refresh_token: str, appkey: str = BILITV_APPKEY) -> Any:
        body = signed(
            {
                "access_key": access,
                "actionKey": "appkey",
                "refresh_token": refresh_token,
                "ts": int(time.time()),
            },
            appkey,
        )
        return post(fake, "/x/passport-login/oauth2/refresh_token", data=body).json()

    access, refresh_token = (
        old["token_info"]["access_token"],
        old["token_info"]["refresh_token"],
    )
    assert refresh(access, "wrong")["code"] == -101
    assert refresh(access, refresh_token, ANDROID_APPKEY)["code"] == -663

    r = refresh(access, refresh_token)
    assert r["code"] == 0
    data = r["data"]
    assert set(data) == {"status", "message", "url", "token_info", "cookie_info", "sso"}
    assert data["token_info"]["access_token"] != access
    assert data["token_info"]["expires_in"] == 15552000

    assert token_info(fake, access)["code"] == -101
    old_nav = get(fake, "/x/web-interface/nav", headers=cookie_header(old)).json()
    assert old_nav["code"] == -101
    assert token_info(fake, data["token_info"]["access_token"])["code"] == 0
    nav = get(fake, "/x/web-interface/nav", headers=cookie_header(data)).json()
    assert nav["code"] == 0
    # The old refresh token went with the old access token.
    assert refresh(access, refresh_token)["code"] == -101


def test_an_expired_account_is_logged_out_everywhere(fake: FakeBilibili) -> None:
    login = fake.login()
    post(fake, f"/_fake/accounts/{SEED_MID}/expire")
    headers = cookie_header(login)
    assert get(fake, "/x/web-interface/nav", headers=headers).json()["code"] == -101
    assert get(fake, "/x/space/myinfo", headers=headers).json()["code"] == -101
    assert get(fake, "/x/vupre/web/archive/pre", headers=headers).json()["code"] == -101
    assert token_info(fake, login["token_info"]["access_token"])["code"] == -101


# §2 Account info


def test_nav_says_logged_out_but_still_gives_the_wbi_keys(fake: FakeBilibili) -> None:
    for cookies in ({}, {"SESSDATA": "unknown"}):
        r = get(fake, "/x/web-interface/nav", cookies=cookies).json()
        assert (r["code"], r["message"]) == (-101, "账号未登录")
        assert r["data"]["isLogin"] is False
        img_url = r["data"]["wbi_img"]["img_url"]
        assert img_url.startswith(fake.url)
        assert img_url.endswith("/7cd084941338484aae1ad9425b84077c.png")
        assert r["data"]["wbi_img"]["sub_url"].endswith(
            "/4932caff0ff746eab6f01bf08b70ac45.png"
        )


def test_nav_and_myinfo_describe_the_logged_in_account(fake: FakeBilibili) -> None:
    fake.add_account(40004, "六级用户", level=6, sign="你好")
    headers = cookie_header(fake.login(40004))

    nav = get(fake, "/x/web-interface/nav", headers=headers).json()["data"]
    assert nav["isLogin"] is True
    assert (nav["mid"], nav["uname"]) == (40004, "六级用户")
    assert nav["face"] == f"{fake.url}/bfs/face/40004.jpg"
    assert nav["level_info"]["current_level"] == 6
    assert nav["level_info"]["next_exp"] == "--"

    r = get(fake, "/x/space/myinfo", headers=headers).json()
    assert r["code"] == 0
    me = r["data"]
    assert (me["mid"], me["name"], me["level"], me["sign"]) == (
        40004,
        "六级用户",
        6,
        "你好",
    )
    assert {"vip", "level_exp", "face", "coins"} <= set(me)
    assert get(fake, "/x/space/myinfo").json()["code"] == -101


def test_faces_and_wbi_images_are_real_images(fake: FakeBilibili) -> None:
    face = get(fake, "/bfs/face/10086.jpg")
    assert face.headers["Content-Type"] == "image/jpeg"
    assert face.content[:2] == b"\xff\xd8" and face.content[-2:] == b"\xff\xd9"
    png = get(fake, "/bfs/wbi/7cd084941338484aae1ad9425b84077c.png")
    assert png.headers["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")


# §3.10 archive/pre


def test_archive_pre_lists_the_categories(fake: FakeBilibili) -> None:
    r = get(fake, "/x/vupre/web/archive/pre", headers=cookie_header(fake.login()))
    data = r.json()["data"]
    tree = {t["id"]: t for t in data["typelist"]}
    assert tree[160]["name"] == "生活" and tree[160]["parent"] == 0
    assert {c["id"]: c["name"] for c in tree[160]["children"]}[138] == "搞笑"
    assert {171, 17} <= {c["id"] for c in tree[4]["children"]}
    assert all(c["parent"] == 4 for c in tree[4]["children"])
    assert {
        "industry_list",
        "showtype_list",
        "staff_activity_conf",
        "neutral_mark",
    } <= set(data)
    assert get(fake, "/x/vupre/web/archive/pre").json()["code"] == -101


def test_unknown_paths_and_methods_answer_like_bilibili(fake: FakeBilibili) -> None:
    r = get(fake, "/x/no/such/thing")
    assert (r.status_code, r.json()["code"]) == (404, -404)
    assert post(fake, "/x/web-interface/nav").status_code == 405


# Faults


def test_an_http_status_fault_answers_html_then_goes_away(fake: FakeBilibili) -> None:
    fake.inject("/x/web-interface/nav", "http_status", status=503)
    r = get(fake, "/x/web-interface/nav")
    assert r.status_code == 503
    assert r.headers["Content-Type"].startswith("text/html")
    assert "503" in r.text
    assert get(fake, "/x/web-interface/nav").json()["code"] == -101

    fake.inject("/x/web-interface/nav", "http_status", status=502, body="")
    r = get(fake, "/x/web-interface/nav")
    assert (r.status_code, r.content) == (502, b"")


def test_a_code_fault_answers_in_the_envelope(fake: FakeBilibili) -> None:
    fake.inject("/x/space/myinfo", "code", code=-352)
    r = get(fake, "/x/space/myinfo")
    body = r.json()
    assert (r.status_code, body["code"]) == (200, -352)
    assert body["data"]["v_voucher"].startswith("voucher_")
    assert r.headers["x-bili-gaia-vvoucher"] == body["data"]["v_voucher"]

    fake.inject("/x/space/myinfo", "code", code=-412)
    r = get(fake, "/x/space/myinfo")
    assert (r.status_code, r.json()["code"]) == (412, -412)

    fake.inject("/x/passport-tv-login/qrcode/*", "code", code=-400, times=None)
    assert tv_poll(fake, "x")["code"] == -400
    assert tv_poll(fake, "x")["code"] == -400
    requests.delete(fake.url + "/_fake/faults", timeout=TIMEOUT)
    assert tv_poll(fake, "x")["code"] == 86038


def test_a_timeout_fault_hangs_past_the_client_timeout(fake: FakeBilibili) -> None:
    fake.inject("/x/web-interface/nav", "timeout", delay=2)
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        get(fake, "/x/web-interface/nav", timeout=0.3)
    assert time.monotonic() - started < 1.5
    assert get(fake, "/x/web-interface/nav").json()["code"] == -101


def test_a_reset_fault_drops_the_connection(fake: FakeBilibili) -> None:
    post(
        fake,
        "/_fake/faults",
        json={"path": "/x/web-interface/nav", "kind": "reset", "times": 2},
    )
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            get(fake, "/x/web-interface/nav")
    assert get(fake, "/x/web-interface/nav").json()["code"] == -101


def test_a_fault_can_let_the_first_requests_through(fake: FakeBilibili) -> None:
    post(
        fake,
        "/_fake/faults",
        json={
            "path": "/x/web-interface/nav",
            "kind": "http_status",
            "status": 500,
            "times": 1,
            "after": 2,
        },
    )
    codes = [get(fake, "/x/web-interface/nav").status_code for _ in range(4)]
    assert codes == [200, 200, 500, 200]
    bad = post(fake, "/_fake/faults", json={"path": "/x", "kind": "reset", "after": -1})
    assert bad.status_code == 400 and "after" in bad.json()["error"]


# The control interface


def test_the_http_control_interface_drives_the_fake(fake: FakeBilibili) -> None:
    r = post(fake, "/_fake/accounts", json={"mid": 5005, "uname": "新号"})
    assert r.json()["uname"] == "新号"
    login = post(fake, "/_fake/accounts/5005/login", json={}).json()
    assert login["token_info"]["mid"] == 5005

    key = get(fake, "/x/passport-login/web/qrcode/generate").json()["data"][
        "qrcode_key"
    ]
    assert get(fake, "/_fake/qr").json() == {"pending": [key]}
    assert post(fake, f"/_fake/qr/{key}/scan").json() == {"ok": True}

    state = get(fake, "/_fake/state").json()
    assert {a["mid"] for a in state["accounts"]} == {SEED_MID, 5005}
    assert [(q["key"], q["status"]) for q in state["qr"]] == [(key, "scanned")]
    assert len(state["tokens"]) == 1

    bad = post(fake, "/_fake/faults", json={"path": "/x", "kind": "explode"})
    assert bad.status_code == 400 and "kind" in bad.json()["error"]
    missing = post(fake, "/_fake/accounts/5005/token_remaining", json={})
    assert missing.status_code == 400 and "seconds" in missing.json()["error"]

    post(fake, "/_fake/reset")
    state = get(fake, "/_fake/state").json()
    assert [a["mid"] for a in state["accounts"]] == [SEED_MID]
    assert state["qr"] == [] and state["tokens"] == [] and state["sessions"] == []


def test_it_runs_as_a_command_and_prints_its_url() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakebili", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        env_line = proc.stdout.readline().strip()
        assert env_line == f"BILIUP_BILIBILI_API_URL={url}"
        r = requests.get(url + "/x/web-interface/nav", timeout=TIMEOUT).json()
        assert r["code"] == -101
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
