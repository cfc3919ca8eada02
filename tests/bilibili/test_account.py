"""The account client on the fake: nav, space/myinfo and archive/pre for a cookies.json."""

from __future__ import annotations

from typing import Any

import pytest

from biliup_site.bilibili import BilibiliError, BilibiliUnavailable
from biliup_site.bilibili import account as bilibili_account


@pytest.fixture
def credential(fakebili: Any) -> dict[str, Any]:
    return {**fakebili.login(), "platform": "BiliTV"}


def test_nav_says_who_is_logged_in(credential: dict[str, Any]) -> None:
    nav = bilibili_account.nav(credential)
    assert nav.mid == 10086
    assert nav.uname and nav.face


def test_nav_without_cookies_is_an_expired_credential(fakebili: Any) -> None:
    with pytest.raises(BilibiliError) as raised:
        bilibili_account.nav({})
    assert raised.value.expired_credential


def test_myinfo_adds_the_documented_uname(credential: dict[str, Any]) -> None:
    info = bilibili_account.myinfo(credential)
    assert info["mid"] == 10086
    assert info["uname"] == info["name"]


def test_archive_pre_asks_each_time(fakebili: Any, credential: dict[str, Any]) -> None:
    assert bilibili_account.archive_pre(credential)["typelist"]
    # Caching is the caller's (accounts.categories): the client always asks.
    fakebili.inject("/x/vupre/web/archive/pre", kind="http_status", status=500)
    with pytest.raises(BilibiliUnavailable):
        bilibili_account.archive_pre(credential)
