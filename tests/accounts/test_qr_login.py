from __future__ import annotations

import threading
from typing import Any

import pytest

from accounts import login
from accounts.models import BilibiliAccount, QrLogin
from tests.conftest import JsonClient
from tests.polling import wait_for

pytestmark = pytest.mark.django_db

ONE_POLL = "/api/v1/login_by_qrcode?wait=0"


@pytest.fixture(autouse=True)
def _short_wait(settings: Any) -> None:
    # A waiting login_by_qrcode gives up after this, instead of biliup's 300 s.
    settings.QR_WAIT_SECONDS = 1
    settings.QR_POLL_SECONDS = 0.05


def test_a_tv_qr_login_ends_in_a_stored_account(api: JsonClient, fakebili: Any) -> None:
    r = api.get("/api/v1/qrcode")
    assert r.status_code == 200
    key, url = r.json()["qrcode_key"], r.json()["url"]
    assert key in url

    r = api.post(ONE_POLL, {"qrcode_key": key})
    assert r.status_code == 202
    assert r.json()["status"] == "pending"
    fakebili.scan_qr(key)
    assert api.post(ONE_POLL, {"qrcode_key": key}).json()["status"] == "scanned"
    fakebili.confirm_qr(key)
    r = api.post(ONE_POLL, {"qrcode_key": key})
    assert r.status_code == 200
    assert r.json()["filename"] == "10086.json"

    account = BilibiliAccount.objects.get()
    assert account.value == "10086.json"
    assert account.mid == 10086
    credential = account.credential
    assert set(credential) >= {"cookie_info", "sso", "token_info", "platform"}
    assert credential["platform"] == "BiliTV"
    assert credential["token_info"]["access_token"]
    assert {c["name"] for c in credential["cookie_info"]["cookies"]} >= {
        "SESSDATA",
        "bili_jct",
    }
    # Listed, with no secret in the listing.
    [row] = api.get("/api/v1/users").json()
    assert row["value"] == "10086.json"
    assert (
        credential["token_info"]["access_token"]
        not in api.get("/api/v1/users").content.decode()
    )


def test_asking_again_after_the_login_answers_the_same(
    api: JsonClient, fakebili: Any
) -> None:
    key = api.get("/api/v1/qrcode").json()["qrcode_key"]
    fakebili.confirm_qr(key)
    first = api.post("/api/v1/login_by_qrcode", {"qrcode_key": key}).json()
    assert api.post("/api/v1/login_by_qrcode", {"qrcode_key": key}).json() == first
    assert BilibiliAccount.objects.count() == 1


def test_logging_in_again_replaces_the_credential_of_the_same_account(
    api: JsonClient, fakebili: Any
) -> None:
    for _ in range(2):
        key = api.get("/api/v1/qrcode").json()["qrcode_key"]
        fakebili.confirm_qr(key)
        api.post("/api/v1/login_by_qrcode", {"qrcode_key": key})
    assert BilibiliAccount.objects.count() == 1


def test_biliups_own_routes_and_body_shapes_work(
    api: JsonClient, fakebili: Any
) -> None:
    answer = api.get("/v1/get_qrcode").json()
    assert answer["code"] == 0
    auth_code = answer["data"]["auth_code"]
    fakebili.confirm_qr(auth_code, mid=20001)
    # biliup's UI posts back the whole get_qrcode answer.
    r = api.post("/v1/login_by_qrcode", answer)
    assert r.status_code == 200
    assert r.json()["filename"] == "20001.json"


def test_an_expired_qr_code_says_so(api: JsonClient, fakebili: Any) -> None:
    key = api.get("/api/v1/qrcode").json()["qrcode_key"]
    fakebili.expire_qr(key)
    r = api.post("/api/v1/login_by_qrcode", {"qrcode_key": key})
    assert r.status_code == 410
    assert r.json() == {"error": "The QR code expired: ask /qrcode for a new one."}
    assert not BilibiliAccount.objects.exists()


def test_an_unknown_or_missing_key_is_refused(api: JsonClient, fakebili: Any) -> None:
    assert (
        api.post("/api/v1/login_by_qrcode", {"qrcode_key": "nope"}).status_code == 404
    )
    r = api.post("/api/v1/login_by_qrcode", {})
    assert r.status_code == 400
    assert r.json() == {
        "error": "qrcode_key: Give the qrcode_key that /qrcode returned."
    }


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ({"kind": "http_status", "status": 503}, "503"),
        ({"kind": "code", "code": -412}, "-412"),
        ({"kind": "reset"}, "Bilibili: "),
    ],
)
def test_passport_failures_are_reported(
    api: JsonClient, fakebili: Any, fault: dict[str, Any], words: str
) -> None:
    fakebili.inject("/x/passport-tv-login/qrcode/auth_code", **fault)
    r = api.get("/api/v1/qrcode")
    assert r.status_code == 502
    assert words in r.json()["error"]
    assert not QrLogin.objects.exists()


