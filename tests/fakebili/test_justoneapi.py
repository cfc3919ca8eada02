"""The fake JustOneAPI over real HTTP: the wrapper's shape, paging by param, every business code,
and that the token is never written down."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from biliup_site.bilibili.sign import APP_KEYS, app_sign
from tests.fakebili.justoneapi import PATH, china_day
from tests.fakebili.server import FakeBilibili

TIMEOUT = 5
TOKEN = "sk-test-0123456789"
UP = 472747194
STRANGER = 999999
# The keys of justoneapi-user-videos-v2.txt's example, level by level.
WRAPPER_KEYS = {"code", "data"}
INNER_KEYS = {"code", "message", "ttl", "data"}
DATA_KEYS = {
    "episodic_button",
    "order",
    "count",
    "item",
    "last_watched_locator",
    "has_next",
    "has_prev",
}
ITEM_KEYS = {
    "title", "translated_title", "translate_status", "subtitle", "tname", "cover",
    "cover_icon", "uri", "param", "goto", "length", "duration", "is_popular", "is_steins",
    "is_ugcpay", "is_cooperation", "is_pgc", "is_live_playback", "is_pugv", "is_fold",
    "is_oneself", "view_self_type", "play", "danmaku", "ctime", "ugc_pay", "author",
    "state", "bvid", "videos", "three_point", "first_cid", "cursor_attr", "view_content",
    "icon_type", "publish_time_text", "cover_left_icon", "cover_left_text", "sub_title_icon",
}  # fmt: skip


def call(fake: FakeBilibili, **params: Any) -> requests.Response:
    return requests.get(fake.url + PATH, params=params, timeout=TIMEOUT)


def videos(fake: FakeBilibili, **params: Any) -> dict[str, Any]:
    resp = call(fake, **params)
    assert resp.status_code == 200
    return resp.json()


def refusal(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "data": None}


@pytest.fixture
def up(fake: FakeBilibili) -> list[dict[str, Any]]:
    fake.add_space_user(UP, "巫师财经")
    return fake.add_space_videos(UP, 45)


def test_a_call_wraps_the_app_list_as_the_reference_shows(
    fake: FakeBilibili, up: list[dict[str, Any]]
) -> None:
    fake.add_justoneapi_token(TOKEN)
    body = videos(fake, token=TOKEN, uid=UP)
    assert set(body) == WRAPPER_KEYS and body["code"] == 0
    inner = body["data"]
    assert set(inner) == INNER_KEYS
    assert (inner["code"], inner["message"], inner["ttl"]) == (0, "OK", 1)
    assert set(inner["data"]) == DATA_KEYS
    assert all(set(item) == ITEM_KEYS for item in inner["data"]["item"])
    assert inner["data"]["count"] == 45 and inner["data"]["has_prev"] is False
    assert inner["data"]["item"][0]["author"] == "巫师财经"
    # The app list's own answer (app-signed, as the app list wants), but for its message.
    app = requests.get(
        fake.url + "/x/v2/space/archive/cursor",
        params=app_sign({"vmid": UP}, APP_KEYS["BiliTV"]),
        timeout=TIMEOUT,
    ).json()
    assert {**inner, "message": "0"} == app


def test_param_pages_through_every_video(
    fake: FakeBilibili, up: list[dict[str, Any]]
) -> None:
    fake.add_justoneapi_token(TOKEN)
    seen: list[str] = []
    params: dict[str, Any] = {"token": TOKEN, "uid": UP}
    for _ in range(10):
        data = videos(fake, **params)["data"]["data"]
        seen += [item["param"] for item in data["item"]]
        if not data["has_next"]:
            break
        params["param"] = data["item"][-1]["param"]
    assert seen == [str(v["aid"]) for v in reversed(up)]
    assert fake.justoneapi_token(TOKEN)["calls_today"] == 3


def test_bilibili_errors_come_inside_a_success(
    fake: FakeBilibili, up: list[dict[str, Any]]
) -> None:
    fake.add_justoneapi_token(TOKEN, balance=10)
    unknown = videos(fake, token=TOKEN, uid=STRANGER)
    assert unknown == {
        "code": 0,
        "data": {"code": -404, "message": "啥都木有", "ttl": 1, "data": None},
    }
    bad_cursor = videos(fake, token=TOKEN, uid=UP, param=123)
    assert bad_cursor["code"] == 0 and bad_cursor["data"]["code"] == -400
    # They were answered, so they were paid for.
    assert fake.justoneapi_token(TOKEN)["balance"] == 8


def test_a_missing_unknown_or_inactive_token_is_100(
    fake: FakeBilibili, up: list[dict[str, Any]]
) -> None:
    expected = refusal(100, "Invalid or Inactive Token")
    assert videos(fake, uid=UP) == expected
    assert videos(fake, token="", uid=UP) == expected
    assert videos(fake, token="nope", uid=UP) == expected
    fake.add_justoneapi_token(TOKEN, active=False)
    assert videos(fake, token=TOKEN, uid=UP) == expected
    fake.add_justoneapi_token(TOKEN)
    assert videos(fake, token=TOKEN, uid=UP)["code"] == 0


def test_a_token_without_permission_is_600(
    fake: FakeBilibili, up: list[dict[str, Any]]
) -> None:
    fake.add_justoneapi_token(TOKEN, permission=False, balance=0)
    assert videos(fake, token=TOKEN, uid=UP) == refusal(600, "Permission Denied")


def test_a_spent_balance_is_601(fake: FakeBilibili, up: list[dict[str, Any]]) -> None:
    fake.add_justoneapi_token(TOKEN, balance=2)
    assert videos(fake, token=TOKEN, uid=UP)["code"] == 0
    assert videos(fake, token=TOKEN, uid=UP)["code"] == 0
    for _ in range(2):
        assert videos(fake, token=TOKEN, uid=UP) == refusal(601, "Insufficient Balance")
    assert fake.justoneapi_token(TOKEN)["balance"] == 0
    fake.add_justoneapi_token(TOKEN, balance=1)
    assert videos(fake, token=TOKEN, uid=UP)["code"] == 0


def test_a_daily_quota_resets_at_china_midnight(
    fake: FakeBilibili, up: list[dict[str, Any]]
) -> None:
    # Start just after China midnight, so the test cannot straddle one.
    now = fake.snapshot()["now"]
    fake.advance_clock((china_day(now) + 1) * 86400 - 8 * 3600 - now + 1)
    fake.add_justoneapi_token(TOKEN, daily_quota=2)
    assert videos(fake, token=TOKEN, uid=UP)["code"] == 0
    assert videos(fake, token=TOKEN, uid=UP)["code"] == 0
    assert videos(fake, token=TOKEN, uid=UP) == refusal(303, "Daily Quota Exceeded")
    assert fake.justoneapi_token(TOKEN)["calls_today"] == 2
    fake.advance_clock(86400 - 10)  # 23:59:51 China time
    assert videos(fake, token=TOKEN, uid=UP)["code"] == 303
    fake.advance_clock(10)  # the next day
    assert videos(fake, token=TOKEN, uid=UP)["code"] == 0
    assert fake.justoneapi_token(TOKEN)["calls_today"] == 1


def test_bad_params_are_400_and_free(
    fake: FakeBilibili, up: list[dict[str, Any]]
) -> None:
    fake.add_justoneapi_token(TOKEN, balance=5, daily_quota=5)
    expected = refusal(400, "Invalid Parameters")
    assert videos(fake, token=TOKEN) == expected
    assert videos(fake, token=TOKEN, uid="") == expected
    assert videos(fake, token=TOKEN, uid="abc") == expected
    assert videos(fake, token=TOKEN, uid=UP, param="next") == expected
    usage = fake.justoneapi_token(TOKEN)
    assert (usage["balance"], usage["calls_today"]) == (5, 0)


@pytest.mark.parametrize(
    "code, message",
    [
        (301, "Collection Failed. Please Retry."),
        (302, "Rate Limit Exceeded"),
        (500, "Internal Server Error"),
    ],
)
def test_an_injected_code_answers_first(
    fake: FakeBilibili, up: list[dict[str, Any]], code: int, message: str
) -> None:
    fake.add_justoneapi_token(TOKEN, balance=1)
    fake.justoneapi_inject(code, times=2)
    assert videos(fake, token=TOKEN, uid=UP) == refusal(code, message)
    # Before the token is even looked at.
    assert videos(fake, token="nope") == refusal(code, message)
    assert videos(fake, token=TOKEN, uid=UP)["code"] == 0
    assert fake.justoneapi_token(TOKEN)["balance"] == 0


def test_injections_queue_and_are_checked(fake: FakeBilibili) -> None:
    fake.add_space_videos(UP)
    fake.add_justoneapi_token(TOKEN)
    fake.justoneapi_inject(302)
    url = fake.url + "/_fake/justoneapi/inject"
    assert requests.post(url, json={"code": 301}, timeout=TIMEOUT).json() == {
        "ok": True
    }
    assert fake.snapshot()["space"]["justoneapi"]["injected"] == [
        {"code": 302, "times": 1},
        {"code": 301, "times": 1},
    ]
    assert videos(fake, token=TOKEN, uid=UP)["code"] == 302
    assert videos(fake, token=TOKEN, uid=UP)["code"] == 301
    assert videos(fake, token=TOKEN, uid=UP)["code"] == 0
    for bad in ({"code": 0}, {"code": 404}, {"code": 302, "times": 0}, {}):
        assert requests.post(url, json=bad, timeout=TIMEOUT).status_code == 400


def test_the_token_is_never_written_down(
    fake: FakeBilibili, up: list[dict[str, Any]]
) -> None:
    tokens = requests.post(
        fake.url + "/_fake/justoneapi/tokens",
        json={"token": TOKEN, "daily_quota": 100, "balance": 50},
        timeout=TIMEOUT,
    )
    assert tokens.json() == {"ok": True}
    first = videos(fake, token=TOKEN, uid=UP)["data"]["data"]["item"][-1]["param"]
    videos(fake, token=TOKEN, uid=UP, param=first)
    videos(fake, token="wrong-token", uid=UP)
    videos(fake, token=TOKEN, uid="abc")
    assert fake.space_requests() == [
        {"endpoint": "justoneapi", "mid": UP, "cursor": None, "pn": None},
        {"endpoint": "justoneapi", "mid": UP, "cursor": first, "pn": None},
        {"endpoint": "justoneapi", "mid": UP, "cursor": None, "pn": None},
        {"endpoint": "justoneapi", "mid": None, "cursor": None, "pn": None},
    ]
    snapshot = fake.snapshot()
    assert snapshot["space"]["justoneapi"] == {"tokens": 1, "injected": []}
    for text in (
        json.dumps(snapshot),
        json.dumps(fake.space_requests()),
        requests.get(fake.url + "/_fake/state", timeout=TIMEOUT).text,
        requests.get(fake.url + "/_fake/space/requests", timeout=TIMEOUT).text,
    ):
        assert TOKEN not in text and "wrong-token" not in text
    usage = requests.post(
        fake.url + "/_fake/justoneapi/usage", json={"token": TOKEN}, timeout=TIMEOUT
    ).json()
    assert usage == {
        "daily_quota": 100,
        "balance": 48,
        "permission": True,
        "active": True,
        "calls_today": 2,
    }


def test_the_fake_is_both_justoneapi_environments(fake: FakeBilibili) -> None:
    env = fake.env()
    assert env["BILIUP_JUSTONEAPI_GLOBAL_URL"] == fake.url
    assert env["BILIUP_JUSTONEAPI_CN_URL"] == fake.url


def test_faults_reach_justoneapi(fake: FakeBilibili, up: list[dict[str, Any]]) -> None:
    fake.add_justoneapi_token(TOKEN)
    fake.inject(PATH, "http_status", status=502)
    assert call(fake, token=TOKEN, uid=UP).status_code == 502
    assert videos(fake, token=TOKEN, uid=UP)["code"] == 0


def test_bad_token_controls_are_refused(fake: FakeBilibili) -> None:
    url = fake.url + "/_fake/justoneapi/tokens"
    for bad in (
        {},
        {"token": ""},
        {"token": "t", "balance": -1},
        {"token": "t", "x": 1},
    ):
        assert requests.post(url, json=bad, timeout=TIMEOUT).status_code == 400
    usage = fake.url + "/_fake/justoneapi/usage"
    assert requests.post(usage, json={"token": "t"}, timeout=TIMEOUT).status_code == 404
