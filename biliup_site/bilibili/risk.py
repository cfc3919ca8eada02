"""Passing Bilibili's risk control the way the web client does: WBI signatures with nav's keys
(cached, re-read on refusal at most once a minute), the buvid3 cookie, and the dm_* fingerprint
parameters that `arc/search` wants beside WBI.

The live calls (getRoomPlayInfo, getInfoByRoom, getDanmuInfo) and the space list all go through
`wbi_call`, so one key cache serves the whole process.

Reference: bilibili-2026.md ("WBI signature", "buvid3", arc/search's dm_* parameters) and
bilibili-protocol.md §2 (nav's wbi_img, logged out too) and §7.3 (the signature).
"""

from __future__ import annotations

import base64
import logging
import random
import threading
import time
import uuid
from typing import Any

import requests

from biliup_site.bilibili.http import (
    BilibiliError,
    BilibiliUnavailable,
    api_url,
    call,
)
from biliup_site.bilibili.sign import wbi_keys_from_urls, wbi_mixin_key, wbi_sign

logger = logging.getLogger(__name__)

# The keys change about daily: read them again after 3 h (the reference says 2–4 h).
WBI_KEYS_SECONDS = 3 * 3600
# A -352 may mean the keys rotated, or only that the site dislikes us: re-read them at most this
# often, so a refusing site is not hammered with nav calls.
WBI_REREAD_SECONDS = 60
REFUSED = (-352, -403)
# What the live room page sends as web_location.
LIVE_WEB_LOCATION = "444.8"
# What the space page sends.
SPACE_WEB_LOCATION = "1550101"


class WbiKeys:
    """nav's WBI mixin key, shared by the threads of a process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mixin: str | None = None
        self.read_at = -float("inf")
        self.reread_at = -float("inf")  # the last read forced by a refusal

    def get(self, sess: requests.Session) -> str:
        with self.lock:
            if self.mixin is None or time.monotonic() - self.read_at > WBI_KEYS_SECONDS:
                self._read(sess)
            assert self.mixin is not None
            return self.mixin

    def refused(self, sess: requests.Session, used: str) -> str | None:
        """The signature made with `used` was refused: the key to retry with, or None when
        the keys were re-read less than a minute ago and are no different (don't retry)."""
        with self.lock:
            if self.mixin != used:
                return self.mixin  # another thread has read new keys since
            if time.monotonic() - self.reread_at < WBI_REREAD_SECONDS:
                return None
            self.reread_at = time.monotonic()
            self._read(sess)
            return self.mixin

    def forget(self) -> None:
        with self.lock:
            self.mixin = None
            self.read_at = self.reread_at = -float("inf")

    def _read(self, sess: requests.Session) -> None:
        self.mixin = read_mixin(sess)
        self.read_at = time.monotonic()


WBI_KEYS = WbiKeys()


def _unexpected(detail: str) -> BilibiliUnavailable:
    return BilibiliUnavailable(f"unexpected answer from the nav endpoint: {detail}")


def read_mixin(sess: requests.Session) -> str:
    """The WBI mixin key of nav's current keys."""
    # Reference: §2 nav (wbi_img), §7.3 (the mixin key).
    try:
        data = call(sess, "GET", api_url("/x/web-interface/nav"))
    except BilibiliError as exc:
        # §2: logged out, nav answers -101 and still carries wbi_img.
        if exc.code != -101:
            raise
        data = exc.data
    wbi = data.get("wbi_img") if isinstance(data, dict) else None
    if not isinstance(wbi, dict) or not wbi.get("img_url") or not wbi.get("sub_url"):
        raise _unexpected("no wbi_img keys")
    img_key, sub_key = wbi_keys_from_urls(wbi["img_url"], wbi["sub_url"])
    try:
        return wbi_mixin_key(img_key, sub_key)
    except ValueError as exc:
        raise _unexpected(str(exc)) from None


def wbi_call(
    sess: requests.Session, url: str, params: dict[str, Any], **kwargs: Any
) -> Any:
    """GET `url` with `params` WBI-signed; the envelope's data. On -352/-403 the keys are read
    again (at most once a minute across the process) and the call is sent once more."""
    mixin = WBI_KEYS.get(sess)
    try:
        return call(sess, "GET", url, params=wbi_sign(params, mixin), **kwargs)
    except BilibiliError as exc:
        if exc.code not in REFUSED:
            raise
        fresh = WBI_KEYS.refused(sess, mixin)
        if fresh is None:
            raise
        logger.info("WBI call refused (%s): retrying with keys read again", exc.code)
        return call(sess, "GET", url, params=wbi_sign(params, fresh), **kwargs)


# --- buvid3 ----------------------------------------------------------------------------------


def ensure_buvid3(sess: requests.Session) -> str:
    """The session's buvid3 cookie, asked of /x/frontend/finger/spi once, or made up the way
    the web client's is when that fails (a UUID with "infoc" after it)."""
    current = sess.cookies.get("buvid3")
    if current:
        return current
    buvid3 = ""
    try:
        data = call(sess, "GET", api_url("/x/frontend/finger/spi"))
        if isinstance(data, dict):
            buvid3 = str(data.get("b_3") or "")
            if data.get("b_4"):
                sess.cookies.set("buvid4", str(data["b_4"]))
    except (BilibiliError, BilibiliUnavailable) as exc:
        logger.info("finger/spi failed (%s): making a buvid3 up", exc)
    if not buvid3:
        buvid3 = f"{str(uuid.uuid4()).upper()}{random.randint(10000, 99999)}infoc"
    sess.cookies.set("buvid3", buvid3)
    return buvid3


# --- dm_* ------------------------------------------------------------------------------------


def _b64(text: str) -> str:
    # The web client strips the padding.
    return base64.b64encode(text.encode()).decode().rstrip("=")


def dm_params() -> dict[str, str]:
    """The fingerprint parameters the space page adds to arc/search: an empty mouse trail,
    the WebGL version and renderer (base64, padding stripped), and a small interaction record."""
    return {
        "dm_img_list": "[]",
        "dm_img_str": _b64("WebGL 1.0 (OpenGL ES 2.0 Chromium)"),
        "dm_cover_img_str": _b64(
            "ANGLE (Intel, Intel(R) UHD Graphics 630 (0x00003E9B) Direct3D11 "
            "vs_5_0 ps_5_0, D3D11)Google Inc. (Intel)"
        ),
        "dm_img_inter": '{"ds":[],"wh":[0,0,0],"of":[0,0,0]}',
    }
