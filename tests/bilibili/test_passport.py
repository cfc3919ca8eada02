"""The passport client on the fake: both QR flows step by step, and an app token's check and
refresh. Plain values in and out; tests/accounts covers storing what it returns."""

from __future__ import annotations

from typing import Any

import pytest

from biliup_site.bilibili import BilibiliError, cookie_value, passport


def test_the_tv_qr_flow_ends_in_a_cookies_json(fakebili: Any) -> None:
    code = passport.tv_auth_code()
    assert code.url and code.key
    assert passport.tv_poll(code.key).state == "pending"
    fakebili.scan_qr(code.key)
    assert passport.tv_poll(code.key).state == "scanned"
    mid = fakebili.confirm_qr(code.key, mid=20001)
    poll = passport.tv_poll(code.key)
    assert (poll.state, poll.mid) == ("confirmed", mid)
    assert poll.credential is not None
    assert poll.credential["platform"] == "BiliTV"
    assert poll.credential["token_info"]["access_token"]
    assert cookie_value(poll.credential, "SESSDATA")


def test_the_web_qr_flow_reads_the_cookies_of_the_answer(fakebili: Any) -> None:
    code = passport.web_qr_generate()
    assert passport.web_qr_poll(code.key).state == "pending"
    fakebili.scan_qr(code.key)
    assert passport.web_qr_poll(code.key).state == "scanned"
    fakebili.confirm_qr(code.key, mid=30003)
    poll = passport.web_qr_poll(code.key)
    assert (poll.state, poll.mid) == ("confirmed", 30003)
    assert poll.credential is not None
    assert poll.credential["platform"] == "Web"
    assert cookie_value(poll.credential, "DedeUserID") == "30003"
    assert cookie_value(poll.credential, "bili_jct")


@pytest.mark.parametrize("web", [False, True])
def test_an_expired_code_says_so(fakebili: Any, web: bool) -> None:
    generate, poll = (
        (passport.web_qr_generate, passport.web_qr_poll)
        if web
        else (passport.tv_auth_code, passport.tv_poll)
    )
    code = generate()
    fakebili.expire_qr(code.key)
    assert poll(code.key).state == "expired"


def test_a_token_is_checked_and_refreshed(fakebili: Any) -> None:
    credential = {**fakebili.login(), "platform": "BiliTV"}
    fakebili.set_token_remaining(10086, 3600)
    info = passport.token_info(credential)
    assert info.mid == 10086
    assert 0 < info.expires_in <= 3600
    fresh = passport.refresh_token(credential)
    assert fresh["platform"] == "BiliTV"
    assert (
        fresh["token_info"]["access_token"] != credential["token_info"]["access_token"]
    )
    assert passport.token_info(fresh).expires_in > 3600


def test_a_web_login_has_no_token_to_check(fakebili: Any) -> None:
    code = passport.web_qr_generate()
    fakebili.confirm_qr(code.key)
    credential = passport.web_qr_poll(code.key).credential
    assert credential is not None
    with pytest.raises(BilibiliError) as raised:
        passport.token_info(credential)
    assert raised.value.code == -101
