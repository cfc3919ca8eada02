"""risk.py: one WBI key cache for the process, re-read at most once a minute when refused;
buvid3 asked of finger/spi or made up. Single client calls, so `responses` stands in for the
site; the live and space tests prove the same against the strict fake over HTTP."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import responses

from biliup_site.bilibili import BilibiliError, risk
from biliup_site.bilibili.http import session
from biliup_site.bilibili.sign import wbi_mixin_key, wbi_sign

API = "https://api.example.test"
NAV = f"{API}/x/web-interface/nav"
GUARDED = f"{API}/guarded"


@pytest.fixture(autouse=True)
def _hosts(settings: Any) -> Any:
    settings.BILIBILI_API_URL = API
    risk.WBI_KEYS.forget()
    yield
    risk.WBI_KEYS.forget()


def _nav(img: str, sub: str) -> dict[str, Any]:
    return {
        "code": -101,
        "message": "账号未登录",
        "data": {
            "isLogin": False,
            "wbi_img": {
                "img_url": f"{API}/bfs/wbi/{img}.png",
                "sub_url": f"{API}/bfs/wbi/{sub}.png",
            },
        },
    }


def _nav_calls(rsps: responses.RequestsMock) -> int:
    return sum(call.request.url.startswith(NAV) for call in rsps.calls)


@responses.activate
def test_a_refused_signature_rereads_the_keys_once_then_waits_a_minute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(risk.time, "monotonic", lambda: clock[0])
    responses.get(NAV, json=_nav("a" * 32, "b" * 32))
    responses.get(GUARDED, json={"code": -352, "message": "风控校验失败"})
    sess = session()

    for _ in range(3):
        with pytest.raises(BilibiliError) as raised:
            risk.wbi_call(sess, GUARDED, {"room_id": 1})
        assert raised.value.code == -352
    # One read to sign, one re-read on the first refusal; the next refusals within the minute
    # are not worth another nav call each.
    assert _nav_calls(responses.mock) == 2
    clock[0] += risk.WBI_REREAD_SECONDS + 1
    with pytest.raises(BilibiliError):
        risk.wbi_call(sess, GUARDED, {"room_id": 1})
    assert _nav_calls(responses.mock) == 3


@responses.activate
def test_new_keys_after_a_refusal_sign_the_retry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    responses.get(NAV, json=_nav("a" * 32, "b" * 32))
    responses.get(NAV, json=_nav("c" * 32, "d" * 32))
    fresh = wbi_mixin_key("c" * 32, "d" * 32)
    answers = iter(
        [{"code": -352, "message": "风控校验失败"}, {"code": 0, "data": {"ok": 1}}]
    )
    seen: list[str] = []

    def guarded(request: Any) -> tuple[int, dict[str, str], str]:
        seen.append(request.url)
        return 200, {}, json.dumps(next(answers))

    responses.add_callback(responses.GET, GUARDED, callback=guarded)
    assert risk.wbi_call(session(), GUARDED, {"room_id": 1}) == {"ok": 1}
    params = dict(re.findall(r"[?&]([^=&]+)=([^&]*)", seen[-1]))
    expected = wbi_sign({"room_id": 1}, fresh, wts=int(params["wts"]))
    assert params["w_rid"] == expected["w_rid"]


@responses.activate
def test_keys_are_cached_between_calls() -> None:
    responses.get(NAV, json=_nav("a" * 32, "b" * 32))
    responses.get(GUARDED, json={"code": 0, "data": {}})
    sess = session()
    for _ in range(5):
        risk.wbi_call(sess, GUARDED, {"x": 1})
    assert _nav_calls(responses.mock) == 1


@responses.activate
def test_buvid3_comes_from_finger_spi_and_sticks() -> None:
    responses.get(
        f"{API}/x/frontend/finger/spi",
        json={"code": 0, "data": {"b_3": "B3-infoc", "b_4": "B4"}},
    )
    sess = session()
    assert risk.ensure_buvid3(sess) == "B3-infoc"
    assert risk.ensure_buvid3(sess) == "B3-infoc"
    assert (sess.cookies["buvid3"], sess.cookies["buvid4"]) == ("B3-infoc", "B4")
    assert len(responses.calls) == 1


@responses.activate
def test_buvid3_is_made_up_when_finger_spi_fails() -> None:
    responses.get(f"{API}/x/frontend/finger/spi", status=503, body="busy")
    sess = session()
    made = risk.ensure_buvid3(sess)
    assert re.fullmatch(r"[0-9A-F-]{36}\d{5}infoc", made)
    assert sess.cookies["buvid3"] == made


def test_dm_params_survive_signing_unchanged() -> None:
    # wbi_sign strips !'()* from values: the fingerprint must carry none, or the site would
    # see different values from the ones it was told about.
    params = risk.dm_params()
    signed = wbi_sign(params, "k" * 32, wts=1)
    assert {k: signed[k] for k in params} == params
