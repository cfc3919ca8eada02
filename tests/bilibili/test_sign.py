"""Request signing: the app sign and WBI (protocol doc §0 "APP sign" and §7.3)."""

from __future__ import annotations

from typing import Any

import pytest

from biliup_site.bilibili import sign
from biliup_site.bilibili.sign import APP_KEYS


def test_app_sign_matches_the_documented_vector() -> None:
    signed = sign.app_sign({"local_id": 0, "ts": 0}, APP_KEYS["BiliTV"])

    assert signed == {
        "appkey": "4409e2ce8ffd12b8",
        "local_id": "0",
        "ts": "0",
        "sign": "e134154ed6add881d28fbdf68653cd9c",
    }


def test_app_sign_adds_the_current_time_when_no_ts_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sign.time, "time", lambda: 1702204169.7)

    signed = sign.app_sign({"local_id": 0}, APP_KEYS["Android"])

    assert signed["ts"] == "1702204169"
    assert signed["appkey"] == "783bbb7264451d82"


def test_app_sign_replaces_a_stale_sign_and_leaves_the_input_alone() -> None:
    params = {"local_id": 0, "ts": 0, "sign": "stale"}

    signed = sign.app_sign(params, APP_KEYS["BiliTV"])

    assert signed["sign"] == "e134154ed6add881d28fbdf68653cd9c"
    assert params == {"local_id": 0, "ts": 0, "sign": "stale"}


def test_the_app_keys_are_biliups_public_constants() -> None:
    assert APP_KEYS["BiliTV"].appsec == "59b43e04ad6965f34319062b478f83dd"
    assert APP_KEYS["Android"].appsec == "2653583c8873dea268ab9386918b1d65"
    assert APP_KEYS["BCut"] == sign.AppKey(
        "5dce947fe22167f9", "5491a31c6bc11fb764a9b1f8d4acf092"
    )


MIXIN_KEY = "ea1db124af3c7062474693fa704f4ff8"


def test_wbi_mixin_key_matches_the_documented_vector() -> None:
    assert (
        sign.wbi_mixin_key(
            "7cd084941338484aae1ad9425b84077c", "4932caff0ff746eab6f01bf08b70ac45"
        )
        == MIXIN_KEY
    )


def test_wbi_mixin_key_refuses_short_keys() -> None:
    with pytest.raises(ValueError, match="too short"):
        sign.wbi_mixin_key("abc", "def")


def test_wbi_keys_are_the_file_stems_of_the_nav_urls() -> None:
    keys = sign.wbi_keys_from_urls(
        "https://i0.hdslb.com/bfs/wbi/7cd084941338484aae1ad9425b84077c.png",
        "https://i0.hdslb.com/bfs/wbi/4932caff0ff746eab6f01bf08b70ac45.png?x=1",
    )

    assert keys == (
        "7cd084941338484aae1ad9425b84077c",
        "4932caff0ff746eab6f01bf08b70ac45",
    )


@pytest.mark.parametrize(
    ("params", "w_rid"),
    [
        (
            {"foo": "114", "bar": "514", "zab": 1919810},
            "8f6f2b5b3d485fe1886cec6a0be8c5d4",
        ),
        (
            {"mid": 946974, "order": "pubdate", "pn": 1, "ps": 30},
            "7031da523fbf36234ce7079f069ed937",
        ),
        (
            {"foo": "one one four", "bar": "五一四", "baz": 1919810},
            "04e50b58980e3e3cee8cbc0cc4c1c530",
        ),
    ],
)
def test_wbi_sign_matches_the_documented_vectors(
    params: dict[str, Any], w_rid: str
) -> None:
    signed = sign.wbi_sign(params, MIXIN_KEY, wts=1702204169)

    assert signed["w_rid"] == w_rid
    assert signed["wts"] == "1702204169"
    assert {k: signed[k] for k in params} == {k: str(v) for k, v in params.items()}


def test_wbi_sign_strips_the_characters_bilibili_ignores() -> None:
    plain = sign.wbi_sign({"foo": "114", "bar": "514"}, MIXIN_KEY, wts=1)
    noisy = sign.wbi_sign({"foo": "1!1(4)", "bar": "*5'14"}, MIXIN_KEY, wts=1)

    assert noisy == plain


def test_wbi_sign_replaces_a_stale_signature_and_uses_the_current_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sign.time, "time", lambda: 1702204169.2)

    signed = sign.wbi_sign(
        {"mid": 946974, "order": "pubdate", "pn": 1, "ps": 30, "w_rid": "x", "wts": 5},
        MIXIN_KEY,
    )

    assert signed["wts"] == "1702204169"
    assert signed["w_rid"] == "7031da523fbf36234ce7079f069ed937"
