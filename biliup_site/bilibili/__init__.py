"""The Bilibili protocol: pure clients, one module per Bilibili service, mirroring tests/fakebili.

`http` holds the session every client shares (headers, cookies, timeouts, the response envelope
and the errors it raises) and `sign` the request signatures (app sign, WBI). Each other module
speaks to one service: `passport` (QR login, cookie refresh), `account` (nav, myinfo,
archive_pre), `live` (rooms, play URLs), `cdn` (opening live streams), `upos` and `openplatform`
(the two upload routes), `submit`, `space` and `justoneapi` (creator video lists).

What may live here: functions that take plain values (a cookies.json mapping, a path or file
object, settings for the hosts) and return plain values (dataclasses, dicts); progress leaves
through a callback argument. What may not: Django models, and any import from `accounts`,
`recorder`, `uploads` or `creators`. This package is the only place in the product that speaks
HTTP with `requests` (besides the image `/proxy` and the streamlink bridge), so callers catch
BilibiliError and BilibiliUnavailable, never requests' exceptions.

Outside the package, import the shared core from here (`from biliup_site import bilibili`,
`bilibili.session()`, `bilibili.BilibiliError`) and a service as a module
(`from biliup_site.bilibili import upos`).
"""

from __future__ import annotations

from biliup_site.bilibili.http import (
    APP_UA,
    BROWSER_UA,
    EXPIRED_CREDENTIAL_CODES,
    HINTS,
    LIVE_REFERER,
    REFERER,
    RISK_CONTROL_CODES,
    TIMEOUT,
    BilibiliError,
    BilibiliUnavailable,
    Session,
    access_token,
    api_url,
    app_url,
    call,
    cookie_value,
    live_url,
    member_url,
    passport_url,
    session,
    unwrap,
)
from biliup_site.bilibili.sign import (
    APP_KEYS,
    WBI_MIXIN_TABLE,
    AppKey,
    app_sign,
    wbi_keys_from_urls,
    wbi_mixin_key,
    wbi_sign,
)

__all__ = [
    "APP_KEYS",
    "APP_UA",
    "BROWSER_UA",
    "EXPIRED_CREDENTIAL_CODES",
    "HINTS",
    "LIVE_REFERER",
    "REFERER",
    "RISK_CONTROL_CODES",
    "TIMEOUT",
    "WBI_MIXIN_TABLE",
    "AppKey",
    "BilibiliError",
    "BilibiliUnavailable",
    "Session",
    "access_token",
    "api_url",
    "app_sign",
    "app_url",
    "call",
    "cookie_value",
    "live_url",
    "member_url",
    "passport_url",
    "session",
    "unwrap",
    "wbi_keys_from_urls",
    "wbi_mixin_key",
    "wbi_sign",
]
