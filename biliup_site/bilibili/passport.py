"""Bilibili's passport: QR logins (TV and web) and app tokens. One function per endpoint.

Reference: ../shared/reference/bilibili-protocol.md §1.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import requests

from biliup_site.bilibili.http import (
    TIMEOUT,
    BilibiliError,
    BilibiliUnavailable,
    access_token,
    call,
    passport_url,
    session,
    unwrap,
)
from biliup_site.bilibili.sign import APP_KEYS, AppKey, app_sign

# biliup's TV QR flow signs with the BiliTV key, and tokens only work with the key that issued them.
TV = APP_KEYS["BiliTV"]
# Cookie lifetime Bilibili gives a web login (the Set-Cookie Expires is about six months away).
WEB_COOKIE_SECONDS = 180 * 86400


@dataclass(frozen=True)
class QrCode:
    url: str
    key: str


@dataclass(frozen=True)
class QrPoll:
    state: Literal["pending", "scanned", "confirmed", "expired"]
    credential: dict[str, Any] | None = (
        None  # a biliup cookies.json document, once confirmed
    )
    mid: int | None = None


@dataclass(frozen=True)
class TokenInfo:
    mid: int
    expires_in: int
    refresh: bool


def cookies_json(data: dict[str, Any], platform: str) -> dict[str, Any]:
    """biliup's cookies.json: cookie_info, sso and token_info of a login answer, plus platform."""
    return {
        "cookie_info": data["cookie_info"],
        "sso": data.get("sso") or [],
        "token_info": data["token_info"],
        "platform": platform,
    }


def tv_auth_code() -> QrCode:
    # Reference: §1.2 TV QR, generate.
    params = app_sign({"local_id": 0, "ts": int(time.time())}, TV)
    data = call(
        session(app=True),
        "POST",
        passport_url("/x/passport-tv-login/qrcode/auth_code"),
        data=params,
    )
    return QrCode(url=data["url"], key=data["auth_code"])


def tv_poll(auth_code: str) -> QrPoll:
    # Reference: §1.2 TV QR, poll. The state is the top-level code; 86039 is "not yet".
    params = app_sign(
        {"auth_code": auth_code, "local_id": 0, "ts": int(time.time())}, TV
    )
    try:
        data = call(
            session(app=True),
            "POST",
            passport_url("/x/passport-tv-login/qrcode/poll"),
            data=params,
        )
    except BilibiliError as exc:
        if exc.code == 86039:
            return QrPoll("pending")
        if exc.code == 86090:
            return QrPoll("scanned")
        if exc.code == 86038:
            return QrPoll("expired")
        raise
    return QrPoll(
        "confirmed", cookies_json(data, "BiliTV"), int(data["token_info"]["mid"])
    )


def web_qr_generate() -> QrCode:
    # Reference: §1.1 Web QR, generate.
    data = call(
        session(),
        "GET",
        passport_url("/x/passport-login/web/qrcode/generate"),
    )
    return QrCode(url=data["url"], key=data["qrcode_key"])


def web_qr_poll(key: str) -> QrPoll:
    # Reference: §1.1 Web QR, poll. The outer code is 0; the state is data.code.
    sess = session()
    response = _web_poll_response(sess, key)
    data = unwrap(response)
    code = data.get("code")
    if code == 86101:
        return QrPoll("pending")
    if code == 86090:
        return QrPoll("scanned")
    if code == 86038:
        return QrPoll("expired")
    if code != 0:
        raise BilibiliError(int(code), data.get("message", ""))
    cookies = _login_cookies(response, data.get("url", ""))
    mid = int(cookies["DedeUserID"])
    expires = int(time.time()) + WEB_COOKIE_SECONDS
    credential = {
        "cookie_info": {
            "cookies": [
                {
                    "name": name,
                    "value": value,
                    "http_only": int(name == "SESSDATA"),
                    "expires": expires,
                    "secure": 0,
                }
                for name, value in cookies.items()
            ],
            "domains": [".bilibili.com"],
        },
        "sso": [],
        # A web login has no app token; biliup's parser still wants the object.
        "token_info": {
            "mid": mid,
            "access_token": "",
            "refresh_token": "",
            "expires_in": 0,
        },
        "platform": "Web",
        "web_refresh_token": data.get("refresh_token", ""),
    }
    return QrPoll("confirmed", credential, mid)


def _web_poll_response(sess: requests.Session, key: str) -> requests.Response:
    # Sent here rather than through call(): the cookies come in Set-Cookie headers.
    try:
        return sess.get(
            passport_url("/x/passport-login/web/qrcode/poll"),
            params={"qrcode_key": key},
            timeout=TIMEOUT,
        )
    except requests.RequestException as exc:
        raise BilibiliUnavailable(
            f"Bilibili's passport could not be reached ({exc.__class__.__name__})"
        ) from None


def _login_cookies(response: requests.Response, url: str) -> dict[str, str]:
    """The login cookies: from Set-Cookie, or else from the crossDomain URL's query."""
    wanted = ("SESSDATA", "bili_jct", "DedeUserID", "DedeUserID__ckMd5", "sid")
    found: dict[str, str] = {}
    for header in response.raw.headers.get_all("Set-Cookie") or []:
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        found.update(
            {name: morsel.value for name, morsel in jar.items() if name in wanted}
        )
    query = parse_qs(urlsplit(url).query)
    for name in wanted:
        if name not in found and query.get(name):
            found[name] = query[name][0]
    if "SESSDATA" not in found or "DedeUserID" not in found:
        raise BilibiliError(
            -400, "the login answer carried no SESSDATA/DedeUserID cookies"
        )
    return found


def _token_params(
    credential: dict[str, Any], key: AppKey, **extra: Any
) -> dict[str, str]:
    token = access_token(credential)
    if not token:
        raise BilibiliError(
            -101,
            "this account has no app token (a web login): log in with the TV QR code",
        )
    return app_sign(
        {"access_key": token, "actionKey": "appkey", "ts": int(time.time()), **extra},
        key,
    )


def token_info(credential: dict[str, Any]) -> TokenInfo:
    # Reference: §1.4 validate. Signed with the key of the login's platform (BiliTV for QR).
    key = APP_KEYS.get(credential.get("platform") or "BiliTV", TV)
    data = call(
        session(app=True),
        "GET",
        passport_url("/x/passport-login/oauth2/info"),
        params=_token_params(credential, key),
    )
    return TokenInfo(
        mid=int(data["mid"]),
        expires_in=int(data.get("expires_in", 0)),
        refresh=bool(data.get("refresh")),
    )


def refresh_token(credential: dict[str, Any]) -> dict[str, Any]:
    """A new cookies.json document for the account; the old token and cookies stop working."""
    # Reference: §1.4 refresh.
    platform = credential.get("platform") or "BiliTV"
    key = APP_KEYS.get(platform, TV)
    refresh = (credential.get("token_info") or {}).get("refresh_token") or ""
    data = call(
        session(app=True),
        "POST",
        passport_url("/x/passport-login/oauth2/refresh_token"),
        data=_token_params(credential, key, refresh_token=refresh),
    )
    if not data.get("cookie_info") or not data.get("token_info"):
        raise BilibiliError(-400, "the refresh answer carried no cookies or token")
    return cookies_json(data, platform)
