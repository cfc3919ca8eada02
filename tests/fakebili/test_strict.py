"""The strict rules' controls and the WBI check the live and space hosts share (strict.py).
What each rule refuses is proven where its host is tested (test_live, test_space, …)."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import requests

from biliup_site.bilibili.sign import wbi_keys_from_urls, wbi_mixin_key, wbi_sign
from tests.fakebili import strict
from tests.fakebili.server import FakeBilibili
from tests.fakebili.wire import Request

TIMEOUT = 5


def _req(fake: FakeBilibili, query: str) -> Request:
    return Request.parse("GET", f"/x?{query}", {"Host": "127.0.0.1"}, b"")


def _nav_mixin(fake: FakeBilibili) -> str:
    data = requests.get(fake.url + "/x/web-interface/nav", timeout=TIMEOUT).json()[
        "data"
    ]
    return wbi_mixin_key(
        *wbi_keys_from_urls(data["wbi_img"]["img_url"], data["wbi_img"]["sub_url"])
    )


def test_every_rule_is_on_until_switched_off_and_back_after_a_reset(
    fake: FakeBilibili,
) -> None:
    listed = requests.get(fake.url + "/_fake/rules", timeout=TIMEOUT).json()
    assert set(listed) == set(strict.RULES)
    assert all(rule["on"] and rule["refuses"] for rule in listed.values())
    answer = requests.post(
        fake.url + "/_fake/rules", json={"cdn_headers": False}, timeout=TIMEOUT
    )
    assert answer.json()["cdn_headers"]["on"] is False
    assert fake.state.rules["cdn_headers"] is False
    fake.reset()
    assert fake.state.rules["cdn_headers"] is True


@pytest.mark.parametrize(
    ("body", "message"),
    [({"no_such_rule": False}, "unknown rules"), ({"qn_cap": "off"}, "true or false")],
)
def test_a_bad_rule_switch_is_a_400(
    fake: FakeBilibili, body: dict[str, Any], message: str
) -> None:
    answer = requests.post(fake.url + "/_fake/rules", json=body, timeout=TIMEOUT)
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert all(fake.state.rules.values())


def test_the_clients_signature_is_valid_with_the_keys_nav_serves(
    fake: FakeBilibili,
) -> None:
    params = {"room_id": 23058, "keyword": "a b!(c)", "web_location": "444.8"}
    signed = wbi_sign(params, _nav_mixin(fake))
    assert strict.wbi_valid(fake.state, _req(fake, urlencode(signed)))  # spaces as "+"
    as_browser = "&".join(f"{k}={quote(v, safe='')}" for k, v in signed.items())
    assert strict.wbi_valid(fake.state, _req(fake, as_browser))  # spaces as %20


def test_a_missing_stale_or_forged_signature_is_invalid(fake: FakeBilibili) -> None:
    old = wbi_sign({"room_id": 1}, _nav_mixin(fake))
    assert not strict.wbi_valid(fake.state, _req(fake, "room_id=1"))
    assert not strict.wbi_valid(fake.state, _req(fake, f"room_id=1&wts={old['wts']}"))
    forged = {**old, "w_rid": hashlib.md5(b"x").hexdigest()}
    assert not strict.wbi_valid(fake.state, _req(fake, urlencode(forged)))
    assert strict.wbi_valid(fake.state, _req(fake, urlencode(old)))

    keys = requests.post(fake.url + "/_fake/wbi/rotate", timeout=TIMEOUT).json()
    assert not strict.wbi_valid(fake.state, _req(fake, urlencode(old)))
    mixin = _nav_mixin(fake)
    assert mixin == wbi_mixin_key(keys["img_key"], keys["sub_key"])
    assert strict.wbi_valid(
        fake.state, _req(fake, urlencode(wbi_sign({"room_id": 1}, mixin)))
    )


@pytest.mark.parametrize(
    ("headers", "browser"),
    [
        ({}, False),
        ({"User-Agent": "python-requests/2.32.3"}, False),
        ({"User-Agent": strict.BROWSER_UA_PREFIX + " (X11)"}, False),
        (
            {
                "User-Agent": "python-requests/2.32.3",
                "Referer": "https://live.bilibili.com/3",
            },
            False,
        ),
        (
            {
                "User-Agent": strict.BROWSER_UA_PREFIX + " (X11)",
                "Referer": "https://live.bilibili.com.evil.test/",
            },
            False,
        ),
        (
            {
                "User-Agent": strict.BROWSER_UA_PREFIX + " (X11)",
                "Referer": "https://live.bilibili.com/23058",
            },
            True,
        ),
    ],
)
def test_what_the_cdn_takes_for_a_browser(
    headers: dict[str, str], browser: bool
) -> None:
    req = Request.parse("GET", "/live-bvc/x.flv", headers, b"")
    assert strict.is_browser(req) is browser


def test_a_fake_started_lenient_keeps_that_rule_off_across_resets() -> None:
    fake = FakeBilibili(lenient=frozenset({"qn_cap"}))
    try:
        assert fake.state.rules["qn_cap"] is False
        fake.set_rules(qn_cap=True)
        fake.reset()
        assert fake.state.rules["qn_cap"] is False
        assert all(on for name, on in fake.state.rules.items() if name != "qn_cap")
    finally:
        fake.stop()
    with pytest.raises(ValueError, match="unknown rules"):
        FakeBilibili(lenient=frozenset({"no_such_rule"}))
