"""What a Bilibili user has published: the app space list, the web (WBI) list, the user card.

One function per endpoint, each answering a SpacePage of SpaceVideo whatever the wire shape, so
the catalog code (creators/catalogs.py) pages through any provider the same way. JustOneAPI
(justoneapi.py, next to this module) wraps the app answer, and reuses parse_app_page().

Reference: bilibili-protocol.md §7.1 (app cursor endpoint, no login), §7.2 (web endpoint),
§7.3 (WBI signing), §2 (nav's wbi_img, logged out too). The user card
(/x/web-interface/card) is not in the reference: it is the public endpoint the web space page
uses for name and face, read here for those two fields only.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from biliup_site.bilibili.http import (
    BilibiliError,
    BilibiliUnavailable,
    api_url,
    app_url,
    call,
)
from biliup_site.bilibili.sign import wbi_keys_from_urls, wbi_mixin_key, wbi_sign

APP_PAGE_SIZE = 20
WBI_PAGE_SIZE = 30
# §7.3: the keys change about daily; biliup re-reads them every 2 h.
WBI_KEYS_SECONDS = 2 * 3600


@dataclass(frozen=True)
class SpaceVideo:
    aid: int
    bvid: str
    title: str
    cover: str
    duration: int  # seconds
    play: int
    danmaku: int
    published: datetime
    category: str
    author: str
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class SpacePage:
    videos: list[SpaceVideo]
    count: int | None  # how many videos the user has, if the endpoint says
    has_next: bool
    cursor: (
        str | None
    )  # what asks for the next page: the last aid (app), the next pn (web)


def _unexpected(what: str, detail: str) -> BilibiliUnavailable:
    return BilibiliUnavailable(f"unexpected answer from the {what}: {detail}")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return 0


def _seconds(length: Any) -> int:
    """ "22:11" or "1:02:03" (the web list's `length`) in seconds."""
    if isinstance(length, int):
        return length
    total = 0
    for part in str(length or "").split(":"):
        if not part.isdigit():
            return 0
        total = total * 60 + int(part)
    return total


def _when(unix: Any) -> datetime:
    return datetime.fromtimestamp(_int(unix), UTC)


def parse_app_page(data: Any, what: str = "app space list") -> SpacePage:
    """§7.1's `data`: item[] (param is the aid), has_next, count."""
    if not isinstance(data, dict):
        raise _unexpected(what, "no data object")
    items = data.get("item") or []
    if not isinstance(items, list):
        raise _unexpected(what, "item is not a list")
    videos = []
    for item in items:
        if not isinstance(item, dict) or not item.get("bvid"):
            continue  # not a video (the app list may mix in other cards)
        videos.append(
            SpaceVideo(
                aid=_int(item.get("param")) or _int(item.get("aid")),
                bvid=str(item["bvid"]),
                title=str(item.get("title") or ""),
                cover=str(item.get("cover") or ""),
                duration=_int(item.get("duration")),
                play=_int(item.get("play")),
                danmaku=_int(item.get("danmaku")),
                published=_when(item.get("ctime")),
                category=str(item.get("tname") or ""),
                author=str(item.get("author") or ""),
                raw=item,
            )
        )
    has_next = bool(data.get("has_next")) and bool(items)
    last = items[-1] if items and isinstance(items[-1], dict) else {}
    cursor = str(last.get("param") or "") or None
    count = data.get("count")
    return SpacePage(
        videos=videos,
        count=count if isinstance(count, int) else None,
        has_next=has_next and cursor is not None,
        cursor=cursor,
    )


def app_page(sess: requests.Session, mid: int, cursor: str | None = None) -> SpacePage:
    """One page of §7.1, newest first; `cursor` is the previous page's last aid."""
    # Reference: §7.1 space/archive/cursor (app host, no login).
    params: dict[str, Any] = {"vmid": mid, "order": "pubdate", "ps": APP_PAGE_SIZE}
    if cursor:
        params["aid"] = cursor
    data = call(
        sess,
        "GET",
        app_url("/x/v2/space/archive/cursor"),
        params=params,
    )
    return parse_app_page(data)


class _WbiKeys:
    """nav's WBI mixin key, shared by the threads of a process and re-read every 2 h."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mixin: str | None = None
        self.read_at = 0.0

    def get(self, sess: requests.Session, fresh: bool = False) -> str:
        with self.lock:
            expired = time.monotonic() - self.read_at > WBI_KEYS_SECONDS
            if self.mixin is None or expired or fresh:
                self.mixin = _read_mixin(sess)
                self.read_at = time.monotonic()
            return self.mixin

    def forget(self) -> None:
        with self.lock:
            self.mixin = None


WBI_KEYS = _WbiKeys()


def _read_mixin(sess: requests.Session) -> str:
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
        raise _unexpected("nav endpoint", "no wbi_img keys")
    img_key, sub_key = wbi_keys_from_urls(wbi["img_url"], wbi["sub_url"])
    try:
        return wbi_mixin_key(img_key, sub_key)
    except ValueError as exc:
        raise _unexpected("nav endpoint", str(exc)) from None


def wbi_page(sess: requests.Session, mid: int, pn: int = 1) -> SpacePage:
    """One page of §7.2, newest first. A signature refused once (-403, -352) is retried with
    keys read afresh: they change about daily."""
    # Reference: §7.2 space/wbi/arc/search, signed as §7.3 says.
    params = {"mid": mid, "pn": pn, "ps": WBI_PAGE_SIZE, "order": "pubdate"}
    url = api_url("/x/space/wbi/arc/search")
    try:
        data = call(sess, "GET", url, params=wbi_sign(params, WBI_KEYS.get(sess)))
    except BilibiliError as exc:
        if exc.code not in (-403, -352):
            raise
        mixin = WBI_KEYS.get(sess, fresh=True)
        data = call(sess, "GET", url, params=wbi_sign(params, mixin))
    return _parse_wbi_page(data, pn)


def _parse_wbi_page(data: Any, pn: int) -> SpacePage:
    what = "web space list"
    if not isinstance(data, dict):
        raise _unexpected(what, "no data object")
    if "list" not in data and data.get("v_voucher"):
        # §7.3: a refused signature may come back as code 0 with only a voucher.
        raise BilibiliError(-352, "risk control voucher instead of a list", data)
    listing = data.get("list") or {}
    page = data.get("page") or {}
    if not isinstance(listing, dict) or not isinstance(page, dict):
        raise _unexpected(what, "list or page is not an object")
    vlist = listing.get("vlist") or []
    if not isinstance(vlist, list):
        raise _unexpected(what, "vlist is not a list")
    tlist = listing.get("tlist") or {}
    names = {
        _int(t.get("tid")): str(t.get("name") or "")
        for t in (tlist.values() if isinstance(tlist, dict) else [])
        if isinstance(t, dict)
    }
    videos = [
        SpaceVideo(
            aid=_int(item.get("aid")),
            bvid=str(item["bvid"]),
            title=str(item.get("title") or ""),
            cover=str(item.get("pic") or ""),
            duration=_seconds(item.get("length")),
            play=_int(item.get("play")),
            danmaku=_int(item.get("video_review")),
            published=_when(item.get("created")),
            category=names.get(_int(item.get("typeid")), ""),
            author=str(item.get("author") or ""),
            raw=item,
        )
        for item in vlist
        if isinstance(item, dict) and item.get("bvid")
    ]
    count = _int(page.get("count"))
    ps = _int(page.get("ps")) or WBI_PAGE_SIZE
    has_next = bool(vlist) and pn * ps < count
    return SpacePage(
        videos=videos,
        count=count,
        has_next=has_next,
        cursor=str(pn + 1) if has_next else None,
    )


@dataclass(frozen=True)
class Card:
    name: str
    face: str


def card(sess: requests.Session, mid: int) -> Card:
    """The user's name and face from the public user card."""
    # Reference: none (see the module's docstring): web-interface/card, public.
    data = call(sess, "GET", api_url("/x/web-interface/card"), params={"mid": mid})
    info = data.get("card") if isinstance(data, dict) else None
    if not isinstance(info, dict):
        raise _unexpected("user card", "no card object")
    return Card(name=str(info.get("name") or ""), face=str(info.get("face") or ""))
