"""Request signing: the app sign (appkey + md5 over sorted params) and the web's WBI signature.

Reference: the Bilibili protocol doc §0 ("APP sign", app keys) and §7.3 (WBI).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote, urlencode, urlsplit


@dataclass(frozen=True)
class AppKey:
    appkey: str
    appsec: str


# Public constants from biliup's source (protocol doc §0). A token only works with the key
# pair that issued it (-663 otherwise), so callers pick the key matching cookies.json "platform".
APP_KEYS: dict[str, AppKey] = {
    "BiliTV": AppKey("4409e2ce8ffd12b8", "59b43e04ad6965f34319062b478f83dd"),
    "Android": AppKey("783bbb7264451d82", "2653583c8873dea268ab9386918b1d65"),
    "BCut": AppKey("5dce947fe22167f9", "5491a31c6bc11fb764a9b1f8d4acf092"),
}

# §7.3: the order in which the 64 characters of img_key + sub_key are mixed.
WBI_MIXIN_TABLE = (
    46, 47, 18, 2, 53, 8, 23, 32, 15, 50, 10, 31, 58, 3, 45, 35,
    27, 43, 5, 49, 33, 9, 42, 19, 29, 28, 14, 39, 12, 38, 41, 13,
    37, 48, 7, 16, 24, 55, 40, 61, 26, 17, 0, 1, 60, 51, 30, 4,
    22, 25, 54, 21, 56, 59, 6, 63, 57, 62, 11, 36, 20, 34, 44, 52,
)  # fmt: skip
WBI_STRIPPED_CHARS = str.maketrans("", "", "!'()*")


def app_sign(params: Mapping[str, Any], key: AppKey) -> dict[str, str]:
    """params + appkey (+ ts=now if not given) + sign, per §0 "APP sign".

    sign = md5hex(urlencode(params sorted by key) + appsec). Values become strings.
    """
    signed = {k: str(v) for k, v in params.items() if k != "sign"}
    signed["appkey"] = key.appkey
    signed.setdefault("ts", str(int(time.time())))
    query = urlencode(sorted(signed.items()))
    signed["sign"] = hashlib.md5((query + key.appsec).encode()).hexdigest()
    return signed


def wbi_mixin_key(img_key: str, sub_key: str) -> str:
    """The 32-character WBI key mixed from nav's img_key and sub_key (§7.3 step 2)."""
    raw = img_key + sub_key
    if len(raw) < len(WBI_MIXIN_TABLE):
        raise ValueError(f"WBI keys too short: {len(raw)} characters, expected 64")
    return "".join(raw[i] for i in WBI_MIXIN_TABLE)[:32]


def wbi_keys_from_urls(img_url: str, sub_url: str) -> tuple[str, str]:
    """(img_key, sub_key): the file names without extension of nav's wbi_img URLs."""
    return (
        PurePosixPath(urlsplit(img_url).path).stem,
        PurePosixPath(urlsplit(sub_url).path).stem,
    )


def wbi_sign(
    params: Mapping[str, Any], mixin_key: str, wts: int | None = None
) -> dict[str, str]:
    """params + wts + w_rid, per §7.3.

    The returned values have !'()* removed, as the web client sends them: a server that signs
    what it receives and one that strips first agree on w_rid either way.
    """
    signed = {
        k: str(v).translate(WBI_STRIPPED_CHARS)
        for k, v in params.items()
        if k not in ("w_rid", "wts")
    }
    signed["wts"] = str(int(time.time()) if wts is None else wts)
    # quote(safe="") keeps exactly A-Za-z0-9-_.~ and writes upper-case UTF-8 escapes: the
    # encodeURIComponent of the web client once !'()* are gone. urlencode would turn " " into "+".
    query = "&".join(
        f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(signed.items())
    )
    signed["w_rid"] = hashlib.md5((query + mixin_key).encode()).hexdigest()
    return signed
