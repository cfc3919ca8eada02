"""How strict the fake is: the refusals of the real site today, each one a named rule.

Every rule is on by default (in tests and in the demo), because a client that passes only a
lenient fake fails on the user's first day. A test switches one off to show the recovery, or to
prove that the client, not the fake's leniency, is what passes: FakeBilibili.set_rules(name=False)
or POST /_fake/rules {"name": false}; GET /_fake/rules lists them with what each refuses. A reset
turns them all back on.

The checks shared by several hosts are here too: the browser headers the CDN wants, and the WBI
signature (w_rid over the other parameters with the mixin key of the fake's current nav keys,
which rotate: rotate_wbi_keys()).

Reference: /work/shared/reference/bilibili-2026.md (the rules, with their evidence) and
bilibili-protocol.md §7.3 (WBI).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, quote_plus

from tests.fakebili.wire import Request, Response, error_page, fail

if TYPE_CHECKING:
    from tests.fakebili.server import State

# name → what the real site refuses (bilibili-2026.md's last section, one rule each).
RULES: dict[str, str] = {
    "cdn_headers": "CDN pulls (FLV, m3u8, every segment) without a browser User-Agent and a "
    "Referer under https://live.bilibili.com: HTTP 403",
    "cdn_expires": "stream URLs expire: a pull after `expires`, or without a valid sign: HTTP 403",
    "cdn_close_delimited": "the cn-gotcha04 CDN host sends FLV close-delimited: HTTP/1.1, "
    "Connection: close, neither Content-Length nor chunked",
    "cdn_gop_resend": "an FLV pull that reconnects to a room starts with the last GOP the "
    "previous pull sent",
    "live_wbi": "getRoomPlayInfo, getInfoByRoom and getDanmuInfo without a valid WBI "
    "signature: -352",
    "danmu_buvid3": "getDanmuInfo without a buvid3 cookie: -352; a chat socket auth without "
    "the buvid3 its key was issued with: refused (op 8 code -101)",
    "qn_cap": "play URLs without a login cookie are capped at qn 250",
    "space_app_sign": "the app space list (/x/v2/space/archive/cursor) unsigned: -400 (a bad "
    "sign: -3)",
    "space_wbi_dm": "arc/search without WBI or without the dm_* parameters: -352 with a "
    "v_voucher (a w_rid made with other keys: -403)",
    "space_burst": "more than 5 calls to the space lists and card within 1 s from one IP: "
    "-352; more than 5 such refusals within 10 s: the IP blocked for 60 s (-412, HTTP 412)",
    "client_add_closed": "/x/vu/client/add and /x/vu/client/edit: 21590 投稿工具已停用",
    "preupload_budget": "more than 20 preuploads in an hour from one account: 601 or HTTP 406",
    "bcut_identity": "a preupload with profile ugcfx/bcut-pc without the BCut client's "
    "User-Agent (bcut-pc build:…) and version 3.x.y: HTTP 403",
    "submit_interval": "a submit within 30 s of the account's previous one: 21566",
    "dtime_window": "a dtime less than 2 h or more than 15 days ahead: 21006",
}

# What the CDN takes for a browser: the UA every browser has sent since the 1990s, and the page
# the player runs on. python-requests/…, Go-http-client, curl and an empty header are refused.
BROWSER_UA_PREFIX = "Mozilla/5.0"
LIVE_ORIGIN = "https://live.bilibili.com"

# The first WBI keys are §7.3's test vectors (api.py serves them in nav).
FIRST_WBI_KEYS = (
    "7cd084941338484aae1ad9425b84077c",
    "4932caff0ff746eab6f01bf08b70ac45",
)
MIXIN_TABLE = (
    46, 47, 18, 2, 53, 8, 23, 32, 15, 50, 10, 31, 58, 3, 45, 35,
    27, 43, 5, 49, 33, 9, 42, 19, 29, 28, 14, 39, 12, 38, 41, 13,
    37, 48, 7, 16, 24, 55, 40, 61, 26, 17, 0, 1, 60, 51, 30, 4,
    22, 25, 54, 21, 56, 59, 6, 63, 57, 62, 11, 36, 20, 34, 44, 52,
)  # fmt: skip


def defaults() -> dict[str, bool]:
    return dict.fromkeys(RULES, True)


def mixin_key(img_key: str, sub_key: str) -> str:
    raw = img_key + sub_key
    return "".join(raw[i] for i in MIXIN_TABLE)[:32]


def new_wbi_keys() -> tuple[str, str]:
    return secrets.token_hex(16), secrets.token_hex(16)


def is_browser(req: Request) -> bool:
    """Does the request carry a browser User-Agent and a live.bilibili.com Referer?"""
    ua = req.headers.get("user-agent", "")
    referer = req.headers.get("referer", "")
    return ua.startswith(BROWSER_UA_PREFIX) and (
        referer == LIVE_ORIGIN or referer.startswith(LIVE_ORIGIN + "/")
    )


def forbidden() -> Response:
    return error_page(403)


def risk_control(message: str | None = None) -> Response:
    """-352 as the site sends it: a v_voucher for the captcha flow, in data and a header."""
    voucher = f"voucher_{uuid.uuid4()}"
    response = fail(-352, message, {"v_voucher": voucher})
    response.headers.append(("x-bili-gaia-vvoucher", voucher))
    return response


def wbi_valid(state: State, req: Request) -> bool:
    """Is the query's w_rid the signature, with the current keys, of its other parameters?

    Recomputed over the parameters as sent (spaces as %20 or "+": §7.3 says both are in use),
    sorted, with !'()* already stripped by the client. wts's age is not checked.
    """
    pairs = parse_qsl(req.query_string, keep_blank_values=True)
    w_rid = next((v for k, v in pairs if k == "w_rid"), "").lower()
    params = sorted((k, v) for k, v in pairs if k != "w_rid")
    if not w_rid or not any(k == "wts" for k, _ in params):
        return False
    key = mixin_key(*state.wbi_keys)
    for encode in (quote, quote_plus):
        query = "&".join(
            f"{encode(k, safe='')}={encode(v, safe='')}" for k, v in params
        )
        if hashlib.md5((query + key).encode()).hexdigest() == w_rid:
            return True
    return False