def test_a_failed_poll_leaves_the_login_pending(api: JsonClient, fakebili: Any) -> None:
    key = api.get("/api/v1/qrcode").json()["qrcode_key"]
    fakebili.confirm_qr(key)
    fakebili.inject(
        "/x/passport-tv-login/qrcode/poll", kind="http_status", status=500, times=1
    )
    assert api.post(ONE_POLL, {"qrcode_key": key}).status_code == 502
    assert QrLogin.objects.get().status == "pending"
    assert api.post("/api/v1/login_by_qrcode", {"qrcode_key": key}).status_code == 200


def test_the_web_qr_flow_stores_a_cookie_account(fakebili: Any) -> None:
    started = login.start(kind=QrLogin.Kind.WEB)
    assert login.advance(started).status == "pending"
    fakebili.scan_qr(started.key)
    assert login.advance(started).status == "scanned"
    fakebili.confirm_qr(started.key, mid=30003)
    done = login.advance(started)
    assert done.status == "confirmed"
    account = done.account
    assert account is not None and account.mid == 30003
    names = {c["name"] for c in account.credential["cookie_info"]["cookies"]}
    assert {"SESSDATA", "bili_jct", "DedeUserID"} <= names


def test_it_needs_a_session(anon: JsonClient, fakebili: Any) -> None:
    assert anon.get("/api/v1/qrcode").status_code == 401
    assert anon.post("/api/v1/login_by_qrcode", {"qrcode_key": "x"}).status_code == 401


def test_the_web_flow_is_offered_too(api: JsonClient, fakebili: Any) -> None:
    key = api.get("/api/v1/qrcode", {"kind": "web"}).json()["qrcode_key"]
    fakebili.confirm_qr(key, mid=40004)
    assert (
        api.post("/api/v1/login_by_qrcode", {"qrcode_key": key}).json()["filename"]
        == "40004.json"
    )
    assert api.get("/api/v1/qrcode", {"kind": "sms"}).status_code == 400


def test_a_new_login_is_checked_at_once(
    api: JsonClient, fakebili: Any, django_capture_on_commit_callbacks: Any
) -> None:
    key = api.get("/api/v1/qrcode").json()["qrcode_key"]
    fakebili.confirm_qr(key)
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/v1/login_by_qrcode", {"qrcode_key": key})
    account = BilibiliAccount.objects.get()
    assert account.status == "active"
    assert account.uname


def test_it_waits_until_the_wait_ends_and_says_where_the_code_stands(
    api: JsonClient, fakebili: Any
) -> None:
    key = api.get("/api/v1/qrcode").json()["qrcode_key"]
    fakebili.scan_qr(key)
    r = api.post("/api/v1/login_by_qrcode", {"qrcode_key": key})
    assert r.status_code == 202
    assert r.json()["status"] == "scanned"
    # It polled all along (every 0.05 s for 1 s), not once.
    assert fakebili.qr_polls(key) > 2


def test_it_stops_waiting_when_the_code_expires(api: JsonClient, fakebili: Any) -> None:
    key = api.get("/api/v1/qrcode").json()["qrcode_key"]
    fakebili.expire_qr(key)
    r = api.post("/v1/login_by_qrcode", {"qrcode_key": key})
    assert r.status_code == 410
    assert fakebili.qr_polls(key) == 1


def test_a_waiting_login_ends_as_soon_as_the_phone_confirms(
    api: JsonClient, fakebili: Any
) -> None:
    answer = api.get("/v1/get_qrcode").json()
    key = answer["data"]["auth_code"]
    # The phone confirms while the request waits: once the site has polled twice.
    confirmer = threading.Thread(
        target=lambda: (
            wait_for(lambda: fakebili.qr_polls(key) >= 2, 5, "no second poll"),
            fakebili.confirm_qr(key, mid=20002),
        )
    )
    confirmer.start()
    r = api.post("/v1/login_by_qrcode?wait=1", answer)
    confirmer.join()
    assert r.status_code == 200
    assert r.json()["filename"] == "20002.json"
    assert fakebili.qr_polls(key) >= 3


@pytest.mark.parametrize("wait", ["-1", "x", "301", "nan"])
def test_a_bad_wait_is_refused(api: JsonClient, fakebili: Any, wait: str) -> None:
    key = api.get("/api/v1/qrcode").json()["qrcode_key"]
    r = api.post(f"/api/v1/login_by_qrcode?wait={wait}", {"qrcode_key": key})
    assert r.status_code == 400
    assert r.json()["error"].startswith("wait: ")
