"""What a Bilibili user has published: the app space list, the web (WBI) list, the user card.

One function per endpoint, each answering a SpacePage of SpaceVideo whatever the wire shape, so
the catalog code (creators/catalogs.py) pages through any provider the same way. JustOneAPI
(justoneapi.py, next to this module) wraps the app answer, and reuses parse_app_page().

As the real site wants them today: the app list app-signed with the TV key and sent with the app
User-Agent (a bare call is -400); arc/search WBI-signed through risk.py's shared key cache, with
the dm_* parameters, platform=web, the space page's web_location and a buvid3 cookie (without
them: -352). Take the session from session(): it is paced per host (pace.py), and a -352, -412
or -799 holds the host back and comes out as pace.RiskControlled.

Reference: bilibili-2026.md "Space lists"; bilibili-protocol.md §0 (APP sign), §7.1 (app cursor
endpoint, no login), §7.2 (web endpoint), §7.3 (WBI signing), §2 (nav's wbi_img, logged out
too). The user card (/x/web-interface/card) is not in the reference: it is the public endpoint
the web space page uses for name and face, read here for those two fields only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from biliup_site.bilibili import http, risk
from biliup_site.bilibili.http import (
    APP_UA,
    BilibiliError,
    BilibiliUnavailable,
    api_url,
    app_url,
    call,
)
from biliup_site.bilibili.pace import PACE, paced
from biliup_site.bilibili.sign import APP_KEYS, app_sign

APP_PAGE_SIZE = 20
WBI_PAGE_SIZE = 30
# The app list is signed as the TV client signs (§0 "APP sign"; the reference's evidence).
APP_KEY = APP_KEYS["BiliTV"]
# The app sends no Referer (None drops the session's).
APP_HEADERS: dict[str, str | None] = {"User-Agent": APP_UA, "Referer": None}


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
    """A unix time from the list; one that is not a number or past year 9999 reads as 0, as
    _int does with junk."""
    try:
        return datetime.fromtimestamp(_int(unix), UTC)
    except (OverflowError, OSError, ValueError):
        return datetime.fromtimestamp(0, UTC)


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


def session() -> requests.Session:
    """A browser session paced per host (pace.py): the one to pass to this module's calls."""
    return paced(http.session())


def app_page(sess: requests.Session, mid: int, cursor: str | None = None) -> SpacePage:
    """One page of §7.1, newest first; `cursor` is the previous page's last aid."""
    # Reference: §7.1 space/archive/cursor (app host, no login), app-signed (§0; 2026: a bare
    # call is -400).
    params: dict[str, Any] = {"vmid": mid, "order": "pubdate", "ps": APP_PAGE_SIZE}
    if cursor:
        params["aid"] = cursor
    url = app_url("/x/v2/space/archive/cursor")
    data = PACE.guarded(
        url,
        lambda: call(
            sess, "GET", url, params=app_sign(params, APP_KEY), headers=APP_HEADERS
        ),
    )
    return parse_app_page(data)


def wbi_page(sess: requests.Session, mid: int, pn: int = 1) -> SpacePage:
    """One page of §7.2, newest first. A signature refused (-403, -352) is retried once with
    keys read afresh (risk.wbi_call): they change about daily."""
    # Reference: §7.2 space/wbi/arc/search, signed as §7.3 says, with what bilibili-2026.md
    # says the site wants beside WBI (dm_*, platform, web_location, buvid3).
    params: dict[str, Any] = {
        "mid": mid,
        "pn": pn,
        "ps": WBI_PAGE_SIZE,
        "order": "pubdate",
        "platform": "web",
        "web_location": risk.SPACE_WEB_LOCATION,
        **risk.dm_params(),
    }
    url = api_url("/x/space/wbi/arc/search")
    risk.ensure_buvid3(sess)
    # Inside guarded: a voucher in a code-0 answer is a -352 too.
    return PACE.guarded(
        url, lambda: _parse_wbi_page(risk.wbi_call(sess, url, params), pn)
    )


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
    url = api_url("/x/web-interface/card")
    data = PACE.guarded(url, lambda: call(sess, "GET", url, params={"mid": mid}))
    info = data.get("card") if isinstance(data, dict) else None
    if not isinstance(info, dict):
        raise _unexpected("user card", "no card object")
    return Card(name=str(info.get("name") or ""), face=str(info.get("face") or ""))
